/**
 * One scheduler for many timers: a hashed timer wheel driven by a single
 * interval. Engine.IO needs a heartbeat deadline per session (and an upgrade
 * deadline while one is in progress); a `setTimeout` each would cost a timer
 * object, a closure and a heap operation per socket, so sessions instead own a
 * small {@link TimerEntry} that the wheel links into one of its slots.
 *
 * Scheduling and cancelling are O(1); each tick visits one slot. Deadlines are
 * rounded up to the wheel's resolution, so a timer never fires early.
 *
 * @example
 * const wheel = new TimerWheel({ resolution: 100 });
 * const entry = new TimerEntry({ onTimer: () => console.log("due") }, 0);
 * wheel.schedule(entry, 2500);
 * wheel.cancel(entry);
 */

/** Receives the expiry of the entries it owns. */
export interface TimerTarget {
  onTimer(entry: TimerEntry): void;
}

/**
 * A reusable timer slot owned by one target. `kind` lets a target tell its
 * entries apart without a closure per entry.
 */
export class TimerEntry {
  readonly target: TimerTarget;
  readonly kind: number;
  /** Absolute tick at which the entry is due, or -1 when not scheduled. */
  tick = -1;
  next: TimerEntry | null = null;
  prev: TimerEntry | null = null;
  /** Slot index while linked, else -1. */
  slot = -1;
  /** Set while the entry waits in the due list of the current tick. */
  due = false;

  constructor(target: TimerTarget, kind: number) {
    this.target = target;
    this.kind = kind;
  }

  /** Whether the entry is scheduled (linked or due in the running tick). */
  get scheduled(): boolean {
    return this.slot !== -1 || this.due;
  }
}

export interface TimerWheelOptions {
  /** Milliseconds per tick. Default 100. */
  resolution?: number;
  /** Number of slots in the wheel. Default 512. */
  slots?: number;
  /** Clock, injectable for tests. Default `Date.now`. */
  now?: () => number;
  /** Whether the wheel drives itself with an (unref'd) interval. Default true. */
  autoStart?: boolean;
}

export class TimerWheel {
  readonly resolution: number;
  readonly #slots: (TimerEntry | null)[];
  readonly #now: () => number;
  readonly #autoStart: boolean;
  readonly #origin: number;
  /** Last tick processed. */
  #cursor = 0;
  #size = 0;
  #interval: NodeJS.Timeout | null = null;
  readonly #dueList: TimerEntry[] = [];

  constructor(options: TimerWheelOptions = {}) {
    this.resolution = Math.max(1, Math.floor(options.resolution ?? 100));
    this.#slots = new Array(Math.max(8, options.slots ?? 512)).fill(null);
    this.#now = options.now ?? Date.now;
    this.#autoStart = options.autoStart !== false;
    this.#origin = this.#now();
  }

  /** Number of scheduled entries. */
  get size(): number {
    return this.#size;
  }

