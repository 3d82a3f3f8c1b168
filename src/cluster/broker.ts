/**
 * The broker seam between nodes. One small contract serves both protocols:
 * publish bytes to a topic, subscribe with patterns, and request/response
 * with a timeout. A node never receives its own publishes (so a local
 * delivery plus a broker echo cannot double a message). Backends: the
 * in-memory broker (one process, any number of nodes) and, later, Redis.
 *
 * Patterns are topics split on `/`: `*` matches one segment, a trailing `**`
 * matches one or more remaining segments.
 */
import { SwitchboardError } from "../shared/errors.js";

/** Receives a message published by another node. */
export type BrokerHandler = (topic: string, payload: Buffer, origin: string) => void;

/** Answers a request from another node; `undefined` means "nothing to say". */
export type BrokerResponder = (
  topic: string,
  payload: Buffer,
  origin: string,
) => Buffer | undefined | Promise<Buffer | undefined>;

/** Stops a subscription or a responder. */
export type Unsubscribe = () => Promise<void>;

export interface RequestOptions {
  /** Milliseconds to wait for every responder. Default 5000. */
  timeout?: number;
}

export interface Broker {
  /** This node's id, unique in the cluster. */
  readonly nodeId: string;
  /** Sends `payload` to every other node subscribed to a pattern matching `topic`. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /** Receives other nodes' publishes on topics matching `pattern`. */
  subscribe(pattern: string, handler: BrokerHandler): Promise<Unsubscribe>;
  /**
   * Asks every other node responding on `topic`; resolves with their answers
   * once all replied, rejects with `BrokerTimeoutError` (holding the answers
   * received so far) when `timeout` passes first.
   */
  request(topic: string, payload: Uint8Array, options?: RequestOptions): Promise<Buffer[]>;
  /** Answers requests on topics matching `pattern`. */
  respond(pattern: string, responder: BrokerResponder): Promise<Unsubscribe>;
  /** Leaves the cluster: drops every subscription and responder. */
  close(): Promise<void>;
}

/** A request did not get every answer in time. */
export class BrokerTimeoutError extends SwitchboardError {
  readonly responses: Buffer[];

  constructor(topic: string, timeout: number, responses: Buffer[]) {
    super("ERR_BROKER_TIMEOUT", `request on ${topic} timed out after ${timeout} ms`);
    this.responses = responses;
  }
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
