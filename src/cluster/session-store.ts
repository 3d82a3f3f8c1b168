/**
 * The session store seam: where a session id (an Engine.IO `sid`, a Bayeux
 * `clientId`) is found from any node. A record names the node that owns the
 * live session and carries a small map of data another node may need (a
 * Bayeux client's subscriptions, its ack-extension state).
 *
 * Every method returns a promise, so a networked backend drops in; the
 * protocol layers keep their own map of local sessions and consult the store
 * only at create, delete, and on a local miss. Records expire `ttl` ms after
 * their last `create` / `touch` and then vanish completely.
 */
import { SwitchboardError } from "../shared/errors.js";

/** A JSON-encodable value kept in a session record. */
export type SessionValue = unknown;

/** One session as the store knows it. */
export interface SessionRecord {
  id: string;
  /** The node id of the owner (the node holding the live session). */
  owner: string;
  /** Application fields; a field is absent once set to `undefined`. */
  data: Record<string, SessionValue>;
  /** When the record expires (ms since the epoch) unless touched. */
  expiresAt: number;
}

export interface CreateSessionOptions {
  owner: string;
  /** Milliseconds the record lives without a `touch`. */
  ttl: number;
  data?: Record<string, SessionValue>;
}

export interface ClaimSessionOptions {
  /** The owner the record must have. */
  from: string;
  /** The new owner. */
  owner: string;
  /** Milliseconds the record lives without a `touch`. */
  ttl: number;
  /** Data fields set with the new owner (others are kept). */
  data?: Record<string, SessionValue>;
}

export interface DeleteSessionOptions {
  /** Delete only while this node owns the record. */
  owner?: string;
}

/**
 * @example
 * const created = await store.create(sid, { owner: nodeId, ttl: 60000 });
 * if (!created) throw new Error("sid taken");
 * await store.update(sid, { subscriptions: ["/chat/*"] });
 * const owner = await store.owner(sid); // the node to forward a request to
 */
export interface SessionStore {
  /** Adds a record; resolves false (and changes nothing) when `id` exists. */
  create(id: string, options: CreateSessionOptions): Promise<boolean>;
  /** The record of `id`, or undefined when there is none (or it expired). */
  get(id: string): Promise<SessionRecord | undefined>;
  /** The owner node of `id`, or undefined. */
  owner(id: string): Promise<string | undefined>;
  /** Restarts the record's clock with `ttl`; false when the record is gone. */
  touch(id: string, ttl: number): Promise<boolean>;
  /**
   * Sets the given data fields (a field set to `undefined` is removed);
   * false when the record is gone. Fields not named are kept.
   */
  update(id: string, patch: Record<string, SessionValue | undefined>): Promise<boolean>;
  /**
   * Moves the record to `options.owner` when its owner is `options.from`
   * (compare and set: of nodes racing to take over a dead owner's session
   * one wins), sets `options.data` fields in the same step, and restarts its
   * clock with `options.ttl`. False, and nothing changed, when the record is
   * gone or another node owns it.
   */
  claim(id: string, options: ClaimSessionOptions): Promise<boolean>;
  /**
   * Removes the record; false when there was none. With `owner`, only while
   * that node owns it (a node that lost a session to another must not
   * delete the new owner's record).
   */
  delete(id: string, options?: DeleteSessionOptions): Promise<boolean>;
  /** Releases what the store holds (timers; not a caller's Redis client). */
  close(): Promise<void>;
}

/** A store argument that breaks its contract (an empty id, a ttl below 1 ms). */
export class SessionStoreArgumentError extends SwitchboardError {
  constructor(message: string) {
    super("ERR_SESSION_STORE_ARGUMENT", message);
  }
}

/** A stored record that does not decode (written by something else). */
export class SessionStoreCorruptError extends SwitchboardError {
  readonly id: string;

  constructor(id: string, options?: { cause?: unknown }) {
    super("ERR_SESSION_STORE_CORRUPT", `session record ${id} does not decode`, options);
    this.id = id;
  }
}

/** Throws unless `id` and `ttl` are usable. */
export function checkSessionArgs(id: string, ttl?: number): void {
  if (typeof id !== "string" || id.length === 0) {
    throw new SessionStoreArgumentError("session id must be a non-empty string");
  }
  if (ttl !== undefined && (!Number.isFinite(ttl) || ttl < 1)) {
    throw new SessionStoreArgumentError(`session ttl must be at least 1 ms, got ${ttl}`);
  }
}
