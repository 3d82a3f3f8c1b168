/**
 * The message log seam: per-stream append-only logs a reader resumes from an
 * offset. Socket.IO connection state recovery replays a namespace's
 * broadcasts after the client's last offset; the Bayeux ack extension keeps
 * a client's unacknowledged deliveries.
 *
 * An offset is an opaque string, ordered within its stream, that names the
 * stream's epoch: a log that was emptied (dropped, restarted, expired) starts
 * a new epoch, and an offset of an older one reads as a `gap`, never as a
 * position in the new log. A reader is likewise told `gap` when an entry it
 * has not read was trimmed (by `maxLength` or `maxAge`): it gets everything
 * it missed, or is told that it cannot.
 *
 * A follower (`follow`) is the live side of the same log: it hands over, in
 * log order, every entry appended after it started, whoever appended it.
 * Its `position` is an offset like any other, so "replay (offset, position],
 * then follow" hands every entry over exactly once: what a node needs to
 * deliver a stream's entries to its clients in one total order.
 */
import { SwitchboardError } from "../shared/errors.js";

/** One entry of a stream. */
export interface LogEntry {
  offset: string;
  payload: Buffer;
}

/**
 * What `readAfter` found: every entry after the offset (`complete`), the
 * first `limit` of them with more to come (`partial`), or `gap` when some
 * entry after the offset is lost or the offset is unknown to this log.
 */
export type ReadResult =
  | { status: "complete" | "partial"; entries: LogEntry[] }
  | { status: "gap"; entries: [] };

export interface MessageLogLimits {
  /** Most entries kept per stream; older ones are trimmed. Default 10000. */
  maxLength?: number;
  /** Milliseconds an entry is kept. Default 120000. */
  maxAge?: number;
  /**
   * Milliseconds a stream with no append is kept at all. Default 3600000.
   * Past it the stream is forgotten, epoch included (its offsets read as
   * `gap`): what bounds the streams a crashed writer left behind.
   */
  streamTtl?: number;
}

/**
 * What a follower is handed: entries in log order, and word of lost ones.
 * A handler that throws is ignored: the follow goes on.
 */
export interface FollowHandlers {
  /** Entries appended after the follower's position, oldest first; never empty. */
  entries(batch: LogEntry[]): void;
  /**
   * Entries may have been lost to the follower (the stream was dropped or
   * expired, Redis came back empty, or entries were trimmed before they were
   * read). The follower then carries on with the oldest entry the stream
   * still holds, `position` moved to just before it.
   */
  gap?(): void;
}

/**
 * A running follow of one stream.
 *
 * `position` is, once `ready` resolved, the offset of the last entry handed
 * over or, before any, an offset naming the end of the stream when the
 * follow started (or, after a gap, just before the entry it resumes with).
 * It is a valid `readAfter` argument and `compare`s with the stream's
 * offsets: entries after it are exactly those still to be handed over.
 */
export interface LogFollower {
  /** Resolves once the start position is fixed (also when closed first). */
  readonly ready: Promise<void>;
  readonly position: string;
  /** Stops the follow; no handler runs after it returns. */
  close(): void;
}

/** What `appendOnce` did: appended (`duplicate: false`) or found the key's earlier entry. */
export interface AppendOnceResult {
  offset: string;
  duplicate: boolean;
}

/**
 * @example
 * const offset = await log.append("sio/recovery/", bytes); // handed to the reader
 * const found = await log.readAfter("sio/recovery/", offset, 100);
 * if (found.status === "gap") startOver();
 * else for (const entry of found.entries) replay(entry.payload, entry.offset);
 */
