/**
 * The hub: the one place that knows about other nodes. It owns the local
 * topic routers (one "space" per Socket.IO namespace or Bayeux server) and
 * the Broker. Protocol layers name topics and hand over encoded envelopes;
 * the hub delivers nothing itself, it forwards a publish to the broker (once,
 * the broker decides who receives) and hands other nodes' messages to the
 * space that holds the topic.
 *
 * Interest-based: a space's router tells the hub when a topic gets its first
 * local subscriber and loses its last, and the hub subscribes on the broker
 * to exactly those topics. A node never receives its own publish (broker
 * contract), so a local delivery plus the forward never doubles a message.
 *
 * Without a broker the hub is local-only: routers get no hooks of its own,
 * publishes and requests cost nothing.
 */
import type { Broker, NodeListener, RequestResult } from "../cluster/broker.js";
import { createDebug } from "../shared/debug.js";
import { LogLimiter } from "../shared/log-limiter.js";
import type { Logger } from "../shared/logger.js";
import { type DecodedEnvelope, decodeEnvelope, type Envelope, encodeEnvelope } from "./envelope.js";
import { Interest, type InterestListener } from "./interest.js";
import { TopicRouter, type TopicRouterHooks } from "./topic-router.js";

const debug = createDebug("core:hub");

/** Counters of one hub. */
export interface HubStats {
  /** Messages handed to the broker (one per topic published to). */
  forwarded: number;
  /** Envelopes from other nodes handed to a space or a listener. */
  received: number;
  /** Messages from other nodes dropped: malformed, foreign or of another envelope version. */
  dropped: number;
}

/**
 * Receives another node's message on a topic of a space. `via` is the local
 * topic whose subscription brought it (a pattern for a wildcard
 * subscription); `topic` is the local topic it was published to.
 */
export type SpaceHandler = (
  via: string,
  topic: string,
  envelope: DecodedEnvelope,
  origin: string,
) => void;

export interface SpaceOptions {
  /** Prefix turning a local topic into a broker topic (`sio//chat/` + room). */
  prefix: string;
  /** Other nodes' messages on this space's topics. */
  onMessage: SpaceHandler;
  /** Whether a local topic is a pattern (subscribed on the broker as one). Default: none is. */
  isPattern?: (topic: string) => boolean;
  /** The protocol's own router hooks, run before the hub's. */
  hooks?: TopicRouterHooks;
}

/** Answers a request from another node with an envelope, or nothing. */
export type HubResponder = (
  envelope: DecodedEnvelope,
  origin: string,
) => Envelope | undefined | Promise<Envelope | undefined>;

/** One node's decoded answer. */
export interface HubReply {
  node: string;
  envelope: DecodedEnvelope;
}

/** What a hub request gathered: decoded answers and the nodes that did not answer. */
export interface HubRequestResult {
  replies: HubReply[];
  missing: string[];
}

const hubs = new WeakMap<Broker, Hub>();

/**
 * @example
 * const hub = Hub.for(broker); // the same hub for every server given this broker
 * const space = hub.space<string>({ prefix: "demo/", onMessage: (via, topic, env) => {} });
 * space.router.subscribe("sid1", "lobby"); // subscribes "demo/lobby" on the broker
 * space.publish("lobby", hub.encode({ type: "m", frames: ["hello"] }));
 */
export class Hub {
  /** The broker, or undefined for a local-only hub. */
  readonly broker: Broker | undefined;
  readonly stats: HubStats = { forwarded: 0, received: 0, dropped: 0 };
  /** Where dropped messages are warned of: the logger of the first server on this hub. */
  #logger: Logger | null = null;
  readonly #drops = new LogLimiter();
  readonly #interest: Interest | undefined;
  readonly #nodeId: string;

  constructor(broker?: Broker) {
    this.broker = broker;
    this.#interest = broker ? new Interest(broker) : undefined;
    this.#nodeId = broker?.nodeId ?? "local";
  }

  /**
   * The hub of `broker`, made on first use: a Socket.IO server and a Bayeux
   * server given the same broker share it.
   */
  static for(broker: Broker): Hub {
    let hub = hubs.get(broker);
    if (hub === undefined) {
      hub = new Hub(broker);
      hubs.set(broker, hub);
    }
    return hub;
  }

  /** This node's id ("local" without a broker). */
  get nodeId(): string {
    return this.#nodeId;
  }

  /** Whether messages leave this node (a broker is attached). */
  get clustered(): boolean {
    return this.broker !== undefined;
  }

  /** The other live nodes. */
  nodes(): string[] {
    return this.broker?.nodes() ?? [];
  }

  /** Learns of nodes coming and going. */
  onNodes(listener: NodeListener): () => void {
    return this.broker?.onNodes(listener) ?? (() => {});
  }

  /** Resolves once every broker subscription change asked for so far is effective. */
  settled(): Promise<void> {
    return this.#interest?.settled() ?? Promise.resolve();
  }

