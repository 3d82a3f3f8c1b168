/**
 * The Redis broker: nodes of a cluster meet on Redis (one server or a Redis
 * Cluster) through `@redis/client`, with one connection for commands and one
 * for subscriptions per node.
 *
 * Design (interest-based, encode once):
 * - Channels, under `prefix` (default "sb:"): `t:<topic>` carries publishes
 *   to a topic, `p:<pattern>` publishes matching a pattern, `ctl` the cluster's
 *   control traffic (HELLO, heartbeats and pattern announcements as STATE,
 *   INTEREST, GOODBYE, requests) and `n:<nodeId>` what is sent to one node (replies,
 *   acks, answers to a HELLO). Sharded pub/sub (SSUBSCRIBE/SPUBLISH) is used
 *   where the server has it (Redis 7+), so in a cluster each channel lives on
 *   the shard owning its slot; older servers get SUBSCRIBE/PUBLISH.
 * - A node subscribes only to the channels of the topics and patterns its
 *   local handlers hold, so a node with no interest in a topic receives none
 *   of its traffic. Subscriptions of one tick are batched into one command
 *   (per slot in a cluster): Socket.IO makes one topic per socket room.
 * - Sharded pub/sub has no patterns. Every node announces its pattern
 *   subscriptions (STATE frames on `ctl`: when they change, acknowledged by
 *   every node before `subscribe` resolves, and again with each heartbeat; a
 *   joining node's HELLO is answered by everyone's STATE). A publish to topic
 *   T is sent to `t:T` (a frame without the topic: the channel names it) and,
 *   encoded once more with its topic, to `p:<pattern>` for each distinct
 *   pattern of another node matching T: the payload crosses Redis once per
 *   publish per matching subscription name, never once per subscriber.
 * - Lonely channels (redis-lonely.ts): when a publish's reply says nobody but
 *   this node received it, later publishes to that topic's channel are skipped
 *   (counted in `stats.skipped`) until another node subscribes to it (its
 *   INTEREST frame, acknowledged by every node before its `subscribe`
 *   resolves), a node comes or goes, or a probe one heartbeat later finds a
 *   receiver. So a node reads no echo of what only its own members need.
 * - Liveness: a STATE heartbeat every `heartbeatInterval`; a node not heard
 *   for two intervals is dropped, a GOODBYE (on `close()`) drops it at once.
 *   Requests go to every live node on `ctl`; each answers on the requester's
 *   `n:` channel (with nothing when it has no responder); a node that drops
 *   while a request waits for it is listed in `missing` at once.
 * - Faults: while Redis is unreachable the node keeps serving its local
 *   clients. What an outage loses, and nothing more: this node's publishes
 *   from the moment its connection fails until it is back (not buffered:
 *   dropped and counted in `stats.lost`, one per publish, so memory stays
 *   bounded and the loss is visible), the requests made meanwhile (they
 *   answer at once with every node missing), and other nodes' publishes that
 *   Redis could not deliver to this node while its subscriber was away (Redis
 *   pub/sub keeps no history; they count in the publisher's `stats.lost` when
 *   the publisher's own link was down too). The connections retry with
 *   exponential backoff and jitter (`backoff`); on their return every
 *   subscription, exact and pattern, is subscribed again, peers get two fresh
 *   heartbeat intervals instead of being dropped for the silence, the node
 *   says HELLO again (re-learning patterns changed meanwhile) and
 *   `stats.reconnects` grows. Loss and return are logged as warnings.
 * - Frames carry a version and magic (see redis-frame.ts); foreign, malformed
 *   or other-version frames are dropped, counted in `stats.dropped` and
 *   logged (at most one line per 10 s), never thrown.
 */
