/**
 * The Bayeux server's public face: sessions, channel routing, extensions,
 * services, events, and the server-side API (`publish`, `subscribe`,
 * `deliver`, `disconnectClient`, `close`). Transports call
 * {@link BayeuxServer.process}; nothing here touches a socket.
 */
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import {
  advertiseFor,
  Forwarder,
  type ForwardTarget,
  parseAdvertise,
} from "../../cluster/forward.js";
import type { Idempotency } from "../../cluster/idempotency.js";
import { idempotencyFor } from "../../cluster/idempotency-for.js";
import type { MessageLog } from "../../cluster/message-log.js";
import { OwnerLocator } from "../../cluster/owner-locator.js";
import {
  type BayeuxMessage,
  channelMatches,
  isChannelName,
  isMetaChannel,
  isServiceChannel,
  isSubscribable,
} from "../../codec/bayeux/index.js";
import { Hub, type TopicRouter } from "../../core/index.js";
import { createDebug, debugLogger } from "../../shared/debug.js";
import { LogLimiter } from "../../shared/log-limiter.js";
import { childLogger, debugEnabled, type Logger } from "../../shared/logger.js";
import { TimerWheel } from "../../shared/timer-wheel.js";
import { Adoption } from "./adoption.js";
import { ChannelLog, ChannelLogError } from "./channel-log.js";
import { ChannelRouter } from "./channels.js";
import { generateClientId } from "./client-id.js";
import { type ChannelSubscriber, Delivery, deliveryOf } from "./delivery.js";
import { BayeuxChannelError, BayeuxClosedError } from "./errors.js";
import { type BayeuxExtension, type HookGuard, pipe } from "./extensions.js";
import type {
  DisconnectReason,
  ProcessContext,
  ProcessorHost,
  ProcessResult,
  ServiceHandler,
} from "./host.js";
import { markLate } from "./late.js";
import { type BayeuxServerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { Processor } from "./processor.js";
import { BayeuxSession, type SessionOwner } from "./session.js";
import { SessionRecords } from "./session-records.js";
import { BayeuxStats, PENDING_CONNECTION } from "./stats.js";

const debug = createDebug("bayeux:server");

/** Events of {@link BayeuxServer}. */
export interface BayeuxServerEvents {
  handshake: [clientId: string];
  subscribe: [clientId: string, channel: string];
  unsubscribe: [clientId: string, channel: string];
  /** A publish routed to subscribers; `clientId` is null for `server.publish`. */
  publish: [clientId: string | null, channel: string, data: unknown];
  disconnect: [clientId: string, reason: DisconnectReason];
  /** This node took over the session of `clientId` from the dead node `from`. */
  adopt: [clientId: string, from: string];
  close: [];
}

/** A listener of `server.subscribe`. */
/**
 * A server-side subscriber. `origin` is the node that published the message
 * when another node of the cluster did, undefined when this one did.
 */
export type ChannelListener = (
  data: unknown,
  message: BayeuxMessage,
  origin: string | undefined,
) => void;

class LocalListener implements ChannelSubscriber {
  readonly #listener: ChannelListener;

  constructor(listener: ChannelListener) {
    this.#listener = listener;
  }

  deliver(delivery: Delivery): void {
    try {
      this.#listener(delivery.message.data, delivery.message, delivery.origin);
    } catch (err) {
      // A throwing listener must not stop delivery to the others.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

interface Service {
  pattern: string;
  handler: ServiceHandler;
}

/**
 * A Bayeux 1.0 server (the protocol of Faye and CometD).
 *
 * @example
 * const bayeux = new BayeuxServer({ timeout: 25000 });
 * bayeux.subscribe("/chat/**", (data) => console.log("chat", data));
 * bayeux.service("/service/echo", (message, session) => {
 *   bayeux.deliver(session.id, "/service/echo", message.data);
 * });
 * bayeux.publish("/chat/lobby", { text: "hello" });
 */
export class BayeuxServer
  extends EventEmitter<BayeuxServerEvents>
  implements SessionOwner, ProcessorHost
{
  readonly options: ResolvedOptions;
  /** Where this server logs: the `logger` option's `child({ component: "bayeux" })`. */
  readonly logger: Logger;
  readonly wheel: TimerWheel;
  readonly router: ChannelRouter;
  /** Counters read by the node stats and metrics (see `BayeuxStats`). */
  readonly stats = new BayeuxStats();
  /**
   * The message core: the hub of the `broker` option (shared with every
   * server given that broker), or a local-only hub of this server.
   */
  readonly hub: Hub;
  /** The deadline asynchronous extension hooks run under (one wheel, no timer per call). */
  readonly extensionGuard: HookGuard;
  /** The session store and ack log sessions write through to (options `sessionStore`, `ackLog`). */
  readonly records: SessionRecords;
  /** Where channel publishes go and are delivered from (option `channelLog`); null: the broker. */
  readonly channelLog: ChannelLog | null = null;
  readonly #owners: OwnerLocator;
  readonly #sessions = new Map<string, BayeuxSession>();
  readonly #extensions: BayeuxExtension[] = [];
  readonly #services: Service[] = [];
  readonly #processor: Processor;
  readonly #generateId: () => string;
  /** Forwards requests for clientIds other nodes own (option `forward`); null: 402. */
  readonly forwarder: Forwarder | null = null;
  /** Where publish ids are claimed (option `publishDedupeWindow`); null when that is off. */
  readonly #claims: Idempotency | null;
  readonly #ownsClaims: boolean;
  /** Peer addresses parsed, by advertised string. */
  #flushQueue: Set<BayeuxSession> | null = null;
  #closed = false;
  /** Takes over the sessions of dead owner nodes. */
  readonly #adoption: Adoption;
  /** Slow consumers dropped and channel-log failures are logged once per 10 s. */
  readonly #slowWarnings = new LogLimiter();
  readonly #storeFailures = new LogLimiter();

  constructor(options: BayeuxServerOptions = {}, topics?: TopicRouter<ChannelSubscriber>) {
    super();
    this.options = resolveOptions(options);
    this.logger = childLogger(options.logger ?? debugLogger("bayeux"), { component: "bayeux" });
    this.wheel = new TimerWheel({ resolution: this.options.timerResolution });
    this.hub = options.broker ? Hub.for(options.broker) : new Hub();
    this.hub.offerLogger(this.logger);
    // A router shared in-process (given `topics`) stays on this node.
    const logged = options.channelLog !== undefined && topics === undefined;
    this.router = new ChannelRouter(topics ?? this.hub, { logged });
    this.router.stats = this.stats;
    this.extensionGuard = { wheel: this.wheel, timeout: this.options.extensionTimeout };
    this.#processor = new Processor(this);
    this.#generateId = options.generateId ?? generateClientId;
    const o = this.options;
    this.records = new SessionRecords({
      store: options.sessionStore,
      log: options.ackLog,
      nodeId: options.nodeId ?? options.broker?.nodeId ?? randomBytes(8).toString("hex"),
      lifetime: o.timeout + o.interval + o.sessionGrace,
    });
    this.#owners = new OwnerLocator(this.records, { remember: false });
    if (logged) {
      this.channelLog = new ChannelLog({
        log: options.channelLog as MessageLog,
        nodeId: this.records.nodeId,
        dedupeWindow: o.publishDedupeWindow,
        deliver: (delivery) => this.router.deliver(delivery),
        logger: this.logger,
      });
    }
    // Only a broker or forwarding can tell that a node died: a node alone never adopts.
    this.#adoption = new Adoption(this, {
      open: (id) => this.#open(id),
      broker: options.broker,
      enabled: options.broker !== undefined || Boolean(options.forward),
    });
    this.#ownsClaims = options.publishDedupe === undefined;
    this.#claims =
      o.publishDedupeWindow === 0
        ? null
        : (options.publishDedupe ??
          idempotencyFor(options.sessionStore, { maxEntries: o.publishDedupeLimit }));
    if (options.forward) {
      this.forwarder = new Forwarder(this.records.nodeId, {
        maxBodySize: o.maxMessageSize,
        // A held connect answers within `timeout`: the forward waits longer than that.
        requestTimeout: Math.max(120_000, o.timeout + 10_000),
      });
      const advertise = typeof options.forward === "object" ? options.forward.advertise : undefined;
      if (advertise !== undefined) {
        parseAdvertise(advertise);
        this.records.advertise = advertise;
      }
    }
  }

  /**
   * Package-internal (transport glue): with `forward` on and no `advertise`
   * given, the first request tells the address this node is reached at.
   */
  learnAddress(req: IncomingMessage): void {
    if (this.forwarder === null || this.records.advertise !== undefined) return;
    const { localAddress, localPort } = req.socket;
    if (localAddress !== undefined && localPort !== undefined) {
      this.records.advertise = advertiseFor(localAddress, localPort);
    }
  }

  /**
   * Package-internal (transport glue): the first clientId of `batch` this
   * node does not hold, when forwarding is on; undefined otherwise.
   */
  foreignClientId(batch: readonly unknown[]): string | undefined {
    if (this.forwarder === null) return undefined;
    for (const message of batch) {
      const id = (message as { clientId?: unknown } | null)?.clientId;
      if (typeof id === "string" && id !== "" && !this.#sessions.has(id)) return id;
    }
    return undefined;
  }

  /** Package-internal: where the owner of `clientId` is reached, or null (none, or this node). */
  locateOwner(
    clientId: string,
    done: (target: ForwardTarget | null, unavailable?: boolean) => void,
  ): void {
    this.#owners.locate(clientId, done);
  }

  /**
   * Package-internal (transport glue): forwarding a request of `clientId`
   * to its owner failed with `err`. A refused connection means the owner is
   * gone, so this node may adopt the session (see {@link adopt}).
   */
  ownerUnreachable(clientId: string, err: unknown): void {
    this.#adoption.unreachable(clientId, err);
  }

  /**
   * Takes over the session of `clientId` when its owner node is gone (see
   * adoption.ts). Undefined (synchronously) when there is nothing to try; a
   * promise of the session, or of undefined when it could not be adopted.
   */
  adopt(clientId: unknown): Promise<BayeuxSession | undefined> | undefined {
    return this.#adoption.adopt(clientId);
  }

  /** This node's id: the owner the session store records for its clientIds. */
  get nodeId(): string {
    return this.records.nodeId;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get extensions(): readonly BayeuxExtension[] {
    return this.#extensions;
  }

  /**
   * Whether anything reads the transport's request (extensions, or the
   * `canHandshake` policy): a websocket keeps its upgrade request only then.
   */
  get usesRequest(): boolean {
    return this.#extensions.length > 0 || this.options.policy.canHandshake !== undefined;
  }

  /** Number of live sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** The ids of the live sessions. */
  clientIds(): IterableIterator<string> {
    return this.#sessions.keys();
  }

  /** The session of `clientId`, if it is live. */
  getSession(clientId: string): BayeuxSession | undefined {
    return this.#sessions.get(clientId);
  }

  /**
   * Answers a batch of messages; what transports call.
   *
   * @example
   * const { replies } = await bayeux.process([{ channel: "/meta/handshake", version: "1.0",
   *   supportedConnectionTypes: ["long-polling"] }]);
   */
  process(
    messages: readonly unknown[],
    context: ProcessContext = { connectionType: null, request: null },
  ): Promise<ProcessResult> {
    return Promise.resolve(this.#processor.process(messages, context));
  }

  /**
   * {@link process} for transports: the answer comes synchronously when no
   * step of the batch is asynchronous, so the common publish makes no promise.
   */
  processBatch(
    messages: readonly unknown[],
    context: ProcessContext,
  ): ProcessResult | Promise<ProcessResult> {
    return this.#processor.process(messages, context);
  }

  /**
   * Publishes `data` on a channel from the server; returns the number of
   * recipients. Outgoing extensions see the message once, before it is encoded.
   *
   * @example
   * bayeux.publish("/news/today", { headline: "…" });
   */
  publish(channel: string, data: unknown, options: { ext?: Record<string, unknown> } = {}): number {
    if (this.#closed) throw new BayeuxClosedError();
    if (!isChannelName(channel))
      throw new BayeuxChannelError("ERR_BAYEUX_CHANNEL_INVALID", channel);
    if (isMetaChannel(channel) || isServiceChannel(channel)) {
      throw new BayeuxChannelError("ERR_BAYEUX_CHANNEL_FORBIDDEN", channel);
    }
    const message: BayeuxMessage = { channel, data };
    if (options.ext) message.ext = options.ext;
    this.emit("publish", null, channel, data);
    if (this.#extensions.length === 0) return this.#serverPublish(Delivery.encoded(message));
    const piped = pipe(this.#extensions, "outgoing", message, null, this.extensionGuard);
    if (piped instanceof Promise) {
      piped
        .then((m) => m && this.#serverPublish(Delivery.encoded(m)))
        .catch((err) => debug("%O", err));
      return 0;
    }
    return piped ? this.#serverPublish(Delivery.encoded(piped)) : 0;
  }

  /** A server-side publish: its recipients, or 0 when it goes through the channel log. */
  #serverPublish(delivery: Delivery): number {
    const log = this.channelLog;
    if (log === null) return this.router.publish(delivery);
    log
      .append(delivery)
      .catch((err) => debug("server publish on %s lost: %s", delivery.message.channel, err));
    return 0;
  }

  /**
   * Listens in-process on a channel name or pattern (`/a/*`, `/a/**`);
   * returns the function that stops listening.
   *
   * @example
   * const stop = bayeux.subscribe("/chat/*", (data, message) => log(message.channel, data));
   */
  subscribe(channel: string, listener: ChannelListener): () => void {
    if (!isSubscribable(channel))
      throw new BayeuxChannelError("ERR_BAYEUX_CHANNEL_INVALID", channel);
    if (isMetaChannel(channel) || isServiceChannel(channel)) {
      throw new BayeuxChannelError("ERR_BAYEUX_CHANNEL_FORBIDDEN", channel);
    }
    const subscriber = new LocalListener(listener);
    this.router.subscribe(subscriber, channel);
    return () => {
      this.router.unsubscribe(subscriber, channel);
    };
  }

  /**
   * Handles messages clients publish to `/service/**` channels matching
   * `pattern`. Such messages never reach subscribers. Returns a remover.
   *
   * @example
   * bayeux.service("/service/time", (message, session) =>
   *   bayeux.deliver(session.id, "/service/time", { now: Date.now() }));
   */
  service(pattern: string, handler: ServiceHandler): () => void {
    if (!isSubscribable(pattern) || !isServiceChannel(pattern)) {
      throw new BayeuxChannelError("ERR_BAYEUX_CHANNEL_INVALID", pattern);
    }
    const entry: Service = { pattern, handler };
    this.#services.push(entry);
    return () => {
      const index = this.#services.indexOf(entry);
      if (index !== -1) this.#services.splice(index, 1);
    };
  }

  claimPublish(clientId: string, id: string): boolean | Promise<boolean> {
    // The channel log stores a publish once per key itself (see route).
    if (this.channelLog !== null) return true;
    const claims = this.#claims;
    return claims === null || claims.claim(clientId, id, this.options.publishDedupeWindow);
  }

  releasePublish(clientId: string, id: string): void {
    const released = this.#claims?.release(clientId, id);
    if (released instanceof Promise) {
      released.catch((err) => debug("cannot release publish %s of %s: %s", id, clientId, err));
    }
  }

  servicesFor(channel: string): ServiceHandler[] {
    const out: ServiceHandler[] = [];
    for (const { pattern, handler } of this.#services) {
      if (channelMatches(pattern, channel)) out.push(handler);
    }
    return out;
  }

  /**
   * Sends a message to one client only (the reply path of a service).
   * Returns false when the client is not connected.
   */
  deliver(clientId: string, channel: string, data: unknown): boolean {
    const session = this.#sessions.get(clientId);
    if (!session) return false;
    if (!isChannelName(channel))
      throw new BayeuxChannelError("ERR_BAYEUX_CHANNEL_INVALID", channel);
    session.deliver(Delivery.encoded({ channel, data }));
    return true;
  }

  /**
   * Adds an extension (Faye's `{ incoming, outgoing }` shape).
   *
   * @example
   * bayeux.addExtension({ outgoing(message, callback) { message.ext = { ...message.ext, ts: Date.now() }; callback(message); } });
   */
  addExtension(extension: BayeuxExtension): void {
    this.#extensions.push(extension);
    extension.added?.(this);
  }

  removeExtension(extension: BayeuxExtension): void {
    const index = this.#extensions.indexOf(extension);
    if (index === -1) return;
    this.#extensions.splice(index, 1);
    extension.removed?.(this);
  }

  /** Ends a client's session; its next message gets `402` and rehandshakes. */
  disconnectClient(clientId: string): boolean {
    const session = this.#sessions.get(clientId);
    if (!session) return false;
    this.endSession(session, "server disconnect");
    return true;
  }

  /** Ends every session, stops the timer wheel and tells the transports to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.logger.info({ sessions: this.#sessions.size }, "closing");
    for (const session of [...this.#sessions.values()]) this.endSession(session, "server close");
    for (const extension of [...this.#extensions]) this.removeExtension(extension);
    this.wheel.close();
    this.router.close();
    this.channelLog?.close();
    this.forwarder?.close();
    this.#adoption.close();
    // A claim table given as an option belongs to the caller.
    if (this.#claims !== null && this.#ownsClaims) void this.#claims.close();
    this.emit("close");
  }

  // ProcessorHost and SessionOwner.

  findSession(clientId: unknown): BayeuxSession | undefined {
    if (typeof clientId !== "string") return undefined;
    const session = this.#sessions.get(clientId);
    // Not held here: another node's, perhaps (the client is told 402 all the same).
    if (session === undefined && clientId !== "") this.records.lookup(clientId);
    return session;
  }

  createSession(): BayeuxSession | undefined | Promise<BayeuxSession | undefined> {
    if (this.#closed || this.#sessions.size >= this.options.maxSessions) return undefined;
    // An id taken here or (in the store) on another node is drawn again.
    for (let attempt = 0; attempt < 3; attempt++) {
      let id = this.#generateId();
      while (this.#sessions.has(id)) id = this.#generateId();
      const created = this.records.create(id);
      if (created === true) return this.#open(id);
      if (created !== false) {
        return created.then((ok) => {
          if (!ok) return undefined;
          if (this.#closed || this.#sessions.size >= this.options.maxSessions) {
            this.records.end(id, false);
            return undefined;
          }
          return this.#open(id);
        });
      }
    }
    this.logger.warn({}, "handshake refused: no free session id after 3 attempts");
    return undefined;
  }

  #open(id: string): BayeuxSession {
    const session = new BayeuxSession(this, id);
    this.#sessions.set(id, session);
    this.stats.moved("", PENDING_CONNECTION);
    if (debugEnabled(this.logger)) this.logger.debug({ clientId: id }, "session opened");
    return session;
  }

  endSession(session: BayeuxSession, reason: DisconnectReason): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    this.stats.moved(session.connectionType || PENDING_CONNECTION, "");
    this.router.unsubscribeAll(session);
    this.#flushQueue?.delete(session);
    this.records.end(session.id, session.ackEnabled);
    session.close();
    const log = this.logger;
    if (reason === "slow consumer") {
      const suppressed = this.#slowWarnings.take();
      if (suppressed >= 0) {
        log.warn(
          { clientId: session.id, maxBufferedBytes: this.options.maxBufferedBytes, suppressed },
          "slow consumer dropped: outgoing buffer full",
        );
      }
    } else if (debugEnabled(log)) log.debug({ clientId: session.id, reason }, "session ended");
    this.emit("disconnect", session.id, reason);
  }

  expire(session: BayeuxSession): void {
    this.endSession(session, "expired");
  }

  route(
    message: BayeuxMessage,
    request: IncomingMessage | null,
    key?: string,
  ): void | Promise<void> {
    const delivered = deliveryOf(message);
    if (this.#extensions.length === 0) return this.#routeDelivery(new Delivery(delivered), key);
    const piped = pipe(this.#extensions, "outgoing", delivered, request, this.extensionGuard);
    if (piped instanceof Promise) {
      return piped.then((m) => {
        if (m) return this.#routeDelivery(new Delivery(m), key);
      });
    }
    if (piped) return this.#routeDelivery(new Delivery(piped), key);
  }

  /**
   * A client's publish to the subscribers: on the spot, or (channel log)
   * once stored; a failed store rejects with {@link ChannelLogError}.
   */
  #routeDelivery(delivery: Delivery, key: string | undefined): void | Promise<void> {
    const log = this.channelLog;
    if (log === null) {
      this.router.publish(delivery);
      return;
    }
    // Issued now, in order: the reply may wait for the store without holding back what follows.
    return markLate(
      log.append(delivery, key).then(
        () => {},
        (err: unknown) => {
          const suppressed = this.#storeFailures.take();
          if (suppressed >= 0) {
            this.logger.error(
              { channel: delivery.message.channel, err, suppressed },
              "publish not stored in the channel log",
            );
          }
          throw err instanceof ChannelLogError ? err : new ChannelLogError(err);
        },
      ),
    );
  }

  requestFlush(session: BayeuxSession): void {
    // One setImmediate for every session with a waiting connect: deliveries
    // of one tick travel together, and no session owns a timer.
    if (this.#flushQueue === null) {
      this.#flushQueue = new Set();
      setImmediate(() => this.#flush());
    }
    this.#flushQueue.add(session);
  }

  #flush(): void {
    const queue = this.#flushQueue;
    this.#flushQueue = null;
    if (!queue) return;
    for (const session of queue) session.release();
  }

  emitEvent(event: keyof BayeuxServerEvents, ...args: unknown[]): void {
    // Every change of a client's subscriptions passes here: its record follows.
    if (event === "subscribe" || event === "unsubscribe") {
      this.#sessions
        .get(args[0] as string)
        ?.subscriptionChanged(args[1] as string, event === "subscribe");
    }
    (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args);
  }

  /** Whether anything listens to `publish` (a client's publish then skips the event). */
  get publishWatched(): boolean {
    return this.listenerCount("publish") > 0;
  }
}
