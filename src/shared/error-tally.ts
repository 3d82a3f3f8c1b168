/**
 * Errors a layer reports to operators: a count per string code and the last
 * few occurrences (a ring, newest last). Errors are the cold path, so a
 * method call per error is fine; the hot paths never come here.
 *
 * @example
 * const errors = new ErrorTally();
 * errors.add("UNKNOWN_SID", "Session ID unknown");
 * errors.counts; // { UNKNOWN_SID: 1 }
 */

/** One occurrence, as the ring keeps it. */
export interface ErrorOccurrence {
  /** Epoch ms. */
  time: number;
  code: string;
  message: string;
}

/** How many occurrences the ring keeps. */
export const RECENT_ERRORS = 50;
/** How many distinct codes are counted; any other code counts as `other`. */
const MAX_CODES = 100;

export class ErrorTally {
  /** Occurrences by code since start. */
  readonly counts: Record<string, number> = Object.create(null);
  #codes = 0;
  readonly #ring: ErrorOccurrence[] = [];
  #next = 0;

  add(code: string, message: string): void {
    let key = code;
    if (this.counts[key] === undefined) {
      if (this.#codes >= MAX_CODES) key = "other";
      else this.#codes++;
    }
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    const entry = { time: Date.now(), code, message };
    if (this.#ring.length < RECENT_ERRORS) this.#ring.push(entry);
    else {
      this.#ring[this.#next] = entry;
      this.#next = (this.#next + 1) % RECENT_ERRORS;
    }
  }

  /** The kept occurrences, oldest first. */
  recent(): ErrorOccurrence[] {
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }
}
