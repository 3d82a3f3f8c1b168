/**
 * Options of the Bayeux server. Every limit has a safe default; tests push
 * each past its edge.
 */
import type { IncomingMessage } from "node:http";
import type { Broker } from "../../cluster/broker.js";
import type { Idempotency } from "../../cluster/idempotency.js";
import type { MessageLog } from "../../cluster/message-log.js";
import type { SessionStore } from "../../cluster/session-store.js";
import { type BayeuxMessage, DEFAULT_MAX_PAYLOAD_DEPTH } from "../../codec/bayeux/index.js";
import type { Logger } from "../../shared/logger.js";
import type { BayeuxSession } from "./session.js";

/** The connection types this server implements (Bayeux 1.0 section 3.9). */
export const CONNECTION_TYPES = ["long-polling", "callback-polling", "websocket"] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

/**
 * A policy answer: `true` or `undefined` allows; `false` denies with the
 * table's default error (`403::... denied`); a string denies with that text as
 * the error message.
 */
export type PolicyAnswer = boolean | string | undefined;

/** Authorisation hooks, each may answer synchronously or with a promise. */
export interface BayeuxPolicy {
  /** Called for every `/meta/handshake` before a session exists. */
  canHandshake?(
    message: BayeuxMessage,
    request: IncomingMessage | null,
  ): PolicyAnswer | Promise<PolicyAnswer>;
  /** Called once per channel of a `/meta/subscribe`. */
  canSubscribe?(
    session: BayeuxSession,
    channel: string,
    message: BayeuxMessage,
  ): PolicyAnswer | Promise<PolicyAnswer>;
  /** Called for every publish by a client (not for `server.publish`). */
  canPublish?(
    session: BayeuxSession,
    channel: string,
    message: BayeuxMessage,
  ): PolicyAnswer | Promise<PolicyAnswer>;
}

/** Cross-origin settings for long-polling (Fetch standard, CORS protocol). */
export interface BayeuxCorsOptions {
  /**
   * Allowed cross-origin origins: `false` (the default) sends no CORS headers,
   * so browsers allow same-origin pages only; a list / predicate of allowed
   * origins; or `true` to reflect any origin (Faye's default, which with
   * credentials lets any site read a logged-in user's messages: opt in only
   * when no cookie or HTTP auth protects the endpoint).
   */
  origin?: boolean | string | readonly string[] | ((origin: string) => boolean);
  /**
   * Whether to send `Access-Control-Allow-Credentials: true` to an allowed
   * origin (Faye's and CometD's browser clients send cookies cross-origin).
   * Default true.
   */
  credentials?: boolean;
  /** Preflight cache lifetime in seconds. Default 86400. */
  maxAge?: number;
}