import { randomBytes } from "node:crypto";
import { defaultLogger, type Logger } from "../shared/logger.js";
import {
  type Broker,
  BrokerError,
  type BrokerHandler,
  type BrokerResponder,
  type BrokerStats,
  countRequest,
  matchTopic,
  type NodeListener,
  newBrokerStats,
  type RequestOptions,
  type RequestResult,
  type SubscribeOptions,
  type Unsubscribe,
} from "./broker.js";
import { AckTable } from "./redis-acks.js";
import { ChannelSync } from "./redis-channels.js";
import type { RedisLibrary } from "./redis-compat.js";
import {
  decodeFrame,
  encodeAck,
  encodeGoodbye,
  encodeProbe,
  encodePublish,
  encodeReply,
  encodeRequest,
  encodeState,
  type Frame,
  FrameKind,
  type Origin,
  originBytes,
  sentAgo,
} from "./redis-frame.js";
import { LonelyChannels } from "./redis-lonely.js";
import { PeerTable } from "./redis-peers.js";
import { RequestTable } from "./redis-requests.js";
import { RedisTransport } from "./redis-transport.js";

export interface RedisBrokerOptions {
  /** Redis URL when no client is given. Default redis://127.0.0.1:6379 (through the client's default). */
  url?: string;
  /** A `@redis/client` client (or cluster) for commands; it is not closed by `close()`. */
  client?: unknown;
  /** A client for subscriptions, one per broker; default a duplicate of `client`, or a new connection. */
  subscriber?: unknown;
  /** The `@redis/client` module (1.6, 5 or 6) to connect with; default the installed one. */
  library?: RedisLibrary;
  /** Use Redis Cluster: `true` (the `url` as root node) or the root nodes. */
  cluster?: { rootNodes: Array<{ url: string }> } | boolean;
  /** This node's id (1-255 bytes); default 16 random hex digits. */
  nodeId?: string;
  /** Prefix of every channel name. Default "sb:". */
  prefix?: string;
  /** Milliseconds between heartbeats; a node silent for two is dropped. Default 5000. */
  heartbeatInterval?: number;
  /** Default request timeout, and the longest wait for acknowledgements. Default 5000. */
  requestTimeout?: number;
  /** Milliseconds `ready()` waits before rejecting (the broker keeps retrying). Default 10000. */
  readyTimeout?: number;
  /** Reconnect backoff: first delay and cap, in ms. Default 100 and 5000. */
  backoff?: { initial?: number; max?: number };
  /** Force sharded pub/sub on or off; detected from the server version by default. */
  sharded?: boolean;
  /** Where outages, reconnects and dropped frames are reported. */
  logger?: Logger;
  /**
   * How many lonely channels (no other node receives them, see
   * redis-lonely.ts) to remember and skip publishing to; 0 turns skipping off.
   * Default 10000.
   */
  lonelyChannels?: number;
}

/** The broker counters, plus what only Redis has. */
export interface RedisBrokerStats extends BrokerStats {
  /** Publishes not sent to their topic's channel because no other node receives it. */
  skipped: number;
}

/** INTEREST frames name at most this many topics (a reconnect names them all). */
const INTEREST_CHUNK = 1000;

/**
 * A broker over Redis or Redis Cluster.
 *
 * @example
 * import { RedisBroker } from "switchboard/redis";
 * const broker = new RedisBroker({ url: "redis://127.0.0.1:6379" });
 * await broker.ready();
 * await broker.subscribe("bayeux/chat/**", (topic, bytes) => deliver(topic, bytes), { pattern: true });
 * await broker.publish("bayeux/chat/room1", Buffer.from("hi"));
 */
export class RedisBroker implements Broker {
  readonly nodeId: string;
  readonly stats: RedisBrokerStats = { ...newBrokerStats(), skipped: 0 };

