/**
 * Subscriptions held by a client: per channel (or channel pattern), the
 * callbacks to call and whether the server has acknowledged the
 * `/meta/subscribe`. The registry outlives server sessions: after a new
 * handshake every channel in it is subscribed again.
 */
import { isChannelPattern, wildcardPatterns } from "../../codec/bayeux/index.js";
import type { DeliveredMessage, SubscriptionCallback } from "./types.js";

/** The client operations a subscription needs. */
export interface SubscriptionOwner {
  cancelSubscription(subscription: Subscription): Promise<void>;
}

/**
 * One `subscribe()` call: a callback on a channel or pattern.
 *
 * @example
 * const sub = await client.subscribe("/chat/*", (message) => console.log(message.data));
 * await sub.cancel();
 */
export class Subscription {
  readonly channel: string;
  readonly callback: SubscriptionCallback;
  #owner: SubscriptionOwner;
  #active = true;

  constructor(owner: SubscriptionOwner, channel: string, callback: SubscriptionCallback) {
    this.#owner = owner;
    this.channel = channel;
    this.callback = callback;
  }

  /** False once cancelled (or refused by the server). */
  get active(): boolean {
    return this.#active;
  }

  /** Marks the subscription finished; its callback is not called any more. */
  deactivate(): void {
    this.#active = false;
  }

  /** Stops this callback; unsubscribes from the server when it was the channel's last. */
  cancel(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    return this.#owner.cancelSubscription(this);
  }
}

/** A `subscribe()` promise waiting for the server's acknowledgement. */
export interface SubscribeWaiter {
  subscription: Subscription;
  resolve(subscription: Subscription): void;
  reject(error: Error): void;
}

/** What the client knows about one subscribed channel. */
export interface ChannelEntry {
  readonly channel: string;
  readonly subscriptions: Set<Subscription>;
  /** The server confirmed the subscription in the current session. */
  acknowledged: boolean;
  /** A `/meta/subscribe` for it is waiting for a reply. */
  inFlight: boolean;
  waiters: SubscribeWaiter[];
}

export class SubscriptionRegistry {
  #entries = new Map<string, ChannelEntry>();
  #patterns = 0;

  get size(): number {
    return this.#entries.size;
  }

  get(channel: string): ChannelEntry | undefined {
    return this.#entries.get(channel);
  }

  /** Adds a subscription, creating its channel's entry when new. */
  add(subscription: Subscription): ChannelEntry {
    let entry = this.#entries.get(subscription.channel);
    if (!entry) {
      entry = {
        channel: subscription.channel,
        subscriptions: new Set(),
        acknowledged: false,
        inFlight: false,
        waiters: [],
      };
      this.#entries.set(subscription.channel, entry);
      if (isChannelPattern(subscription.channel)) this.#patterns++;
    }
    entry.subscriptions.add(subscription);
    return entry;
  }

  /** Removes one subscription; returns its entry, which the caller drops when now empty. */
  remove(subscription: Subscription): ChannelEntry | undefined {
    subscription.deactivate();
    const entry = this.#entries.get(subscription.channel);
    if (!entry) return undefined;
    entry.subscriptions.delete(subscription);
    if (entry.subscriptions.size === 0) this.delete(entry.channel);
    return entry;
  }

  /** Drops a channel's entry and all its subscriptions. */
  delete(channel: string): ChannelEntry | undefined {
    const entry = this.#entries.get(channel);
    if (!entry) return undefined;
    this.#entries.delete(channel);
    if (isChannelPattern(channel)) this.#patterns--;
    for (const subscription of entry.subscriptions) subscription.deactivate();
    return entry;
  }

  entries(): IterableIterator<ChannelEntry> {
    return this.#entries.values();
  }

  /** After a new handshake the server knows none of our subscriptions. */
  forgetAcknowledgements(): void {
    for (const entry of this.#entries.values()) {
      entry.acknowledged = false;
      entry.inFlight = false;
    }
  }

  /**
   * Calls every subscription matching `message.channel`: exact name first,
   * then wildcard patterns (Bayeux 1.0 section 2.2.1), each looked up once.
   * Returns how many callbacks ran; `onError` gets any that threw.
   */
  dispatch(message: DeliveredMessage, onError: (channel: string, err: unknown) => void): number {
    let calls = this.#call(this.#entries.get(message.channel), message, onError);
    if (this.#patterns > 0) {
      for (const pattern of wildcardPatterns(message.channel)) {
        calls += this.#call(this.#entries.get(pattern), message, onError);
      }
    }
    return calls;
  }

  #call(
    entry: ChannelEntry | undefined,
    message: DeliveredMessage,
    onError: (channel: string, err: unknown) => void,
  ): number {
    if (!entry) return 0;
    let calls = 0;
    for (const subscription of entry.subscriptions) {
      if (!subscription.active) continue;
      calls++;
      try {
        subscription.callback(message);
      } catch (err) {
        onError(entry.channel, err);
      }
    }
    return calls;
  }
}
