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
 * offset. Sequences start at 1: `<epoch>.0` is the start of the epoch, the
 * position of a follower that joined an empty stream.
 *
 * Followers are handed each entry synchronously, inside the `appendNow`
 * (or `append`) that stored it, before it returns: a node delivering from
 * its follower delivers its own appends at once. An append made from a
 * handler is handed over after the current one, so every follower still sees
 * log order. A follower learns of a dropped or expired stream (`gap`) at the
 * first append of the new epoch. `appendOnce` keys are kept per stream in
 * insertion order, swept from the oldest on use, at most `maxLength` of them.
 */
import { randomBytes } from "node:crypto";
import { ExpiringMap } from "../shared/expiring-map.js";
import {
  type AppendOnceResult,
  checkOnceArgs,
  checkReadArgs,
  type FollowHandlers,
  GAP,
  handOver,
  type LogEntry,
  type LogFollower,
  type MessageLogLimits,
  order,
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
  /** Sequence number the next entry gets (0 names the start of the epoch). */
  next = 1;
  /** Every entry below this sequence number was trimmed. */
  trimmedBelow = 0;
  lastAppend = 0;
  /** `appendOnce` keys: the entry's offset and when the key expires, oldest first. */
  readonly once = new ExpiringMap<string>();
}

const SEQ = /^[0-9a-z]{1,11}$/;

/** A follower of one stream of a {@link MemoryMessageLog}. */
class MemoryFollower implements LogFollower {
  readonly ready = Promise.resolve();
  position: string;
  #epoch: string;
  #seq: number;
  #closed = false;
  readonly #handlers: FollowHandlers;
  readonly #detach: (f: MemoryFollower) => void;

  constructor(
    handlers: FollowHandlers,
    epoch: string,
    seq: number,
    detach: (f: MemoryFollower) => void,
  ) {
    this.#handlers = handlers;
    this.#epoch = epoch;
    this.#seq = seq;
    this.position = `${epoch}.${seq.toString(36)}`;
    this.#detach = detach;
  }

  /** Hands over entry `seq` of `epoch` unless already past it; a new epoch is a gap first. */
  take(epoch: string, seq: number, entry: LogEntry): void {
    if (this.#closed) return;
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#seq = seq - 1;
      this.position = `${epoch}.${this.#seq.toString(36)}`;
      handOver(this.#handlers, null);
      if (this.#closed) return;
    }
    if (seq <= this.#seq) return;
    this.#seq = seq;
    this.position = entry.offset;
    handOver(this.#handlers, [entry]);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach(this);
  }
}

/** An entry waiting to be handed over to the followers of its stream. */
interface Pending {
  stream: string;
  epoch: string;
  seq: number;
  entry: LogEntry;
}

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
  readonly #followers = new Map<string, Set<MemoryFollower>>();
  #pending: Pending[] = [];
  #delivering = false;

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
    const stored = { seq, at: now, payload: Buffer.from(payload) };
    s.entries.push(stored);
    this.#trim(s, now);
    const offset = `${s.epoch}.${seq.toString(36)}`;
    if (this.#followers.has(stream))
      this.#handOver({ stream, epoch: s.epoch, seq, entry: { offset, payload: stored.payload } });
    return offset;
  }

  appendOnceNow(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): AppendOnceResult {
    checkOnceArgs(stream, key, window);
    const now = this.#now();
    const seen = this.#streams.get(stream)?.once;
    if (seen !== undefined) {
      seen.expire(now);
      const hit = seen.get(key, now);
      if (hit !== undefined) return { offset: hit, duplicate: true };
    }
    const offset = this.appendNow(stream, payload);
    this.#streams.get(stream)?.once.set(key, offset, now + window, this.#maxLength);
    return { offset, duplicate: false };
  }

  /**
   * Follows `stream` (created, with a new epoch, when absent); entries are
   * handed over synchronously inside the append that stores them.
   */
  follow(stream: string, handlers: FollowHandlers): LogFollower {
    checkReadArgs(stream);
    const s = this.#open(stream, this.#now());
    let set = this.#followers.get(stream);
    if (set === undefined) {
      set = new Set();
      this.#followers.set(stream, set);
    }
    const follower = new MemoryFollower(handlers, s.epoch, s.next - 1, (f) => {
      const current = this.#followers.get(stream);
      current?.delete(f);
      if (current?.size === 0) this.#followers.delete(stream);
    });
    set.add(follower);
    return follower;
  }

  compare(a: string, b: string): number | undefined {
    const x = parseOffset(a);
    const y = parseOffset(b);
    if (x === undefined || y === undefined || x.epoch !== y.epoch) return undefined;
    return order(x.seq, y.seq);
  }

  /** Hands `p` to its stream's followers, after any hand-over in progress (an append from a handler). */
  #handOver(p: Pending): void {
    this.#pending.push(p);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let i = 0; i < this.#pending.length; i++) {
        const { stream, epoch, seq, entry } = this.#pending[i];
        const set = this.#followers.get(stream);
        if (set !== undefined) for (const f of [...set]) f.take(epoch, seq, entry);
      }
    } finally {
      this.#pending = [];
      this.#delivering = false;
    }
  }

  nextOffset(stream: string): string {
    checkReadArgs(stream);
    const s = this.#open(stream, this.#now());
    return `${s.epoch}.${s.next.toString(36)}`;
  }

  /** The stream, created (new epoch) when absent or idle past `streamTtl`. */
  #open(stream: string, now: number): Stream {
    let s = this.#streams.get(stream);
    if (s === undefined || (s.lastAppend <= now - this.#streamTtl && s.next > 1)) {
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
      const parsed = parseOffset(offset);
      if (parsed === undefined || parsed.epoch !== s.epoch) return GAP;
      const seq = parsed.seq;
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

  async appendOnce(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): Promise<AppendOnceResult> {
    return this.appendOnceNow(stream, payload, key, window);
  }

  async drop(stream: string): Promise<void> {
    this.dropNow(stream);
  }

  async replace(stream: string, payloads: readonly Uint8Array[]): Promise<void> {
    this.dropNow(stream);
    for (const payload of payloads) this.appendNow(stream, payload);
  }

  /** Forgets every stream and stops every follower. */
  async close(): Promise<void> {
    this.#streams.clear();
    for (const set of [...this.#followers.values()]) for (const f of [...set]) f.close();
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

/** The epoch and sequence of a memory offset, or `undefined` when it is not one. */
function parseOffset(offset: string): { epoch: string; seq: number } | undefined {
  if (typeof offset !== "string") return undefined;
  const dot = offset.indexOf(".");
  if (dot <= 0) return undefined;
  const seqText = offset.slice(dot + 1);
  if (!SEQ.test(seqText)) return undefined;
  return { epoch: offset.slice(0, dot), seq: Number.parseInt(seqText, 36) };
}