  /** Whether Redis is reachable now (false before the first connect, during an outage, once closed). */
  get connected(): boolean {
    return this.#up && !this.#closed;
  }
  #origin: Origin;
  readonly #prefix: string;
  readonly #ctl: string;
  readonly #inbox: string;
  readonly #heartbeatInterval: number;
  readonly #requestTimeout: number;
  readonly #readyTimeout: number;
  readonly #logger: Logger;
  readonly #transport: RedisTransport;
  readonly #peers: PeerTable;
  readonly #requests = new RequestTable();
  readonly #exact = new Map<string, Set<BrokerHandler>>();
  readonly #patterns = new Map<string, Set<BrokerHandler>>();
  readonly #responders = new Set<{ pattern: string; fn: BrokerResponder }>();
  readonly #acks = new AckTable();
  /** Channels on their way (subscribed, and for a pattern announced), by channel. */
  readonly #effective = new Map<string, Promise<void>>();
  readonly #channels: ChannelSync;
  readonly #lonely: LonelyChannels;
  readonly #started: Promise<void>;
  #nextId = 0;
  #up = false;
  #everUp = false;
  #downSince = 0;
  #lostAtDown = 0;
  #closed = false;
  #timers: NodeJS.Timeout[] = [];
  #lastDropLog = 0;
  #dropsUnlogged = 0;

