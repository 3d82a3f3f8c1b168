/**
 * The broker seam between nodes. One small contract serves both protocols:
 * publish bytes to a topic, subscribe to topics (exact names or patterns),
 * request/response with a timeout, and the set of live nodes. A node never
 * receives its own publishes (so a local delivery plus a broker echo cannot
 * double a message). Backends: the in-memory broker (one process, any number
 * of nodes), Redis and Redis Cluster.
 *
 * Patterns are topics split on `/`: `*` matches one segment, a trailing `**`
 * matches one or more remaining segments. A subscription is exact unless it
 * asks for a pattern, so a Socket.IO room named `*` is just a name.
 */
import { SwitchboardError } from "../shared/errors.js";
import { Histogram, LATENCY_BUCKETS } from "../shared/histogram.js";

/** Receives a message published by another node. */
export type BrokerHandler = (topic: string, payload: Buffer, origin: string) => void;

/** Answers a request from another node; `undefined` means "nothing to say". */
export type BrokerResponder = (
  topic: string,
  payload: Buffer,
  origin: string,
) => Buffer | Uint8Array | undefined | Promise<Buffer | Uint8Array | undefined>;

/** Stops a subscription or a responder. */
export type Unsubscribe = () => Promise<void>;

export interface SubscribeOptions {
  /** Treat `*` and a trailing `**` segment as wildcards. Default false (exact topic). */
  pattern?: boolean;
}

export interface RequestOptions {
  /** Milliseconds to wait for every node. Default 5000. */
  timeout?: number;
}

/** One node's answer to a request. */
export interface Reply {
  node: string;
  payload: Buffer;
}

/**
 * What a request gathered. A request goes to every live node; each answers
 * (with nothing when it has no responder for the topic). It never fails
 * whole: nodes that did not answer in time (dead or slow) are listed in
 * `missing`, and the others' answers are kept.
 */
export interface RequestResult {
  /** Answers of the nodes that had something to say. */
  replies: Reply[];
  /** Nodes that did not answer before the timeout; empty when all did. */
  missing: string[];
}

/** A node joined (first heard) or left (said goodbye, or missed its heartbeats). */
export type NodeEvent = "up" | "down";
export type NodeListener = (event: NodeEvent, node: string) => void;

/** Counters every backend keeps (exported as metrics later). */
export interface BrokerStats {
  /** Publishes handed to the backend. */
  published: number;
  /** Messages received from other nodes and handed to a handler. */
  received: number;
  /** Messages from the backend dropped as malformed, foreign or of another version. */
  dropped: number;
  /** Publishes lost because the backend was unreachable (bounded loss during an outage). */
  lost: number;
  /** Times the backend connection was re-established. */
  reconnects: number;
  /** Requests made (cluster queries), and those that ended without every node's answer. */
  requests?: number;
  partial?: number;
  /** Seconds a request took to gather its answers (or time out). */
  requestLatency?: Histogram;
  /** Seconds a publish took to be accepted by the backend (a Redis round trip). */
  publishLatency?: Histogram;
  /**
   * Seconds from another node's publish to its receipt here, one observation
   * per message received (however many handlers it goes to). Across hosts it
   * is only as good as their clocks' agreement; Redis counts whole ms.
   */
  receiveLatency?: Histogram;
}

export interface Broker {
  /** This node's id, unique in the cluster. */
  readonly nodeId: string;
  /** Counters since this broker was made. */
  readonly stats: Readonly<BrokerStats>;
  /**
   * Whether the backend is reachable now (a node's readiness): false during
   * an outage and once closed. Undefined for a broker that cannot tell.
   */
  readonly connected?: boolean;
  /**
   * Sends `payload` to every other node subscribed to `topic` (exactly or by
   * a matching pattern). Crosses the backend once per publish, never once per
   * subscriber. Never rejects: a publish the backend cannot take is counted in
   * `stats.lost`.
   */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /**
   * Receives other nodes' publishes on `topic` (or on topics matching it,
   * with `{ pattern: true }`). Resolves once the subscription is effective.
   */
  subscribe(
    topic: string,
    handler: BrokerHandler,
    options?: SubscribeOptions,
  ): Promise<Unsubscribe>;
  /** Asks every other live node; see {@link RequestResult}. */
  request(topic: string, payload: Uint8Array, options?: RequestOptions): Promise<RequestResult>;
  /** Answers requests on topics matching `pattern` (`*`, trailing `**`). */
  respond(pattern: string, responder: BrokerResponder): Promise<Unsubscribe>;
  /** The other live nodes, as last heard. */
  nodes(): string[];
  /** Learns of nodes coming and going; returns a function that stops listening. */
  onNodes(listener: NodeListener): () => void;
  /** Leaves the cluster (other nodes see it go): drops every subscription and responder. */
  close(): Promise<void>;
}

/** A broker could not be used (bad options, closed, backend refused). */
export class BrokerError extends SwitchboardError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** New zeroed counters. */
export function newBrokerStats(): BrokerStats {
  return {
    published: 0,
    received: 0,
    dropped: 0,
    lost: 0,
    reconnects: 0,
    requests: 0,
    partial: 0,
    requestLatency: new Histogram(LATENCY_BUCKETS),
    publishLatency: new Histogram(LATENCY_BUCKETS),
    receiveLatency: new Histogram(LATENCY_BUCKETS),
  };
}

/**
 * Counts a request in `stats` once `result` settles: its latency since
 * `started` (a `performance.now()`), and whether some node did not answer.
 */
export function countRequest(
  stats: BrokerStats,
  started: number,
  result: Promise<RequestResult>,
): Promise<RequestResult> {
  stats.requests = (stats.requests ?? 0) + 1;
  return result.then((answer) => {
    stats.requestLatency?.observe((performance.now() - started) / 1000);
    if (answer.missing.length > 0) stats.partial = (stats.partial ?? 0) + 1;
    return answer;
  });
}

/**
 * Whether `topic` matches `pattern` (`*` one segment, trailing `**` the rest).
 *
 * @example
 * matchTopic("sio/*\/events", "sio/chat/events"); // true
 * matchTopic("bayeux/**", "bayeux/a/b");          // true
 */
export function matchTopic(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  if (!pattern.includes("*")) return false;
  const p = pattern.split("/");
  const t = topic.split("/");
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    if (seg === "**" && i === p.length - 1) return t.length > i;
    if (i >= t.length) return false;
    if (seg !== "*" && seg !== t[i]) return false;
  }
  return p.length === t.length;
}
