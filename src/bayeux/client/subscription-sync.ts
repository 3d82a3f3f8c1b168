/**
 * Keeps the server's view of this client's subscriptions in step with the
 * local registry (Bayeux 1.0 sections 3.7 and 3.8, `/meta/subscribe` and
 * `/meta/unsubscribe`). A channel is subscribed once, whatever the number of
 * callbacks on it, and unsubscribed when its last callback goes. After a new
 * handshake every channel is subscribed again; requests lost with a
 * connection are sent again after the next successful connect.
 */
import { BayeuxReplyError } from "./errors.js";
import type { SessionPort } from "./requests.js";
import {
  type ChannelEntry,
  Subscription,
  type SubscriptionOwner,
  SubscriptionRegistry,
} from "./subscriptions.js";
import type { Clock, DeliveredMessage, SubscriptionCallback } from "./types.js";

/** Milliseconds before a subscribe lost in a live session is sent again. */
const SUBSCRIBE_RETRY = 500;

export class SubscriptionSync implements SubscriptionOwner {
  readonly #port: SessionPort;
  readonly #clock: Clock;
  readonly #registry = new SubscriptionRegistry();
  // Channels the server may still hold for us although nothing here wants them.
  readonly #stale = new Set<string>();

  constructor(port: SessionPort, clock: Clock) {
    this.#port = port;
    this.#clock = clock;
  }

  /** Number of channels (and patterns) subscribed. */
  get size(): number {
    return this.#registry.size;
  }

  /** Adds `callback` on `channel` (already validated); resolves on the server's acknowledgement. */
  subscribe(channel: string, callback: SubscriptionCallback): Promise<Subscription> {
    const subscription = new Subscription(this, channel, callback);
    const entry = this.#registry.add(subscription);
    if (entry.acknowledged) return Promise.resolve(subscription);
    const acknowledged = new Promise<Subscription>((resolve, reject) =>
      entry.waiters.push({ subscription, resolve, reject }),
    );
    if (this.#port.connected && !entry.inFlight) this.#sendSubscribe(entry);
    return acknowledged;
  }

  unsubscribe(channel: string, callback?: SubscriptionCallback): Promise<void> {
    const entry = this.#registry.get(channel);
    if (!entry) return Promise.resolve();
    if (callback) {
      for (const subscription of [...entry.subscriptions]) {
        if (subscription.callback === callback) this.#registry.remove(subscription);
      }
      this.#releaseWaiters(entry);
      if (this.#registry.get(channel) === entry) return Promise.resolve();
    } else {
      this.#registry.delete(channel);
    }
    return this.#unsubscribeFromServer(entry);
  }

  /** @internal Called by {@link Subscription.cancel}. */
  cancelSubscription(subscription: Subscription): Promise<void> {
    const entry = this.#registry.remove(subscription);
    if (!entry) return Promise.resolve();
    this.#releaseWaiters(entry);
    if (this.#registry.get(entry.channel) === entry) return Promise.resolve();
    return this.#unsubscribeFromServer(entry);
  }

  /** Calls the callbacks matching a delivery; returns how many ran. */
  dispatch(message: DeliveredMessage, onError: (channel: string, err: unknown) => void): number {
    return this.#registry.dispatch(message, onError);
  }

  /** A new session begins: the server knows none of our subscriptions. */
  forget(): void {
    this.#stale.clear();
    this.#registry.forgetAcknowledgements();
  }

  /** After a successful connect: send what the server is missing, take back what it should not have. */
  resume(): void {
    for (const channel of this.#stale) {
      this.#stale.delete(channel);
      if (!this.#registry.get(channel)) void this.#sendUnsubscribe(channel).catch(() => {});
    }
    for (const entry of this.#registry.entries()) {
      if (!entry.acknowledged && !entry.inFlight) this.#sendSubscribe(entry);
    }
  }

  /** Drops every subscription, rejecting those still waiting. */
  clear(error: Error): void {
    this.#stale.clear();
    for (const entry of [...this.#registry.entries()]) {
      this.#registry.delete(entry.channel);
      for (const waiter of entry.waiters) waiter.reject(error);
      entry.waiters = [];
    }
  }

  #sendSubscribe(entry: ChannelEntry): void {
    entry.inFlight = true;
    const clientId = this.#port.clientId;
    this.#port.request(
      { channel: "/meta/subscribe", subscription: entry.channel },
      this.#port.replyTimeout,
      {
        reply: (reply) => {
          if (this.#registry.get(entry.channel) !== entry) {
            // Cancelled while the request was out: take it back.
            if (reply.successful === true && clientId && this.#port.clientId === clientId) {
              void this.#sendUnsubscribe(entry.channel).catch(() => {});
            }
            return;
          }
          entry.inFlight = false;
          if (reply.successful === true) {
            if (this.#port.clientId !== clientId) return;
            entry.acknowledged = true;
            const waiters = entry.waiters;
            entry.waiters = [];
            for (const waiter of waiters) waiter.resolve(waiter.subscription);
            return;
          }
          const error = new BayeuxReplyError(reply);
          if (error.unknownClient) {
            // Kept: subscribed again after the new handshake.
            this.#port.rehandshake(error);
            return;
          }
          this.#registry.delete(entry.channel);
          this.#port.report(error, reply);
          for (const waiter of entry.waiters) waiter.reject(error);
          entry.waiters = [];
        },
        fail: () => {
          if (this.#registry.get(entry.channel) !== entry) return;
          entry.inFlight = false;
          // Sent again after the next successful connect, or (the session
          // still live: a connect held with nothing subscribed may not come
          // back for its whole timeout) after a short pause.
          if (this.#port.connected) this.#retryLater(entry, clientId);
        },
      },
    );
  }

  #retryLater(entry: ChannelEntry, clientId: string | null): void {
    this.#clock.setTimeout(() => {
      const same = this.#registry.get(entry.channel) === entry && this.#port.clientId === clientId;
      if (same && this.#port.connected && !entry.acknowledged && !entry.inFlight) {
        this.#sendSubscribe(entry);
      }
    }, SUBSCRIBE_RETRY);
  }

  #sendUnsubscribe(channel: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#port.request(
        { channel: "/meta/unsubscribe", subscription: channel },
        this.#port.replyTimeout,
        {
          reply: (reply) => {
            if (reply.successful === true) {
              resolve();
              return;
            }
            const error = new BayeuxReplyError(reply);
            this.#port.report(error, reply);
            reject(error);
          },
          fail: () => {
            this.#stale.add(channel);
            resolve();
          },
        },
      );
    });
  }

  /** Resolves `subscribe()` promises of subscriptions removed before their acknowledgement. */
  #releaseWaiters(entry: ChannelEntry): void {
    const keep = [];
    for (const waiter of entry.waiters) {
      if (waiter.subscription.active) keep.push(waiter);
      else waiter.resolve(waiter.subscription);
    }
    entry.waiters = keep;
  }

  #unsubscribeFromServer(entry: ChannelEntry): Promise<void> {
    this.#releaseWaiters(entry);
    // Not acknowledged: the server does not have it, or the subscribe reply
    // handler will take it back when it comes.
    if (!entry.acknowledged) return Promise.resolve();
    if (!this.#port.connected) {
      this.#stale.add(entry.channel);
      return Promise.resolve();
    }
    return this.#sendUnsubscribe(entry.channel);
  }
}
