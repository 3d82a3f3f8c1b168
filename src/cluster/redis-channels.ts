/**
 * Keeps a Redis broker's channel subscriptions in line with its handlers.
 * Handlers come and go one at a time (Socket.IO makes a topic per socket
 * room), so changes are collected and sent once per tick: one SSUBSCRIBE and
 * one SUNSUBSCRIBE for all of them (per slot in a cluster). A flush looks
 * only at the channels marked since the previous one, and flushes run one
 * after another, so a subscribe and an unsubscribe of one channel reach
 * Redis in the order they were made.
 *
 * A channel counts as `confirmed` from the moment Redis acknowledged its
 * subscription until an unsubscribe is about to be sent (or the connection
 * is lost): a publish reply's receiver count includes this node exactly then.
 * `onAdded` runs after each flush that subscribed channels, before the flush
 * resolves (the broker tells other nodes there, see redis-lonely.ts).
 */
import type { Logger } from "../shared/logger.js";
import type { ChannelListener, RedisTransport } from "./redis-transport.js";

export class ChannelSync {
  readonly #transport: RedisTransport;
  readonly #listener: ChannelListener;
  readonly #logger: Logger;
  readonly #connected: Promise<unknown>;
  /** Channels subscribed (or being subscribed) on Redis. */
  readonly #subscribed = new Set<string>();
  /** Channels Redis confirmed and no unsubscribe was sent for. */
  readonly #confirmed = new Set<string>();
  readonly #onAdded: (channels: string[]) => Promise<void>;
  /** Channels to look at in the next flush, with whether each is still wanted. */
  readonly #dirty = new Map<string, () => boolean>();
  #scheduled: Promise<void> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  /** Flushes wait for `connected` (the broker's start). */
  constructor(
    transport: RedisTransport,
    listener: ChannelListener,
    logger: Logger,
    connected: Promise<unknown>,
    onAdded: (channels: string[]) => Promise<void> = async () => {},
  ) {
    this.#onAdded = onAdded;
    this.#transport = transport;
    this.#listener = listener;
    this.#logger = logger;
    this.#connected = connected;
  }

  /** `channel` may have gained or lost its last handler; `wanted` says which. */
  mark(channel: string, wanted: () => boolean): void {
    this.#dirty.set(channel, wanted);
  }

  /** After a reconnect: Redis holds none of this node's channels any more. */
  forgetAll(): void {
    this.#subscribed.clear();
    this.#confirmed.clear();
  }

  /** Whether Redis counts this node among `channel`'s receivers for sure. */
  confirmed(channel: string): boolean {
    return this.#confirmed.has(channel);
  }

  /** The channels subscribed on Redis. */
  subscribed(): string[] {
    return [...this.#subscribed];
  }

  /** Resolves once the changes marked so far reached Redis (or failed, logged). */
  flushSoon(): Promise<void> {
    if (this.#scheduled === undefined) {
      this.#scheduled = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.#connected)
        .catch(() => {})
        .then(() => {
          this.#scheduled = undefined;
          const run = this.#chain.then(() => this.#flush());
          this.#chain = run;
          return run;
        });
    }
    return this.#scheduled;
  }

  /** Unsubscribes every channel (when leaving with connections that stay open). */
  async leave(): Promise<void> {
    const all = this.subscribed();
    this.#subscribed.clear();
    this.#confirmed.clear();
    await this.#transport.unsubscribe(all, this.#listener);
  }

  close(): void {
    this.#closed = true;
    this.#dirty.clear();
  }

  async #flush(): Promise<void> {
    if (this.#closed) return;
    const add: string[] = [];
    const remove: string[] = [];
    for (const [channel, wanted] of this.#dirty) {
      if (wanted()) {
        if (!this.#subscribed.has(channel)) {
          this.#subscribed.add(channel);
          add.push(channel);
        }
      } else if (this.#subscribed.delete(channel)) {
        this.#confirmed.delete(channel);
        remove.push(channel);
      }
    }
    this.#dirty.clear();
    try {
      await Promise.all([
        this.#transport.subscribe(add, this.#listener),
        this.#transport.unsubscribe(remove, this.#listener),
      ]);
      const added = add.filter((channel) => this.#subscribed.has(channel));
      for (const channel of added) this.#confirmed.add(channel);
      if (added.length > 0)
        await this.#onAdded(added).catch((err) =>
          this.#logger.warn({ channels: added.length, err }, "announcing new channels failed"),
        );
    } catch (err) {
      // Subscribed again with every other channel when the connection is back.
      for (const channel of add) this.#subscribed.delete(channel);
      this.#logger.warn(
        { channels: add.length, err },
        "subscribing channels failed (done again on reconnect)",
      );
    }
  }
}
