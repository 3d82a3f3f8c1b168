/**
 * Coalesced reads of a message log: when many clients of one stream restore
 * at once (a node restarts, a thousand sockets reconnect in the same second)
 * each would read the stream from its own offset, nearly all of them the
 * same few entries. Reads of one stream that arrive together, in the same
 * tick or while a read of that stream is in flight, share ONE `readAfter`
 * from the smallest of their offsets (`compare` orders them), and each
 * caller is answered with the entries after its own offset.
 *
 * What cannot share: an offset of another epoch than the smallest's (or not
 * an offset at all) is read in a burst of its own; when the smallest offset
 * reads as `gap`, its callers get the gap and the others are read again
 * without it; an offset past the last entry of the shared read (appended
 * after it) gets a read of its own, so every caller gets exactly what its
 * own `readAfter` would have answered.
 */
import type { LogEntry, MessageLog, ReadResult } from "./message-log.js";

/** How many reads were asked for and how many `readAfter`s answered them. */
export interface CoalescingStats {
  /** `read` calls. */
  requests: number;
  /** `readAfter` calls made on the log. */
  reads: number;
  /** Requests answered by a `readAfter` made for another request too. */
  coalesced: number;
}

interface Request {
  offset: string | null;
  resolve(result: ReadResult): void;
  reject(err: unknown): void;
}

/** The reads of one stream waiting for the read in flight to finish. */
interface Queue {
  waiting: Request[];
  /** The wait for more of a burst (with a `burstWindow`), until its first read starts. */
  timer?: NodeJS.Timeout;
  since?: number;
}

/**
 * @example
 * const reader = new CoalescingLogReader(log);
 * const found = await reader.read("sio/chat", clientOffset); // as log.readAfter(stream, offset)
 * reader.stats; // { requests: 1000, reads: 1, coalesced: 999 } after a burst of 1000
 */
export class CoalescingLogReader {
  readonly stats: CoalescingStats = { requests: 0, reads: 0, coalesced: 0 };
  readonly #log: MessageLog;
  readonly #queues = new Map<string, Queue>();
  readonly #window: number;

  /**
   * `burstWindow`: milliseconds of quiet a burst's first read waits for
   * (each new request restarts the wait, four windows at most; default 0:
   * the rest of the tick). A reconnect storm's clients arrive over tens of
   * milliseconds, each after its own handshake.
   */
  constructor(log: MessageLog, options: { burstWindow?: number } = {}) {
    this.#log = log;
    this.#window = options.burstWindow ?? 0;
  }

  /** The entries of `stream` after `offset` (`null`: every entry kept), as `readAfter` answers. */
  read(stream: string, offset: string | null): Promise<ReadResult> {
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const request = { offset, resolve, reject };
      const queue = this.#queues.get(stream);
      if (queue !== undefined) {
        queue.waiting.push(request);
        if (queue.timer !== undefined && Date.now() - (queue.since ?? 0) < 4 * this.#window) {
          queue.timer.refresh();
        }
        return;
      }
      const fresh: Queue = { waiting: [request] };
      this.#queues.set(stream, fresh);
      if (this.#window > 0) {
        fresh.since = Date.now();
        fresh.timer = setTimeout(() => {
          fresh.timer = undefined;
          void this.#drain(stream, fresh);
        }, this.#window);
      } else {
        // A microtask: the rest of this tick's reads of the stream join the burst.
        queueMicrotask(() => void this.#drain(stream, fresh));
      }
    });
  }

  /** Serves the stream's bursts one after another until none waits. */
  async #drain(stream: string, queue: Queue): Promise<void> {
    while (queue.waiting.length > 0) {
      const burst = queue.waiting;
      queue.waiting = [];
      await this.#serve(stream, burst);
    }
    this.#queues.delete(stream);
  }

  /** Answers `burst`: one shared read per epoch among its offsets. */
  async #serve(stream: string, burst: Request[]): Promise<void> {
    const log = this.#log;
    const reads: Promise<void>[] = [];
    let rest = burst;
    while (rest.length > 0) {
      const head = rest[0].offset;
      if (head === null || log.compare(head, head) === undefined) {
        // Reads from the start share among themselves; a malformed offset reads alone.
        const group = head === null ? rest.filter((r) => r.offset === null) : [rest[0]];
        rest = head === null ? rest.filter((r) => r.offset !== null) : rest.slice(1);
        reads.push(this.#shared(stream, head, group));
        continue;
      }
      let smallest = head;
      const group: Request[] = [];
      const others: Request[] = [];
      for (const r of rest) {
        const order = r.offset === null ? undefined : log.compare(r.offset, head);
        if (order === undefined) others.push(r);
        else {
          group.push(r);
          if ((log.compare(r.offset as string, smallest) ?? 0) < 0) smallest = r.offset as string;
        }
      }
      rest = others;
      reads.push(this.#shared(stream, smallest, group));
    }
    await Promise.all(reads);
  }

  /** One `readAfter` from `from` (the smallest offset of `group`), each request answered from it. */
  async #shared(stream: string, from: string | null, group: Request[]): Promise<void> {
    this.stats.reads++;
    let result: ReadResult;
    try {
      result = await this.#log.readAfter(stream, from);
    } catch (err) {
      for (const r of group) r.reject(err);
      return;
    }
    const log = this.#log;
    const again: Request[] = [];
    let answered = 0;
    for (const r of group) {
      if (r.offset === from) {
        r.resolve(answered++ === 0 ? result : copy(result));
        continue;
      }
      const entries = result.entries;
      const last = entries.length > 0 ? entries[entries.length - 1].offset : from;
      // Past the shared read's end, or told gap from a smaller offset: read again.
      if (
        result.status !== "complete" ||
        last === null ||
        (log.compare(r.offset as string, last) ?? 1) > 0
      ) {
        again.push(r);
        continue;
      }
      answered++;
      r.resolve({
        status: "complete",
        entries: entries.slice(after(log, entries, r.offset as string)),
      });
    }
    this.stats.coalesced += Math.max(0, answered - 1);
    if (again.length > 0) await this.#serve(stream, again);
  }
}

/** Index of the first of `entries` (ordered) after `offset`. */
function after(log: MessageLog, entries: LogEntry[], offset: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((log.compare(entries[mid].offset, offset) ?? 1) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A result of its own for another caller (its entries array may be changed freely). */
function copy(result: ReadResult): ReadResult {
  return result.status === "gap" ? result : { status: result.status, entries: [...result.entries] };
}
