/**
 * Channel routing on the shared topic router. A subscription to `/a/b` is the
 * topic `bayeux//a/b`; a wildcard subscription is kept under its pattern
 * (`bayeux//a/*`), and a publish to `/a/b/c` looks up the exact topic plus
 * the patterns of each prefix (`/a/b/*`, `/a/b/**`, `/a/**`, `/**`), so the
 * cost of a publish grows with the depth of the channel, not with the number
 * of patterns.
 *
 * Across nodes, the router is a hub space: each topic with a local
 * subscriber (a pattern as a broker pattern) is subscribed on the broker, a
 * publish is delivered here and forwarded once as its encoded JSON, and a
 * node receiving it delivers to its own subscribers. `/meta/` and
 * `/service/` messages never leave their node.
 */
import {
  type BayeuxMessage,
  isMetaChannel,
  isServiceChannel,
  wildcardPatterns,
} from "../../codec/bayeux/index.js";
import {
  bayeuxTopic,
  type DecodedEnvelope,
  type Hub,
  type HubSpace,
  TopicRouter,
} from "../../core/index.js";
import { createDebug } from "../../shared/debug.js";
import { type ChannelSubscriber, Delivery } from "./delivery.js";
import type { BayeuxStats } from "./stats.js";

const debug = createDebug("bayeux:channels");

/**
 * Envelope type of a Bayeux publish between nodes: no header (the topic names
 * the channel), one frame, the delivered message's JSON.
 */
const PUBLISH = "p";

/** Whether a channel or its topic is a pattern (`*` and `**` end a channel, section 2.2.1). */
function isPattern(channel: string): boolean {
  return channel.charCodeAt(channel.length - 1) === 0x2a;
}

/**
 * @example
 * const router = new ChannelRouter(hub); // a hub with a broker: publishes reach other nodes
 * router.subscribe(session, "/chat/*");
 * router.publish(Delivery.encoded({ channel: "/chat/lobby", data: "hi" }));
 */
export class ChannelRouter {
  readonly topics: TopicRouter<ChannelSubscriber>;
  /** The hub space of the topics, when they reach other nodes. */
  readonly #space: HubSpace<ChannelSubscriber> | undefined;
  /**
   * Pattern subscriptions made through this router: while there are none, a
   * publish looks up its exact channel only (no prefix patterns to build).
   */
  #patterns: number;
  /** Where publishes are counted (deliveries, fan-out, traffic); null: not counted. */
  stats: BayeuxStats | null = null;

  /**
   * Over a router of its own, in `hub`'s space when given (a hub with a
   * broker then carries publishes between nodes), or over a shared router.
   */
  constructor(from?: TopicRouter<ChannelSubscriber> | Hub, options: { logged?: boolean } = {}) {
    if (from instanceof TopicRouter) {
      this.topics = from;
      // A router shared with others may hold patterns this one never saw.
      this.#patterns = Number.POSITIVE_INFINITY;
      return;
    }
    this.#patterns = 0;
    // With a channel log, publishes reach the nodes through the log, not the broker.
    if (from === undefined || !from.clustered || options.logged === true) {
      this.topics = new TopicRouter();
      return;
    }
    this.#space = from.space<ChannelSubscriber>({
      prefix: "",
      isPattern,
      onMessage: (via, topic, envelope, origin) => this.#onRemote(via, topic, envelope, origin),
    });
    this.topics = this.#space.router;
  }

  /** Stops receiving other nodes' publishes. */
  close(): void {
    this.#space?.close();
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
    if (this.#space !== undefined) this.#forward(delivery);
    return this.deliver(delivery);
  }

  /** Hands `delivery` to this node's subscribers only (a channel log entry, followed). */
  deliver(delivery: Delivery): number {
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
      if (!members || members.size === 0) return this.#count(delivery, 0);
      // Encoded now, as published: data changed later must not leak into it.
      void delivery.json;
      // Copy-free walk of one set; a subscriber may unsubscribe while
      // receiving, which a Set iteration tolerates.
      const size = members.size;
      for (const subscriber of members) subscriber.deliver(delivery);
      return this.#count(delivery, size);
    }
    if (this.topics.has(exact)) matched.push(exact);
    void delivery.json;
    const count = this.topics.forEach(matched, undefined, (subscriber) =>
      subscriber.deliver(delivery),
    );
    return this.#count(delivery, count);
  }

  /**
   * Counts one publish routed here, once, with its recipient count; its
   * channel's traffic only where it was published (a channel log hands every
   * node each publish: the cluster's sum counts it once).
   */
  #count(delivery: Delivery, recipients: number): number {
    const stats = this.stats;
    const channel = delivery.message.channel;
    if (stats !== null && !isMetaChannel(channel)) {
      stats.deliveries += recipients;
      stats.fanout.observe(recipients);
      if (delivery.origin === undefined) stats.traffic.count(channel);
    }
    return recipients;
  }

  /** Hands a publish to the other nodes: its JSON, encoded once, on its channel's topic. */
  #forward(delivery: Delivery): void {
    const channel = delivery.message.channel;
    if (isMetaChannel(channel) || isServiceChannel(channel)) return;
    const space = this.#space as HubSpace<ChannelSubscriber>;
    const bytes = space.hub.encode({ type: PUBLISH, frames: [delivery.json] });
    space.publish(bayeuxTopic(channel), bytes);
  }

  /**
   * Another node's publish, arriving through the subscription of topic
   * `via`. A node whose subscriptions match a channel several times gets one
   * copy per subscription: each copy goes to the subscribers of its own
   * topic that are on no topic before it in the order exact name, then
   * {@link wildcardPatterns}, so every subscriber gets it once.
   */
  #onRemote(via: string, topic: string, envelope: DecodedEnvelope, origin: string): void {
    const json = envelope.frames[0];
    if (envelope.type !== PUBLISH || envelope.frames.length !== 1 || typeof json !== "string") {
      debug("dropping a message of another kind on %s", topic);
      return;
    }
    let message: BayeuxMessage;
    try {
      message = JSON.parse(json) as BayeuxMessage;
    } catch {
      debug("dropping an unreadable publish on %s", topic);
      return;
    }
    const channel = message?.channel;
    if (typeof channel !== "string" || bayeuxTopic(channel) !== topic) return;
    if (isMetaChannel(channel) || isServiceChannel(channel)) return;
    const subscribers = this.topics.subscribers(via);
    if (subscribers === undefined) return;
    const order = [channel, ...wildcardPatterns(channel)].map(bayeuxTopic);
    const index = order.indexOf(via);
    if (index === -1) return;
    const earlier = order.slice(0, index).filter((t) => this.topics.has(t));
    const delivery = Delivery.fromJson(message, json, origin);
    let recipients = 0;
    for (const subscriber of subscribers) {
      if (earlier.some((t) => this.topics.isSubscribed(subscriber, t))) continue;
      subscriber.deliver(delivery);
      recipients++;
    }
    if (this.stats !== null) this.stats.deliveries += recipients;
  }
}