export interface BayeuxServerOptions {
  /** Mount path. Default `/bayeux`; sub-paths (`/bayeux/connect`) are served too. */
  path?: string;
  /** Long-poll hold time advised to clients, ms. Default 30000. */
  timeout?: number;
  /** Pause advised between connects, ms. Default 0. */
  interval?: number;
  /**
   * Extra time a session survives after `timeout + interval` without a
   * `/meta/connect`, ms. Default 15000 (so about 45 s in all).
   */
  sessionGrace?: number;
  /** Connection types offered. Default all three. */
  connectionTypes?: readonly ConnectionType[];
  /** Largest request body or websocket frame, bytes. Default 1 MiB. */
  maxMessageSize?: number;
  /**
   * Whether long-polling POSTs are read and answered by Switchboard's own
   * HTTP/1.1 handling when the server is mounted on a plain `http.Server`
   * (below node:http, at a fraction of the CPU); any other request hands its
   * connection to node:http unchanged. Default true.
   */
  fastPolling?: boolean;
  /** Most messages per request or frame. Default 100. */
  maxBatchLength?: number;
  /**
   * Deepest nesting of arrays and objects in one incoming message, the
   * message object counting as one level. A request or frame holding a deeper
   * one is refused as unreadable (`400::Message nested too deeply`).
   * Default 64.
   */
  maxPayloadDepth?: number;
  /** Most subscriptions one client may hold. Default 1000. */
  maxSubscriptionsPerClient?: number;
  /**
   * Most deliveries queued for one client; past it the oldest are dropped
   * (a slow client loses old messages rather than the server's memory).
   * Default 1000.
   */
  maxQueuedMessages?: number;
  /** Most live sessions; further handshakes get `503::Server busy`. Default 100000. */
  maxSessions?: number;
  /** Whether the acknowledgement extension is offered. Default true. */
  ackExtension?: boolean;
  /** Authorisation hooks. */
  policy?: BayeuxPolicy;
  /** CORS for cross-origin long-polling. Default: none (same-origin only). */
  cors?: BayeuxCorsOptions;
  /**
   * Most bytes that may wait unsent to one websocket (ws `bufferedAmount`
   * after a write). A client that falls further behind is a slow consumer: its
   * socket is terminated and its sessions end with reason `"slow consumer"`,
   * so one stalled reader cannot hold the server's memory. Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * Longest an extension hook may take (a callback never called, a promise
   * never settled), ms. Past it the message fails with
   * `500::Extension timed out` instead of waiting forever. Default 10000.
   */
  extensionTimeout?: number;
  /** Resolution of the shared session timer wheel, ms. Default 100. */
  timerResolution?: number;
  /** Session id generator, injectable for tests. Default: 24 random alphanumerics (≈143 bits). */
  generateId?: () => string;
  /**
   * Where clientIds, their owner node, subscriptions and ack state are
   * recorded for other nodes. Default: an in-memory store of this server alone.
   *
   * @example
   * new BayeuxServer({ sessionStore: new RedisSessionStore(redis), nodeId: "node-1" });
   */
  sessionStore?: SessionStore;
  /**
   * Where the ack extension keeps deliveries sent and not yet acknowledged
   * (stream `bayeux/ack/<clientId>`). Default: in memory.
   */
  ackLog?: MessageLog;
  /**
   * The channel log: every channel publish is appended to the stream
   * `bayeux/channels` of this log, and each node delivers to its subscribers
   * from its follow of that stream (the publishing node too), instead of over
   * the broker. A publish is answered once stored (`407` when the log cannot
   * take it; a resend with the same `id` is stored once), every node sees one
   * order, and a node adopting the session of a dead owner replays to an
   * ack-extension client what was published while no node held it. Give the
   * nodes one shared log (a `RedisMessageLog`); its `maxAge` must outlast a
   * node's death plus a client's reconnect (the CLI keeps two session
   * lifetimes, at least 120 s). `server.publish` then returns 0 (the count is
   * known only on delivery). Default: none.
   *
   * @example
   * new BayeuxServer({ broker, sessionStore, ackLog: log, channelLog: log, forward: true });
   */
  channelLog?: MessageLog;
  /**
   * No sticky sessions: a long-polling or callback-polling request whose
   * messages name a clientId another node owns is forwarded to that node
   * (one hop; the body is read to find the clientId and sent on as read)
   * instead of answered `402::Unknown client`. Needs a `sessionStore` shared
   * by the nodes. `advertise` is the `http://host:port` peers reach this
   * node at; default: the local address of the first request (or websocket
   * upgrade) this server answers. With a broker too, a session whose owner
   * died is adopted by the node its client reaches next (see
   * docs/bayeux-server.md). Default: off.
   *
   * @example
   * new BayeuxServer({ sessionStore, nodeId: "n1", forward: { advertise: "http://10.0.0.5:3000" } });
   */
  forward?: boolean | { advertise?: string };
  /**
   * A client's publish that carries an `id` is delivered once however often
   * it is resent (same clientId, same id) within this many ms: Faye and
   * CometD resend a batch whose reply was lost, perhaps to another node. The
   * resend gets the same successful reply. 0 turns this off. Default 120000.
   */
  publishDedupeWindow?: number;
  /**
   * Most publish ids this node remembers for {@link publishDedupeWindow}
   * when they are kept in memory (no Redis session store); past it the
   * oldest is forgotten. Default 100000.
   */
  publishDedupeLimit?: number;
  /**
   * Where publish ids are claimed. Default: with a `RedisSessionStore`,
   * keys `<prefix>pub:{<clientId>}:<id>` on its Redis (every node sees
   * them); otherwise a bounded map of this node ({@link publishDedupeLimit}).
   */
  publishDedupe?: Idempotency;
  /** This node's id in the session store. Default: 16 random hex digits. */
  nodeId?: string;
  /**
   * Broker to the other nodes: a publish on any node reaches the subscribers
   * of every node (`/service/` channels never leave their node). Default:
   * none (this node alone). A Socket.IO server given the same broker shares
   * its hub.
   */
  broker?: Broker;
  /**
   * Where the server logs: any pino-compatible logger, used as
   * `logger.child({ component: "bayeux" })` when it has children. Sessions
   * opened and ended (timeouts included), refused handshakes and connects,
   * and adoptions are debug records; slow consumers, channel-log gaps and
   * refused adoptions warnings; failing handlers and stores errors.
   * Default: warnings and errors to stderr.
   *
   * @example
   * new BayeuxServer({ logger: pino() });
   */
  logger?: Logger;
}