export interface MessageLog {
  /** Appends `payload` to `stream`; resolves with its offset. */
  append(stream: string, payload: Uint8Array): Promise<string>;
  /**
   * The entries after `offset` (`null`: every entry still kept), oldest
   * first, at most `limit` (default: all).
   */
  readAfter(stream: string, offset: string | null, limit?: number): Promise<ReadResult>;
  /**
   * Appends `payload` unless an entry with the same `key` was appended to
   * `stream` in the last `window` ms; then resolves with that entry's offset
   * and `duplicate: true` (a retried publish is logged once).
   */
  appendOnce(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): Promise<AppendOnceResult>;
  /**
   * Hands over every entry appended to `stream` from now on, in log order,
   * whichever node appended it.
   *
   * @example
   * const follower = log.follow("sio/chat", { entries: (batch) => deliver(batch) });
   * await follower.ready;
   * const missed = await log.readAfter("sio/chat", clientOffset); // up to follower.position
   */
  follow(stream: string, handlers: FollowHandlers): LogFollower;
  /**
   * The order of two offsets of one stream (negative: `a` first, 0: same,
   * positive: `b` first), or `undefined` when they are of different epochs
   * or either is not an offset of this log.
   */
  compare(a: string, b: string): number | undefined;
  /** Removes a stream; offsets into it read as `gap` from then on. */
  drop(stream: string): Promise<void>;
  /**
   * Removes a stream and starts it again holding `payloads`, in one step: a
   * process that dies meanwhile leaves either the old stream or the new one,
   * never a stream without the entries it was to keep. Optional: without it,
   * a caller drops, then appends.
   */
  replace?(stream: string, payloads: readonly Uint8Array[]): Promise<void>;
  /** Releases what the log holds (not a caller's Redis client). */
  close(): Promise<void>;
}

/**
 * A log that also answers synchronously, which the in-memory one does: the
 * protocol layers then record and replay without a promise on the hot path.
 */
export interface SyncMessageLog extends MessageLog {
  appendNow(stream: string, payload: Uint8Array): string;
  /**
   * The offset the next `appendNow` to `stream` returns, provided nothing
   * appends in between: a caller may send an entry's offset before it
   * appends the entry (and skip the append when sending fails).
   */
  nextOffset(stream: string): string;
  readAfterNow(stream: string, offset: string | null, limit?: number): ReadResult;
  appendOnceNow(stream: string, payload: Uint8Array, key: string, window: number): AppendOnceResult;
  dropNow(stream: string): void;
}

/** Whether `log` answers synchronously. */
export function isSyncMessageLog(log: MessageLog): log is SyncMessageLog {
  return typeof (log as Partial<SyncMessageLog>).appendNow === "function";
}

/** A log argument or option that breaks its contract. */
export class MessageLogArgumentError extends SwitchboardError {
  constructor(message: string) {
    super("ERR_MESSAGE_LOG_ARGUMENT", message);
  }
}

export const GAP: ReadResult = Object.freeze({ status: "gap", entries: [] }) as ReadResult;

/** The limits with their defaults, checked. */
export function resolveLimits(limits: MessageLogLimits): Required<MessageLogLimits> {
  const maxLength = limits.maxLength ?? 10_000;
  const maxAge = limits.maxAge ?? 120_000;
  const streamTtl = limits.streamTtl ?? 3_600_000;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new MessageLogArgumentError(`maxLength must be a positive integer, got ${maxLength}`);
  }
  if (!Number.isFinite(maxAge) || maxAge < 1) {
    throw new MessageLogArgumentError(`maxAge must be at least 1 ms, got ${maxAge}`);
  }
  if (!Number.isFinite(streamTtl) || streamTtl < 1) {
    throw new MessageLogArgumentError(`streamTtl must be at least 1 ms, got ${streamTtl}`);
  }
  return { maxLength, maxAge, streamTtl };
}

/** Throws unless `stream` and `limit` are usable. */
export function checkReadArgs(stream: string, limit?: number): void {
  if (typeof stream !== "string" || stream.length === 0) {
    throw new MessageLogArgumentError("stream must be a non-empty string");
  }
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new MessageLogArgumentError(`limit must be a positive integer, got ${limit}`);
  }
}

/** Throws unless `key` and `window` of an `appendOnce` are usable. */
export function checkOnceArgs(stream: string, key: string, window: number): void {
  checkReadArgs(stream);
  if (typeof key !== "string" || key.length === 0) {
    throw new MessageLogArgumentError("key must be a non-empty string");
  }
  if (!Number.isFinite(window) || window < 1) {
    throw new MessageLogArgumentError(`window must be at least 1 ms, got ${window}`);
  }
}

/** Sign of `a - b`, as `compare` answers. */
export function order(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Calls a follower's handler; a throwing handler does not stop the follow. */
export function handOver(handlers: FollowHandlers, batch: LogEntry[] | null): void {
  try {
    if (batch === null) handlers.gap?.();
    else handlers.entries(batch);
  } catch {
    // The handler's own failure: the log keeps following.
  }
}