  /** (Re)schedules `entry` to fire `delay` milliseconds from now. */
  schedule(entry: TimerEntry, delay: number): void {
    if (entry.slot !== -1) {
      this.#unlink(entry);
      this.#size--;
    } else if (entry.due) {
      entry.due = false;
      this.#size--;
    }
    if (this.#autoStart && this.#interval === null) this.#start();
    const elapsed = this.#now() - this.#origin + Math.max(0, delay);
    // Round up: an entry must never fire before its delay has passed.
    const tick = Math.max(this.#cursor + 1, Math.ceil(elapsed / this.resolution));
    const slot = tick % this.#slots.length;
    entry.tick = tick;
    entry.slot = slot;
    entry.prev = null;
    const head = this.#slots[slot];
    entry.next = head;
    if (head) head.prev = entry;
    this.#slots[slot] = entry;
    this.#size++;
  }

  /** Cancels `entry`; a no-op when it is not scheduled. */
  cancel(entry: TimerEntry): void {
    if (entry.slot !== -1) {
      this.#unlink(entry);
      entry.tick = -1;
      this.#size--;
    } else if (entry.due) {
      entry.due = false;
      entry.tick = -1;
      this.#size--;
    }
    if (this.#size === 0) this.#stop();
  }

  /**
   * Fires every entry whose deadline has passed. Called by the wheel's own
   * interval; tests with an injected clock call it directly.
   */
  advance(): void {
    const target = Math.floor((this.#now() - this.#origin) / this.resolution);
    if (target <= this.#cursor) return;
    const slots = this.#slots.length;
    // After a long stall every slot is visited once instead of every tick.
    const from = target - this.#cursor > slots ? target - slots : this.#cursor;
    const due = this.#dueList;
    for (let t = from + 1; t <= target; t++) {
      let entry = this.#slots[t % slots];
      while (entry) {
        const next: TimerEntry | null = entry.next;
        if (entry.tick <= target) {
          this.#unlink(entry);
          entry.due = true;
          due.push(entry);
        }
        entry = next;
      }
    }
    this.#cursor = target;
    for (let i = 0; i < due.length; i++) {
      const entry = due[i];
      // An earlier callback may have cancelled or rescheduled this entry.
      if (!entry.due) continue;
      entry.due = false;
      entry.tick = -1;
      this.#size--;
      fire(entry);
    }
    due.length = 0;
    if (this.#size === 0) this.#stop();
  }

  /** Cancels everything and stops the interval. */
  close(): void {
    for (let i = 0; i < this.#slots.length; i++) {
      let entry = this.#slots[i];
      while (entry) {
        const next: TimerEntry | null = entry.next;
        entry.next = entry.prev = null;
        entry.slot = -1;
        entry.tick = -1;
        entry = next;
      }
      this.#slots[i] = null;
    }
    this.#size = 0;
    this.#stop();
  }

  #unlink(entry: TimerEntry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.#slots[entry.slot] = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    entry.next = entry.prev = null;
    entry.slot = -1;
  }

  #start(): void {
    // Nothing is linked while the wheel is stopped, so the cursor may jump to
    // the present instead of replaying the idle ticks.
    this.#cursor = Math.max(
      this.#cursor,
      Math.floor((this.#now() - this.#origin) / this.resolution) - 1,
    );
    this.#interval = setInterval(() => this.advance(), this.resolution);
    this.#interval.unref();
  }

  #stop(): void {
    if (this.#interval !== null) {
      clearInterval(this.#interval);
      this.#interval = null;
    }
  }
}

/** One {@link TimerLists} list: the entries of one delay, in deadline order. */
class DelayList {
  readonly delay: number;
  head: TimerEntry | null = null;
  tail: TimerEntry | null = null;

  constructor(delay: number) {
    this.delay = delay;
  }
}

export interface TimerListsOptions {
  /** Clock in milliseconds, injectable for tests. Default `performance.now` (monotonic). */
  now?: () => number;
  /** Whether the lists arm their own (unref'd) timer. Default true. */
  autoStart?: boolean;
}

/**
 * Precise deadlines for many entries with few distinct delays (Engine.IO's
 * `pingInterval`, `pingTimeout`, `upgradeTimeout`), as Node keeps its own
 * timers: one FIFO list per delay. Entries appended with the same delay are
 * due in the order they were appended, so each list is sorted for free and
 * only its head is ever compared; one shared `setTimeout`, armed for the
 * earliest head, drives them all. An entry fires within the event loop's
 * lateness of its deadline (no rounding to a tick), where a {@link TimerWheel}
 * may fire up to a tick late.
 *
 * Scheduling and cancelling are O(1) (plus one map look-up); a firing visits
 * the due entries and the head of each list. An entry is linked only while
 * scheduled: cancelling unlinks it, so nothing keeps a cancelled entry (or
 * its target) reachable, and a list that empties is dropped.
 *
 * @example
 * const timers = new TimerLists();
 * const entry = new TimerEntry({ onTimer: () => console.log("due") }, 0);
 * timers.schedule(entry, 2500);
 * timers.cancel(entry);
 */
/**
 * Deadlines are whole milliseconds from the lists' origin, so an entry's
 * `tick` stays a small integer: a fractional or large number would make V8
 * store every entry's `tick` as a boxed double (16 more bytes per session).
 * Before they outgrow that range (about 12 days), the origin moves forward.
 */
const REBASE_AT = 2 ** 30;

export class TimerLists {
  readonly #lists = new Map<number, DelayList>();
  readonly #now: () => number;
  readonly #autoStart: boolean;
  /** Clock reading that deadlines count from. */
  #origin: number;
  #size = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The deadline the timer is armed for (Infinity when unarmed). */
  #armedAt = Number.POSITIVE_INFINITY;
  readonly #dueList: TimerEntry[] = [];
  readonly #fire = (): void => {
    this.#timer = null;
    this.#armedAt = Number.POSITIVE_INFINITY;
    this.advance();
  };

  constructor(options: TimerListsOptions = {}) {
    this.#now = options.now ?? performance.now.bind(performance);
    this.#autoStart = options.autoStart !== false;
    this.#origin = this.#now();
  }

  /** Milliseconds since the origin (fractional). */
  #clock(): number {
    return this.#now() - this.#origin;
  }

  /** Number of scheduled entries. */
  get size(): number {
    return this.#size;
  }

  /** Number of delay lists held (tests: empty lists are dropped). */
  get lists(): number {
    return this.#lists.size;
  }

  /** (Re)schedules `entry` to fire `delay` milliseconds from now. */
  schedule(entry: TimerEntry, delay: number): void {
    this.#link(entry, delay, this.#clock());
  }

  /**
   * Reschedules an entry from inside its own `onTimer`, `delay` after the
   * deadline it just fired for rather than after now: a chain of deadlines
   * (a ping, then its pong deadline) does not add up the lateness of each
   * firing. The lateness made up for is capped at a tenth of `delay`, so a
   * long stall still leaves most of `delay` ahead.
   */
  scheduleNext(entry: TimerEntry, delay: number): void {
    const now = this.#clock();
    const fired = entry.tick;
    const from = fired >= 0 && fired <= now ? Math.max(fired, now - delay / 10) : now;
    this.#link(entry, delay, from);
  }

  /** Cancels `entry`; a no-op when it is not scheduled. */
  cancel(entry: TimerEntry): void {
    if (entry.slot !== -1) {
      this.#unlink(entry);
      this.#size--;
    } else if (entry.due) {
      entry.due = false;
      this.#size--;
    }
    entry.tick = -1;
    if (this.#size === 0) this.#disarm();
  }

  /**
   * Fires every entry whose deadline has passed. Called by the shared timer;
   * tests with an injected clock call it directly.
   */
  advance(): void {
    const now = this.#clock();
    const due = this.#dueList;
    for (const list of this.#lists.values()) {
      let entry = list.head;
      while (entry !== null && entry.tick <= now) {
        const next: TimerEntry | null = entry.next;
        this.#unlink(entry);
        entry.due = true;
        due.push(entry);
        entry = next;
      }
    }
    for (let i = 0; i < due.length; i++) {
      const entry = due[i];
      // An earlier callback may have cancelled or rescheduled this entry.
      if (!entry.due) continue;
      entry.due = false;
      this.#size--;
      // `tick` still holds the deadline here, for `scheduleNext`.
      fire(entry);
    }
    // Drop the references: the due list must not keep dead entries reachable.
    due.length = 0;
    this.#rearm();
  }

  /** Cancels everything and stops the timer. */
  close(): void {
    for (const list of this.#lists.values()) {
      let entry = list.head;
      while (entry !== null) {
        const next: TimerEntry | null = entry.next;
        entry.next = entry.prev = null;
        entry.slot = -1;
        entry.tick = -1;
        entry = next;
      }
    }
    this.#lists.clear();
    this.#size = 0;
    this.#disarm();
  }

  #link(entry: TimerEntry, delay: number, from: number): void {
    if (entry.slot !== -1) {
      this.#unlink(entry);
      this.#size--;
    } else if (entry.due) {
      entry.due = false;
      this.#size--;
    }
    const key = delay > 0 ? delay : 0;
    let list = this.#lists.get(key);
    if (list === undefined) {
      list = new DelayList(key);
      this.#lists.set(key, list);
    }
    // Rounded up: an entry never fires before its delay has passed.
    let deadline = Math.ceil(from + key);
    if (deadline >= REBASE_AT) deadline -= this.#rebase();
    entry.tick = deadline;
    // The list's key stands in `slot` while linked: unlinking finds the list by it.
    entry.slot = key;
    entry.next = null;
    entry.prev = list.tail;
    if (list.tail !== null) list.tail.next = entry;
    else list.head = entry;
    list.tail = entry;
    this.#size++;
    if (deadline < this.#armedAt) this.#arm(deadline);
  }

  #unlink(entry: TimerEntry): void {
    const list = this.#lists.get(entry.slot) as DelayList;
    if (entry.prev !== null) entry.prev.next = entry.next;
    else list.head = entry.next;
    if (entry.next !== null) entry.next.prev = entry.prev;
    else list.tail = entry.prev;
    entry.next = entry.prev = null;
    entry.slot = -1;
    if (list.head === null) this.#lists.delete(list.delay);
  }

  /**
   * Moves the origin to the present and every deadline with it (once in
   * about 12 days of uptime: a walk over the scheduled entries). Returns the
   * shift. Entries of a firing in progress move too, for `scheduleNext`.
   */
  #rebase(): number {
    const shift = Math.floor(this.#clock());
    this.#origin += shift;
    for (const list of this.#lists.values()) {
      for (let entry = list.head; entry !== null; entry = entry.next) entry.tick -= shift;
    }
    const due = this.#dueList;
    for (let i = 0; i < due.length; i++) if (due[i].slot === -1) due[i].tick -= shift;
    if (this.#armedAt !== Number.POSITIVE_INFINITY) this.#armedAt -= shift;
    return shift;
  }

  /** Arms the timer for the earliest head (after a firing). */
  #rearm(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const list of this.#lists.values()) {
      const head = list.head as TimerEntry;
      if (head.tick < earliest) earliest = head.tick;
    }
    if (earliest === Number.POSITIVE_INFINITY) this.#disarm();
    else if (earliest !== this.#armedAt) this.#arm(earliest);
  }

  #arm(deadline: number): void {
    if (!this.#autoStart) {
      this.#armedAt = deadline;
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#armedAt = deadline;
    // Node's timers never fire early (whole milliseconds, rounded up); a
    // firing before the clock reaches the deadline finds nothing and re-arms.
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(deadline - this.#clock())));
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#armedAt = Number.POSITIVE_INFINITY;
  }
}

/**
 * Runs one due timer. A throwing target must not stop the other timers of
 * the same firing: its error is rethrown on its own, as an uncaught error.
 */
function fire(entry: TimerEntry): void {
  try {
    entry.target.onTimer(entry);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
