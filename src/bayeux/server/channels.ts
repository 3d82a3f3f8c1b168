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

export class ChannelRouter {
  readonly topics: TopicRouter<ChannelSubscriber>;

  constructor(topics: TopicRouter<ChannelSubscriber> = new TopicRouter()) {
    this.topics = topics;
  }

  /** Subscribes to a channel name or pattern. Returns false when already subscribed. */
  subscribe(subscriber: ChannelSubscriber, channel: string): boolean {
    return this.topics.subscribe(subscriber, bayeuxTopic(channel));
  }

  unsubscribe(subscriber: ChannelSubscriber, channel: string): boolean {
    return this.topics.unsubscribe(subscriber, bayeuxTopic(channel));
  }

  unsubscribeAll(subscriber: ChannelSubscriber): void {
    this.topics.unsubscribeAll(subscriber);
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
    for (const pattern of wildcardPatterns(channel)) {
      const topic = bayeuxTopic(pattern);
      if (this.topics.has(topic)) (matched ??= []).push(topic);
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
