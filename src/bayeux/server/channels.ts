/**
 * Channel routing on the shared topic router. A subscription to `/a/b` is the
 * topic `bayeux//a/b`; a wildcard subscription is kept under its pattern
 * (`bayeux//a/*`), and a publish to `/a/b/c` looks up the exact topic plus
 * the patterns of each prefix (`/a/b/*`, `/a/b/**`, `/a/**`, `/**`), so the
 * cost of a publish grows with the depth of the channel, not with the number
 * of patterns.
 */
import { wildcardPatterns } from "../../codec/bayeux/index.js";
import { bayeuxTopic, TopicRouter } from "../../core/index.js";
import type { ChannelSubscriber, Delivery } from "./delivery.js";

/** Whether a channel or its topic is a pattern (`*` and `**` end a channel, section 2.2.1). */
function isPattern(channel: string): boolean {
  return channel.charCodeAt(channel.length - 1) === 0x2a;
}

export class ChannelRouter {
  readonly topics: TopicRouter<ChannelSubscriber>;
  /**
   * Pattern subscriptions made through this router: while there are none, a
   * publish looks up its exact channel only (no prefix patterns to build).
   */
  #patterns: number;

  constructor(topics?: TopicRouter<ChannelSubscriber>) {
    this.topics = topics ?? new TopicRouter();
    // A router shared with others may hold patterns this one never saw.
    this.#patterns = topics === undefined ? 0 : Number.POSITIVE_INFINITY;
  }

  /** Subscribes to a channel name or pattern. Returns false when already subscribed. */
  subscribe(subscriber: ChannelSubscriber, channel: string): boolean {
    const added = this.topics.subscribe(subscriber, bayeuxTopic(channel));
    if (added && isPattern(channel)) this.#patterns++;
    return added;
  }

  unsubscribe(subscriber: ChannelSubscriber, channel: string): boolean {
    const removed = this.topics.unsubscribe(subscriber, bayeuxTopic(channel));
    if (removed && isPattern(channel)) this.#patterns--;
    return removed;
  }

  unsubscribeAll(subscriber: ChannelSubscriber): void {
    const removed = this.topics.unsubscribeAll(subscriber);
    if (removed === undefined || this.#patterns === 0) return;
    for (const topic of removed) if (isPattern(topic)) this.#patterns--;
  }

  /** Number of channels (names and patterns) `subscriber` is on. */
  count(subscriber: ChannelSubscriber): number {
    return this.topics.topicsOf(subscriber)?.size ?? 0;
  }

  isSubscribed(subscriber: ChannelSubscriber, channel: string): boolean {
    return this.topics.isSubscribed(subscriber, bayeuxTopic(channel));
  }

  /**
   * Hands `delivery` to every subscriber of its channel, once each even when
   * several of its subscriptions match. Returns the number of recipients.
   */
  publish(delivery: Delivery): number {
    const channel = delivery.message.channel;
    const exact = bayeuxTopic(channel);
    let matched: string[] | undefined;
    if (this.#patterns > 0) {
      for (const pattern of wildcardPatterns(channel)) {
        const topic = bayeuxTopic(pattern);
        if (this.topics.has(topic)) (matched ??= []).push(topic);
      }
    }
    if (!matched) {
      const members = this.topics.subscribers(exact);
      if (!members || members.size === 0) return 0;
      // Encoded now, as published: data changed later must not leak into it.
      void delivery.json;
      // Copy-free walk of one set; a subscriber may unsubscribe while
      // receiving, which a Set iteration tolerates.
      for (const subscriber of members) subscriber.deliver(delivery);
      return members.size;
    }
    if (this.topics.has(exact)) matched.push(exact);
    void delivery.json;
    return this.topics.forEach(matched, undefined, (subscriber) => subscriber.deliver(delivery));
  }
}