  /**
   * A space of topics: a router whose topics are subscribed on the broker
   * while they have local subscribers.
   */
  space<S>(options: SpaceOptions): HubSpace<S> {
    return new HubSpace<S>(this, this.#interest, options);
  }

  /** Encodes an envelope once, for any number of publishes. */
  encode(envelope: Envelope): Buffer {
    return encodeEnvelope(envelope);
  }

  /** Forwards encoded bytes to the other nodes listening on `topic` (no-op when local-only). */
  publish(topic: string, bytes: Uint8Array): void {
    const broker = this.broker;
    if (broker === undefined) return;
    this.stats.forwarded++;
    broker.publish(topic, bytes).catch((err: unknown) => debug("publish on %s: %s", topic, err));
  }

  /** Package-internal: a server on this hub offers its logger; the first one offered is kept. */
  offerLogger(logger: Logger): void {
    this.#logger ??= logger;
  }

  /** Decodes a broker payload, counting and logging (once per 10 s) a message it drops. */
  decode(topic: string, payload: Buffer, origin: string): DecodedEnvelope | undefined {
    try {
      const envelope = decodeEnvelope(payload);
      this.stats.received++;
      return envelope;
    } catch (err) {
      this.stats.dropped++;
      const suppressed = this.#drops.take();
      if (suppressed >= 0) {
        this.#logger?.warn(
          { topic, node: origin, err, suppressed },
          "dropped a malformed or foreign cluster message",
        );
      }
      return undefined;
    }
  }

  /**
   * Listens to other nodes' messages on one exact topic (a control topic);
   * returns the function that stops.
   */
  listen(topic: string, fn: (envelope: DecodedEnvelope, origin: string) => void): () => void {
    const interest = this.#interest;
    if (interest === undefined) return () => {};
    const listener: InterestListener = (t, payload, origin) => {
      const envelope = this.decode(t, payload, origin);
      if (envelope !== undefined) fn(envelope, origin);
    };
    interest.add(topic, listener);
    return () => interest.remove(topic, listener);
  }

  /**
   * Asks every other node; never rejects (nodes that did not answer in
   * `timeout` ms are listed in `missing`, malformed answers are dropped).
   */
  async request(topic: string, envelope: Envelope, timeout: number): Promise<HubRequestResult> {
    const broker = this.broker;
    if (broker === undefined) return { replies: [], missing: [] };
    let result: RequestResult;
    try {
      result = await broker.request(topic, encodeEnvelope(envelope), { timeout });
    } catch (err) {
      debug("request on %s failed: %s", topic, err);
      return { replies: [], missing: broker.nodes() };
    }
    const replies: HubReply[] = [];
    for (const reply of result.replies) {
      const decoded = this.decode(topic, reply.payload, reply.node);
      if (decoded !== undefined) replies.push({ node: reply.node, envelope: decoded });
    }
    return { replies, missing: result.missing };
  }

  /** Answers other nodes' requests on `topic`; returns the function that stops. */
  respond(topic: string, responder: HubResponder): () => void {
    const broker = this.broker;
    if (broker === undefined) return () => {};
    const answer = async (t: string, payload: Buffer, origin: string) => {
      const envelope = this.decode(t, payload, origin);
      if (envelope === undefined) return undefined;
      const out = await responder(envelope, origin);
      return out === undefined ? undefined : encodeEnvelope(out);
    };
    const off = broker.respond(topic, answer);
    off.catch((err: unknown) => debug("respond on %s failed: %s", topic, err));
    return () => {
      off.then((stop) => stop()).catch(() => {});
    };
  }
}

/**
 * The topics of one namespace or Bayeux server. The router is the
 * protocol's own; the hub hooks into its topic creation and deletion.
 */
export class HubSpace<S> {
  readonly router: TopicRouter<S>;
  readonly hub: Hub;
  readonly prefix: string;
  readonly #interest: Interest | undefined;
  readonly #listeners: Map<string, InterestListener> | undefined;
  readonly #options: SpaceOptions;
  #closed = false;

  constructor(hub: Hub, interest: Interest | undefined, options: SpaceOptions) {
    this.hub = hub;
    this.prefix = options.prefix;
    this.#options = options;
    this.#interest = interest;
    if (interest === undefined) {
      // Local-only: the protocol's hooks alone, nothing added to the hot path.
      this.router = new TopicRouter<S>(options.hooks);
      return;
    }
    this.#listeners = new Map();
    const own = options.hooks;
    this.router = new TopicRouter<S>({
      onCreate: (topic) => {
        own?.onCreate?.(topic);
        this.#want(topic);
      },
      onDelete: (topic) => {
        own?.onDelete?.(topic);
        this.#drop(topic);
      },
    });
  }

  /** Whether messages of this space leave the node. */
  get clustered(): boolean {
    return this.#interest !== undefined && !this.#closed;
  }

  #want(topic: string): void {
    const interest = this.#interest as Interest;
    const listeners = this.#listeners as Map<string, InterestListener>;
    if (this.#closed || listeners.has(topic)) return;
    const prefix = this.prefix;
    const onMessage = this.#options.onMessage;
    const listener: InterestListener = (message, payload, origin) => {
      if (!message.startsWith(prefix)) return;
      const envelope = this.hub.decode(message, payload, origin);
      if (envelope !== undefined) onMessage(topic, message.slice(prefix.length), envelope, origin);
    };
    listeners.set(topic, listener);
    interest.add(prefix + topic, listener, this.#options.isPattern?.(topic) === true);
  }

  #drop(topic: string): void {
    const listener = this.#listeners?.get(topic);
    if (listener === undefined) return;
    this.#listeners?.delete(topic);
    this.#interest?.remove(this.prefix + topic, listener);
  }

  /** Forwards encoded bytes to the other nodes holding local `topic`. */
  publish(topic: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    this.hub.publish(this.prefix + topic, bytes);
  }

  /** Stops listening on the broker (local routing keeps working). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    for (const topic of [...listeners.keys()]) this.#drop(topic);
  }
}