  constructor(options: RedisBrokerOptions = {}) {
    this.nodeId = options.nodeId ?? randomBytes(8).toString("hex");
    this.#origin = originBytes(this.nodeId);
    this.#prefix = options.prefix ?? "sb:";
    this.#ctl = `${this.#prefix}ctl`;
    this.#inbox = `${this.#prefix}n:${this.nodeId}`;
    this.#heartbeatInterval = positive(options.heartbeatInterval ?? 5000, "heartbeatInterval");
    this.#requestTimeout = positive(options.requestTimeout ?? 5000, "requestTimeout");
    this.#readyTimeout = positive(options.readyTimeout ?? 10_000, "readyTimeout");
    this.#logger = options.logger ?? defaultLogger;
    const lonely = options.lonelyChannels ?? 10_000;
    if (!Number.isInteger(lonely) || lonely < 0)
      throw new BrokerError("ERR_BROKER_OPTIONS", "lonelyChannels must be an integer >= 0");
    this.#lonely = new LonelyChannels(lonely);
    this.#peers = new PeerTable((err) => this.#logger.error({ err }, "node listener failed"));
    // A node that comes or goes may hold channels this node thinks lonely.
    this.#peers.listen((event, node) => {
      this.#lonely.clear();
      if (event === "up") this.#logger.info({ node }, "node joined");
    });
    this.#transport = new RedisTransport({
      url: options.url,
      client: options.client,
      subscriber: options.subscriber,
      library: options.library,
      cluster: options.cluster,
      sharded: options.sharded,
      backoff: { initial: options.backoff?.initial ?? 100, max: options.backoff?.max ?? 5000 },
    });
    let connected: () => void = () => {};
    const listener = (message: Buffer, channel: Buffer) => this.#onMessage(message, channel);
    this.#channels = new ChannelSync(
      this.#transport,
      listener,
      this.#logger,
      new Promise<void>((resolve) => {
        connected = resolve;
      }),
      (added) => this.#interest(added),
    );
    this.#started = this.#start(connected);
    this.#started.catch(() => {});
  }

  /**
   * Resolves once connected, subscribed and introduced to the other nodes.
   * Rejects with `ERR_BROKER_UNAVAILABLE` after `timeout` ms (default the
   * `readyTimeout` option); the broker keeps retrying meanwhile, so a later
   * `ready()` can still resolve.
   */
  ready(timeout = this.#readyTimeout): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BrokerError(
              "ERR_BROKER_UNAVAILABLE",
              `Redis not reachable within ${timeout} ms (still retrying)`,
            ),
          ),
        timeout,
      );
    });
    return Promise.race([this.#started, expiry]).finally(() => clearTimeout(timer));
  }

  async #start(connected: () => void): Promise<void> {
    await this.#transport.connect((event, error) => this.#onLink(event, error));
    // Classic PUBLISH on a cluster counts the receivers of one shard only.
    if (this.#transport.cluster && !this.#transport.sharded) this.#lonely.limit = 0;
    const always = () => !this.#closed;
    this.#channels.mark(this.#ctl, always);
    this.#channels.mark(this.#inbox, always);
    connected();
    await this.#channels.flushSoon();
    this.#up = true;
    this.#everUp = true;
    this.#logger.info(
      { node: this.nodeId, pubsub: this.#transport.sharded ? "sharded" : "classic" },
      "broker connected to Redis",
    );
    const heartbeat = setInterval(() => this.#heartbeat(), this.#heartbeatInterval);
    const check = setInterval(() => this.#expire(), Math.max(10, this.#heartbeatInterval / 4));
    heartbeat.unref();
    check.unref();
    this.#timers.push(heartbeat, check);
    await this.#hello();
  }

  /** Says HELLO on `ctl` and waits (bounded) for every listening node's STATE. */
  async #hello(): Promise<void> {
    const id = this.#id();
    const frame = encodeState(FrameKind.HELLO, this.#origin, id, this.#patterns.keys());
    await this.#acks.wait(
      id,
      () => this.#transport.publish(this.#ctl, frame),
      [],
      this.#requestTimeout,
    );
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.#closed) return;
    this.stats.published++;
    if (!this.#up) {
      this.stats.lost++;
      return;
    }
    const exact = `${this.#prefix}t:${topic}`;
    const started = performance.now();
    const sends: Promise<unknown>[] = [];
    // One clock reading per publish, carried by each of its frames.
    const sent = Date.now();
    if (this.#lonely.skip(exact)) this.stats.skipped++;
    else {
      const epoch = this.#lonely.epoch;
      sends.push(
        this.#transport
          .publish(exact, encodePublish(this.#origin, undefined, payload, sent))
          .then((count) => this.#learn(exact, count, epoch)),
      );
    }
    const patterns = this.#peers.matchingPatterns(topic);
    if (patterns.length > 0) {
      // Pattern channels carry publishes of many topics: this frame names its own.
      const frame = encodePublish(this.#origin, topic, payload, sent);
      for (const pattern of patterns)
        sends.push(this.#transport.publish(`${this.#prefix}p:${pattern}`, frame));
    }
    if (sends.length === 0) return;
    try {
      await Promise.all(sends);
      this.stats.publishLatency?.observe((performance.now() - started) / 1000);
    } catch (err) {
      this.stats.lost++;
      this.#logger.debug({ topic, err }, "publish lost");
    }
  }

  /** Redis said `count` connections received a publish or probe on `channel` sent in `epoch`. */
  #learn(channel: string, count: number, epoch: number): void {
    if (this.#lonely.limit === 0) return;
    this.#lonely.learn(channel, count - (this.#channels.confirmed(channel) ? 1 : 0), epoch);
  }

  /**
   * Channels this node just subscribed: publishers that thought them lonely
   * must know before `subscribe` resolves, so INTEREST waits for every ACK.
   */
  async #interest(channels: string[]): Promise<void> {
    // A reply in flight may predate the subscription (this node not counted).
    this.#lonely.changed();
    const exact = `${this.#prefix}t:`;
    const topics = channels.filter((c) => c.startsWith(exact)).map((c) => c.slice(exact.length));
    if (topics.length === 0 || this.#closed) return;
    if (this.#transport.cluster && !this.#transport.sharded) return; // nobody skips
    const waits: Promise<void>[] = [];
    for (let i = 0; i < topics.length; i += INTEREST_CHUNK) {
      const id = this.#id();
      const frame = encodeState(
        FrameKind.INTEREST,
        this.#origin,
        id,
        topics.slice(i, i + INTEREST_CHUNK),
      );
      waits.push(
        this.#acks.wait(
          id,
          () => this.#transport.publish(this.#ctl, frame),
          this.#peers.ids(),
          this.#requestTimeout,
        ),
      );
    }
    await Promise.all(waits);
  }

  async subscribe(
    topic: string,
    handler: BrokerHandler,
    options: SubscribeOptions = {},
  ): Promise<Unsubscribe> {
    if (this.#closed) return async () => {};
    const pattern = options.pattern === true;
    const table = pattern ? this.#patterns : this.#exact;
    let handlers = table.get(topic);
    const fresh = handlers === undefined;
    if (handlers === undefined) {
      handlers = new Set();
      table.set(topic, handlers);
    }
    handlers.add(handler);
    const channel = `${this.#prefix}${pattern ? "p" : "t"}:${topic}`;
    if (fresh) {
      this.#channels.mark(channel, () => table.has(topic));
      const effective = this.#channels
        .flushSoon()
        .then(() => (pattern ? this.#announce(true) : undefined));
      this.#effective.set(channel, effective);
      await effective;
      if (this.#effective.get(channel) === effective) this.#effective.delete(channel);
    } else {
      // A later handler of a channel on its way waits for the same moment.
      await (this.#effective.get(channel) ?? this.#channels.flushSoon());
    }
    let active = true;
    return async () => {
      if (!active || this.#closed) return;
      active = false;
      const set = table.get(topic);
      if (set === undefined || !set.delete(handler) || set.size > 0) return;
      table.delete(topic);
      this.#channels.mark(channel, () => table.has(topic));
      await this.#channels.flushSoon();
      if (pattern && !table.has(topic)) await this.#announce(false);
    };
  }

  /** Tells every node this node's patterns; waits for their acks when one was added. */
  async #announce(wait: boolean): Promise<void> {
    if (!this.#up) return; // said again with the HELLO after the outage
    const id = this.#id();
    const frame = encodeState(FrameKind.STATE, this.#origin, id, this.#patterns.keys());
    const publish = () => this.#transport.publish(this.#ctl, frame);
    if (wait) await this.#acks.wait(id, publish, this.#peers.ids(), this.#requestTimeout);
    else await publish().catch(() => {});
  }

  async request(
    topic: string,
    payload: Uint8Array,
    options: RequestOptions = {},
  ): Promise<RequestResult> {
    const targets = this.#closed ? [] : this.#peers.ids();
    if (targets.length === 0) return { replies: [], missing: [] };
    const started = performance.now();
    const id = this.#id();
    const frame = encodeRequest(this.#origin, id, topic, payload);
    const result = this.#requests.open(id, targets, options.timeout ?? this.#requestTimeout);
    if (!this.#up) this.#requests.finish(id);
    else this.#transport.publish(this.#ctl, frame).catch(() => this.#requests.finish(id));
    return countRequest(this.stats, started, result);
  }

  async respond(pattern: string, responder: BrokerResponder): Promise<Unsubscribe> {
    if (this.#closed) return async () => {};
    const entry = { pattern, fn: responder };
    this.#responders.add(entry);
    return async () => {
      this.#responders.delete(entry);
    };
  }

  nodes(): string[] {
    return this.#closed ? [] : this.#peers.ids();
  }

  onNodes(listener: NodeListener): () => void {
    return this.#peers.listen(listener);
  }

  #onMessage(message: Buffer, channel: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(message);
    } catch (err) {
      this.#drop(err, channel);
      return;
    }
    if (this.#closed) return;
    if (frame.kind === FrameKind.PUBLISH || frame.kind === FrameKind.PROBE) {
      if (frame.tag === this.#origin.tag) return; // this node's echo
      if (frame.kind === FrameKind.PUBLISH)
        this.#deliver(frame.topic, frame.payload, frame.tag, channel.toString(), frame.sent);
      return;
    }
    if (frame.origin === this.nodeId) return;
    if (frame.tag === this.#origin.tag) this.#retag(frame.origin);
    this.#peers.tagged(frame.origin, frame.tag);
    switch (frame.kind) {
      case FrameKind.REQUEST:
        void this.#answer(frame.id, frame.topic, frame.payload, frame.origin);
        return;
      case FrameKind.REPLY:
        this.#requests.reply(frame.id, frame.origin, frame.payload);
        return;
      case FrameKind.HELLO:
        this.#lonely.clear();
        this.#peers.heard(frame.origin, frame.patterns, Date.now(), true);
        this.#send(
          frame.origin,
          encodeState(FrameKind.STATE, this.#origin, frame.id, this.#patterns.keys()),
        );
        return;
      case FrameKind.STATE:
        this.#peers.heard(frame.origin, frame.patterns, Date.now());
        if (frame.id === 0) return;
        if (channel.toString() === this.#ctl)
          this.#send(frame.origin, encodeAck(this.#origin, frame.id));
        else this.#acks.answered(frame.id, frame.origin);
        return;
      case FrameKind.INTEREST:
        this.#lonely.forget(frame.topics.map((topic) => `${this.#prefix}t:${topic}`));
        this.#send(frame.origin, encodeAck(this.#origin, frame.id));
        return;
      case FrameKind.ACK:
        this.#acks.answered(frame.id, frame.origin);
        return;
      case FrameKind.GOODBYE:
        this.#left(frame.origin);
        return;
    }
  }

  /** Another node runs under this process's tag: take a new one and say so. */
  #retag(other: string): void {
    this.#origin = originBytes(this.nodeId);
    this.#logger.warn({ node: other }, "another node had this node's frame tag; took a new one");
    if (this.#up) void this.#hello();
  }

  #deliver(
    named: string | undefined,
    payload: Buffer,
    tag: number,
    channel: string,
    sent: number | undefined,
  ): void {
    let handlers: Set<BrokerHandler> | undefined;
    const name = channel.slice(this.#prefix.length + 2);
    const topic = named ?? name;
    if (channel.startsWith(`${this.#prefix}t:`)) {
      if (name === topic) handlers = this.#exact.get(topic);
    } else if (channel.startsWith(`${this.#prefix}p:`) && named !== undefined) {
      if (matchTopic(name, named)) handlers = this.#patterns.get(name);
    }
    if (handlers === undefined) {
      if (!channel.startsWith(`${this.#prefix}t:`) && !channel.startsWith(`${this.#prefix}p:`))
        this.#drop(
          new BrokerError("ERR_FRAME_MALFORMED", "publish frame on a control channel"),
          channel,
        );
      return;
    }
    // A publish of a node not heard of yet (two nodes starting at once on a
    // Redis Cluster, where its HELLO may travel on another shard) has no origin.
    const origin = this.#peers.nodeOfTag(tag) ?? "";
    if (sent !== undefined) this.stats.receiveLatency?.observe(sentAgo(sent, Date.now()) / 1000);
    for (const handler of handlers) {
      this.stats.received++;
      try {
        handler(topic, payload, origin);
      } catch (err) {
        this.#logger.error({ topic, err }, "broker handler failed");
      }
    }
  }

  async #answer(id: number, topic: string, payload: Buffer, origin: string): Promise<void> {
    let answer: Uint8Array | undefined;
    for (const entry of this.#responders) {
      if (!matchTopic(entry.pattern, topic)) continue;
      try {
        answer = (await entry.fn(topic, payload, origin)) ?? undefined;
      } catch (err) {
        this.#logger.error({ topic, err }, "broker responder failed");
      }
      break;
    }
    if (!this.#closed) this.#send(origin, encodeReply(this.#origin, id, answer));
  }

  #left(node: string): void {
    const until = Date.now() + 2 * this.#heartbeatInterval;
    if (this.#peers.departed(node, until)) {
      this.#logger.info({ node }, "node left");
      this.#forgotten(node);
    }
  }

  /** A node is gone: requests and acknowledgements stop waiting for it. */
  #forgotten(node: string): void {
    this.#requests.gone(node);
    this.#acks.gone(node);
  }

  #send(node: string, frame: Buffer): void {
    this.#transport.publish(`${this.#prefix}n:${node}`, frame).catch((err) => {
      this.#logger.debug({ node, err }, "send to node failed");
    });
  }

  #heartbeat(): void {
    if (!this.#up || this.#closed) return;
    const frame = encodeState(FrameKind.STATE, this.#origin, 0, this.#patterns.keys());
    this.#transport.publish(this.#ctl, frame).catch(() => {});
    // Lonely marks are checked again once per interval, without a payload.
    const probe = encodeProbe(this.#origin);
    for (const channel of this.#lonely.sweep()) {
      const epoch = this.#lonely.epoch;
      this.#transport.publish(channel, probe).then(
        (count) => this.#learn(channel, count, epoch),
        () => {},
      );
    }
  }

  #expire(): void {
    if (!this.#up || this.#closed) return;
    for (const node of this.#peers.expire(Date.now() - 2 * this.#heartbeatInterval)) {
      this.#logger.warn({ node }, "node died: missed two heartbeats, dropped");
      this.#forgotten(node);
    }
  }

  #onLink(event: "up" | "down", error?: unknown): void {
    if (this.#closed) return;
    if (event === "down") {
      if (!this.#up && this.#everUp) return;
      this.#up = false;
      this.#lonely.clear();
      this.#downSince = Date.now();
      this.#lostAtDown = this.stats.lost;
      this.#logger.warn(
        { node: this.nodeId, err: asError(error) },
        this.#everUp
          ? "Redis connection lost; serving local clients only, publishes are dropped and counted until it is back; reconnecting with backoff"
          : "Redis unreachable at start; serving local clients only, retrying with backoff",
      );
      return;
    }
    if (!this.#everUp) return; // the start sequence takes over
    this.#up = true;
    this.#lonely.clear();
    this.stats.reconnects++;
    this.#peers.touchAll(Date.now());
    this.#channels.forgetAll();
    this.#markAll();
    this.#logger.warn(
      {
        node: this.nodeId,
        downMs: Date.now() - this.#downSince,
        lost: this.stats.lost - this.#lostAtDown,
        subscriptions: this.#exact.size + this.#patterns.size,
      },
      "Redis connection back; restoring subscriptions",
    );
    void this.#channels.flushSoon().then(() => this.#hello());
  }

  /** Marks every channel this node needs, for a flush after a reconnect. */
  #markAll(): void {
    const always = () => !this.#closed;
    this.#channels.mark(this.#ctl, always);
    this.#channels.mark(this.#inbox, always);
    for (const [kind, table] of [
      ["t", this.#exact],
      ["p", this.#patterns],
    ] as const)
      for (const key of table.keys())
        this.#channels.mark(`${this.#prefix}${kind}:${key}`, () => table.has(key));
  }

  #drop(err: unknown, channel: Buffer | string): void {
    this.stats.dropped++;
    const now = Date.now();
    if (now - this.#lastDropLog < 10_000) {
      this.#dropsUnlogged++;
      return;
    }
    this.#logger.warn(
      { channel: channel.toString(), err: asError(err), suppressed: this.#dropsUnlogged },
      "dropped a malformed or foreign broker message",
    );
    this.#lastDropLog = now;
    this.#dropsUnlogged = 0;
  }

  #id(): number {
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return this.#nextId;
  }

  /** Says GOODBYE (others drop this node at once), then leaves Redis. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#up) {
      // Bounded: a connection that died unnoticed never answers.
      const limit = Math.min(this.#requestTimeout, 1000);
      await within(this.#transport.publish(this.#ctl, encodeGoodbye(this.#origin)), limit);
      await within(this.#channels.leave(), limit);
    }
    this.#closed = true;
    this.#up = false;
    this.#requests.closeAll();
    this.#acks.closeAll();
    this.#channels.close();
    this.#exact.clear();
    this.#patterns.clear();
    this.#responders.clear();
    this.#peers.clear();
    await this.#transport.close();
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new BrokerError("ERR_BROKER_OPTIONS", `${name} must be a positive number of ms`);
  return value;
}

/** Waits for `promise` at most `ms`, ignoring how it ends. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function closedError(): BrokerError {
  return new BrokerError("ERR_BROKER_CLOSED", "broker closed");
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err ?? "no reason given");
}

/** What a log record carries as `err`: an Error, whatever was thrown. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describe(err));
}
