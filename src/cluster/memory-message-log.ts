/**
 * The in-memory message log: the default, for one process. Each stream is an
 * array with a moving head; trimming (length on append, age on append and
 * read) advances the head, and the array is compacted once half of it is
 * dead. No timer: an idle stream's entries go at its next use, and a stream
 * with no append for `streamTtl` is removed by the next append to any stream
 * (one sweep of every stream per `min(maxAge, streamTtl)` at most).
 *
 * Offsets are `<epoch>.<sequence in base 36>`; the epoch is random per
 * stream creation, so a dropped and recreated stream never accepts an old
 * offset.
 */
import { randomBytes } from "node:crypto";
import {
  checkReadArgs,
  GAP,
  type LogEntry,
  type MessageLogLimits,
  type ReadResult,
  resolveLimits,
  type SyncMessageLog,
} from "./message-log.js";

export interface MemoryMessageLogOptions extends MessageLogLimits {
  /** The clock (tests inject one). Default `Date.now`. */
  now?: () => number;
}

interface Stored {
  seq: number;
  at: number;
  payload: Buffer;
}

class Stream {
  readonly epoch = randomBytes(6).toString("base64url");
  entries: Stored[] = [];
  head = 0;
  /** Sequence number the next entry gets. */
  next = 0;
  /** Every entry below this sequence number was trimmed. */
  trimmedBelow = 0;
  lastAppend = 0;
}

const SEQ = /^[0-9a-z]{1,11}$/;

/**
 * @example
 * const log = new MemoryMessageLog({ maxLength: 1000, maxAge: 60000 });
 * const offset = log.appendNow("news", Buffer.from("a"));
 * log.appendNow("news", Buffer.from("b"));
 * log.readAfterNow("news", offset); // { status: "complete", entries: [{ offset: …, payload: <b> }] }
 */
export class MemoryMessageLog implements SyncMessageLog {
  readonly #streams = new Map<string, Stream>();
  readonly #maxLength: number;
  readonly #maxAge: number;
  readonly #streamTtl: number;
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(options: MemoryMessageLogOptions = {}) {
    const limits = resolveLimits(options);
    this.#maxLength = limits.maxLength;
    this.#maxAge = limits.maxAge;
    this.#streamTtl = limits.streamTtl;
    this.#now = options.now ?? Date.now;
  }

  /** Streams held. */
  get streamCount(): number {
    return this.#streams.size;
  }

  appendNow(stream: string, payload: Uint8Array): string {
    checkReadArgs(stream);
    const now = this.#now();
    if (now >= this.#nextSweep) this.#sweep(now);
    const s = this.#open(stream, now);
    s.lastAppend = now;
    const seq = s.next++;
    s.entries.push({ seq, at: now, payload: Buffer.from(payload) });
    this.#trim(s, now);
    return `${s.epoch}.${seq.toString(36)}`;
  }

  nextOffset(stream: string): string {
    checkReadArgs(stream);
    const s = this.#open(stream, this.#now());
    return `${s.epoch}.${s.next.toString(36)}`;
  }

  /** The stream, created (new epoch) when absent or idle past `streamTtl`. */
  #open(stream: string, now: number): Stream {
    let s = this.#streams.get(stream);
    if (s === undefined || (s.lastAppend <= now - this.#streamTtl && s.next > 0)) {
      s = new Stream();
      s.lastAppend = now;
      this.#streams.set(stream, s);
    }
    return s;
  }

  readAfterNow(stream: string, offset: string | null, limit?: number): ReadResult {
    checkReadArgs(stream, limit);
    const now = this.#now();
    let s = this.#streams.get(stream);
    if (s !== undefined && s.lastAppend <= now - this.#streamTtl) {
      this.#streams.delete(stream);
      s = undefined;
    }
    let from: number;
    if (offset === null) {
      if (s === undefined) return { status: "complete", entries: [] };
      this.#trim(s, now);
      from = s.head;
    } else {
      if (s === undefined) return GAP;
      const dot = offset.indexOf(".");
      const seqText = offset.slice(dot + 1);
      if (dot < 0 || offset.slice(0, dot) !== s.epoch || !SEQ.test(seqText)) return GAP;
      const seq = Number.parseInt(seqText, 36);
      // An offset this stream never gave, or one after which something was trimmed.
      if (seq >= s.next) return GAP;
      this.#trim(s, now);
      if (seq + 1 < s.trimmedBelow) return GAP;
      const first = s.head < s.entries.length ? s.entries[s.head].seq : s.next;
      from = s.head + (seq + 1 - first);
    }
    const end = limit === undefined ? s.entries.length : Math.min(s.entries.length, from + limit);
    const entries: LogEntry[] = [];
    for (let i = from; i < end; i++) {
      const e = s.entries[i];
      entries.push({ offset: `${s.epoch}.${e.seq.toString(36)}`, payload: e.payload });
    }
    return { status: end < s.entries.length ? "partial" : "complete", entries };
  }

  dropNow(stream: string): void {
    this.#streams.delete(stream);
  }

  async append(stream: string, payload: Uint8Array): Promise<string> {
    return this.appendNow(stream, payload);
  }

  async readAfter(stream: string, offset: string | null, limit?: number): Promise<ReadResult> {
    return this.readAfterNow(stream, offset, limit);
  }

  async drop(stream: string): Promise<void> {
    this.dropNow(stream);
  }

  async close(): Promise<void> {
    this.#streams.clear();
  }

  #trim(s: Stream, now: number): void {
    const entries = s.entries;
    const oldest = now - this.#maxAge;
    while (
      s.head < entries.length &&
      (entries.length - s.head > this.#maxLength || entries[s.head].at <= oldest)
    ) {
      s.trimmedBelow = entries[s.head].seq + 1;
      entries[s.head++] = undefined as never;
    }
    if (s.head > 1024 && s.head * 2 > entries.length) {
      s.entries = entries.slice(s.head);
      s.head = 0;
    } else if (s.head === entries.length && s.head > 0) {
      s.entries = [];
      s.head = 0;
    }
  }

  /** Trims every stream now and removes those idle past `streamTtl`. */
  sweep(): void {
    this.#sweep(this.#now());
  }

  /** Trims every stream and removes those idle past `streamTtl` (their epoch goes with them). */
  #sweep(now: number): void {
    this.#nextSweep = now + Math.min(this.#maxAge, this.#streamTtl);
    const idle = now - this.#streamTtl;
    for (const [name, s] of this.#streams) {
      if (s.lastAppend <= idle) this.#streams.delete(name);
      else this.#trim(s, now);
    }
  }
}