export interface ResolvedOptions {
  path: string;
  timeout: number;
  interval: number;
  sessionGrace: number;
  connectionTypes: readonly ConnectionType[];
  maxMessageSize: number;
  fastPolling: boolean;
  maxBatchLength: number;
  maxPayloadDepth: number;
  maxSubscriptionsPerClient: number;
  maxQueuedMessages: number;
  maxSessions: number;
  ackExtension: boolean;
  policy: BayeuxPolicy;
  cors: Required<Omit<BayeuxCorsOptions, "origin">> & { origin: BayeuxCorsOptions["origin"] };
  maxBufferedBytes: number;
  extensionTimeout: number;
  timerResolution: number;
  publishDedupeWindow: number;
  publishDedupeLimit: number;
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new RangeError(`option ${name} must be a number >= ${min}`);
  }
  return value;
}

/** Applies defaults and checks types; throws RangeError on a bad option. */
export function resolveOptions(options: BayeuxServerOptions): ResolvedOptions {
  const broker = options.broker as unknown as Record<string, unknown> | undefined;
  if (
    broker !== undefined &&
    (broker === null ||
      typeof broker !== "object" ||
      !["publish", "subscribe", "request", "respond", "nodes"].every(
        (m) => typeof broker[m] === "function",
      ))
  ) {
    throw new RangeError("option broker must be a Broker");
  }
  const logger = options.logger as unknown as Record<string, unknown> | undefined;
  if (
    logger !== undefined &&
    (logger === null ||
      typeof logger !== "object" ||
      !["debug", "info", "warn", "error"].every((m) => typeof logger[m] === "function"))
  ) {
    throw new RangeError("option logger must be a logger (debug, info, warn, error)");
  }
  const connectionTypes = options.connectionTypes ?? CONNECTION_TYPES;
  for (const type of connectionTypes) {
    if (!(CONNECTION_TYPES as readonly string[]).includes(type)) {
      throw new RangeError(`unknown connection type ${type}`);
    }
  }
  return {
    path: options.path ?? "/bayeux",
    timeout: positive("timeout", options.timeout, 30000, 0),
    interval: positive("interval", options.interval, 0, 0),
    sessionGrace: positive("sessionGrace", options.sessionGrace, 15000, 0),
    connectionTypes,
    maxMessageSize: positive("maxMessageSize", options.maxMessageSize, 1024 * 1024),
    fastPolling: options.fastPolling !== false,
    maxBatchLength: positive("maxBatchLength", options.maxBatchLength, 100),
    maxPayloadDepth: positive(
      "maxPayloadDepth",
      options.maxPayloadDepth,
      DEFAULT_MAX_PAYLOAD_DEPTH,
    ),
    maxSubscriptionsPerClient: positive(
      "maxSubscriptionsPerClient",
      options.maxSubscriptionsPerClient,
      1000,
    ),
    maxQueuedMessages: positive("maxQueuedMessages", options.maxQueuedMessages, 1000),
    maxSessions: positive("maxSessions", options.maxSessions, 100000),
    ackExtension: options.ackExtension !== false,
    policy: options.policy ?? {},
    cors: {
      origin: options.cors?.origin ?? false,
      credentials: options.cors?.credentials ?? true,
      maxAge: options.cors?.maxAge ?? 86400,
    },
    maxBufferedBytes: positive("maxBufferedBytes", options.maxBufferedBytes, 16 * 1024 * 1024),
    extensionTimeout: positive("extensionTimeout", options.extensionTimeout, 10000),
    timerResolution: positive("timerResolution", options.timerResolution, 100),
    publishDedupeWindow: positive("publishDedupeWindow", options.publishDedupeWindow, 120000, 0),
    publishDedupeLimit: positive("publishDedupeLimit", options.publishDedupeLimit, 100000),
  };
}
