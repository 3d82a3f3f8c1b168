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
  /** Removes a stream; offsets into it read as `gap` from then on. */
  drop(stream: string): Promise<void>;
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
