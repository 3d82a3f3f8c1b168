/**
 * The hub's broker subscriptions, one per broker topic however many local
 * listeners want it: subscribed on the first listener, unsubscribed after the
 * last. Subscribing is asynchronous, so a topic wanted, dropped and wanted
 * again in one tick settles on what is wanted last, never on a stale state:
 * one operation per topic is in flight at a time, and when it ends the topic
 * is brought to what its listeners want now.
 */
import type { Broker, Unsubscribe } from "../cluster/broker.js";
import { createDebug } from "../shared/debug.js";

const debug = createDebug("core:interest");

/** Receives a broker message on a topic (the message's own topic, which a pattern may differ from). */
export type InterestListener = (topic: string, payload: Buffer, origin: string) => void;

interface Entry {
  readonly pattern: boolean;
  readonly listeners: Set<InterestListener>;
  /** The effective broker subscription, if any. */
  active: Unsubscribe | null;
  /** Whether a subscribe or unsubscribe is in flight. */
  busy: boolean;
}

export class Interest {
  readonly #broker: Broker;
  readonly #entries = new Map<string, Entry>();
  /** Operations in flight, for {@link settled}. */
  #pending = 0;
  #waiters: (() => void)[] = [];

  constructor(broker: Broker) {
    this.#broker = broker;
  }

  /** Number of broker topics this node is (or is becoming) subscribed to. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Adds a listener to `topic`; the broker subscription is made with the first.
   *
   * @example
   * interest.add("sio//lobby", (topic, bytes) => deliver(bytes), false);
   */
  add(topic: string, listener: InterestListener, pattern = false): void {
    let entry = this.#entries.get(topic);
    if (entry === undefined) {
      entry = { pattern, listeners: new Set(), active: null, busy: false };
      this.#entries.set(topic, entry);
    }
    entry.listeners.add(listener);
    this.#sync(topic, entry);
  }

  /**
   * Removes a listener; the broker subscription goes with the last one, at
   * the end of the current tick (a topic left and joined again in one tick,
   * as a room whose last member is replaced, keeps its subscription).
   */
  remove(topic: string, listener: InterestListener): void {
    const entry = this.#entries.get(topic);
    if (entry === undefined || !entry.listeners.delete(listener)) return;
    if (entry.listeners.size > 0) return;
    this.#pending++;
    queueMicrotask(() => {
      this.#pending--;
      this.#sync(topic, entry);
      this.#done();
    });
  }

  /** Whether `topic` has a listener. */
  has(topic: string): boolean {
    return (this.#entries.get(topic)?.listeners.size ?? 0) > 0;
  }

  /** Resolves once no subscription change is in flight. */
  settled(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #sync(topic: string, entry: Entry): void {
    if (entry.busy) return;
    const wanted = entry.listeners.size > 0;
    if (wanted && entry.active === null) {
      const dispatch = (message: string, payload: Buffer, origin: string) => {
        for (const listener of entry.listeners) listener(message, payload, origin);
      };
      this.#run(topic, entry, async () => {
        entry.active = await this.#broker.subscribe(topic, dispatch, { pattern: entry.pattern });
      });
    } else if (!wanted && entry.active !== null) {
      const off = entry.active;
      this.#run(topic, entry, async () => {
        entry.active = null;
        await off();
      });
    } else if (!wanted && this.#entries.get(topic) === entry) {
      this.#entries.delete(topic);
    }
  }

  #run(topic: string, entry: Entry, op: () => Promise<void>): void {
    entry.busy = true;
    this.#pending++;
    op()
      .then(
        () => true,
        (err: unknown) => {
          debug("subscription change on %s failed: %s", topic, err);
          return false;
        },
      )
      .then((ok) => {
        entry.busy = false;
        this.#pending--;
        // A failed subscribe is not retried in a loop: the next add retries it.
        if (ok) this.#sync(topic, entry);
        else if (entry.listeners.size === 0 && this.#entries.get(topic) === entry) {
          this.#entries.delete(topic);
        }
        this.#done();
      });
  }

  /** One operation ended: wakes the waiters of {@link settled} when none is left. */
  #done(): void {
    if (this.#pending !== 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
