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
      try {
        entry.target.onTimer(entry);
      } catch (err) {
        // A throwing target must not stop the other timers of this tick.
        queueMicrotask(() => {
          throw err;
        });
      }
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
