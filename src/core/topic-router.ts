/**
 * The topic router: which subscribers listen on which topics.
 *
 * Topics are plain strings. Socket.IO rooms of a namespace are topics
 * (`sio/<namespace>/<room>` once they leave the process), Bayeux channels are
 * topics too (`bayeux/<channel>`). The router keeps both directions — topic →
 * subscribers and subscriber → topics — so a broadcast is a set lookup and a
 * disconnect is a walk over the subscriber's own topics, never over all topics.
 * Entries are created on first use and deleted when empty, so an emptiness
 * check is a `Map.has`.
 *
 * Most topics have one subscriber and most subscribers one topic (every
 * Socket.IO socket sits alone in the room named after its id), so a single
 * member is stored as itself and a `Set` is made for the second one: two Sets
 * less per idle connection. Readers that want Maps of Sets throughout (the
 * socket.io-compatible `adapter.rooms` / `adapter.sids`) call `expand()`,
 * after which every entry is and stays a `Set`.
 */
import { SingleMemberSet } from "./single-member-set.js";

export interface TopicRouterHooks {
  /** A topic got its first subscriber. */
  onCreate?(topic: string): void;
  /** A topic lost its last subscriber. */
  onDelete?(topic: string): void;
}

type Topics = readonly string[] | ReadonlySet<string>;

/**
 * `S` is any value but a `Set` (a `Set` marks a topic with several subscribers).
 *
 * @example
 * const router = new TopicRouter<string>();
 * router.subscribe("sid1", "lobby");
 * router.subscribe("sid2", "lobby");
 * router.subscribe("sid2", "admins");
 * [...router.collect(["lobby"], ["admins"])]; // ["sid1"]
 */
export class TopicRouter<S> {
  /**
   * topic → its subscriber (one) or subscribers (a Set, from the second on);
   * a topic is present only while it has one. Read-only for callers.
   */
  readonly topics = new Map<string, S | Set<S>>();
  /**
   * subscriber → its topic (one) or topics (a Set, from the second on); a
   * subscriber is present only while it has one. Read-only for callers.
   */
  readonly subscriptions = new Map<S, string | Set<string>>();
  readonly #hooks: TopicRouterHooks;
  /** Set by `expand()`: every entry is a Set from then on. */
  #expanded = false;

  constructor(hooks: TopicRouterHooks = {}) {
    this.#hooks = hooks;
  }

  /** Adds `subscriber` to `topic`. Returns false if it was already there. */
  subscribe(subscriber: S, topic: string): boolean {
    const own = this.subscriptions.get(subscriber);
    if (own === undefined) {
      this.subscriptions.set(subscriber, this.#expanded ? new Set([topic]) : topic);
    } else if (typeof own === "string") {
      if (own === topic) return false;
      this.subscriptions.set(subscriber, new Set([own, topic]));
    } else {
      if (own.has(topic)) return false;
      own.add(topic);
    }
    const members = this.topics.get(topic);
    if (members === undefined) {
      this.topics.set(topic, this.#expanded ? new Set([subscriber]) : subscriber);
      this.#hooks.onCreate?.(topic);
    } else if (members instanceof Set) {
      members.add(subscriber);
    } else {
      this.topics.set(topic, new Set([members, subscriber]));
    }
    return true;
  }

  /** Removes `subscriber` from `topic`. Returns false if it was not there. */
  unsubscribe(subscriber: S, topic: string): boolean {
    const own = this.subscriptions.get(subscriber);
    if (own === undefined) return false;
    if (typeof own === "string") {
      if (own !== topic) return false;
      this.subscriptions.delete(subscriber);
    } else {
      if (!own.delete(topic)) return false;
      if (own.size === 0) this.subscriptions.delete(subscriber);
      else if (own.size === 1 && !this.#expanded) {
        // Back to one topic (say, a socket left its last room but its own).
        // Nothing iterates this Set across a call: readers copy or finish first.
        for (const last of own) this.subscriptions.set(subscriber, last);
      }
    }
    this.#removeMember(topic, subscriber);
    return true;
  }

  /** Removes `subscriber` from every topic; returns the topics it had. */
  unsubscribeAll(subscriber: S): ReadonlySet<string> | undefined {
    const own = this.subscriptions.get(subscriber);
    if (own === undefined) return undefined;
    this.subscriptions.delete(subscriber);
    if (typeof own === "string") {
      this.#removeMember(own, subscriber);
      return new SingleMemberSet(own);
    }
    for (const topic of own) this.#removeMember(topic, subscriber);
    return own;
  }

  #removeMember(topic: string, subscriber: S): void {
    const members = this.topics.get(topic);
    if (members === undefined) return;
    if (members instanceof Set) {
      // A Set is not shrunk back to a single member: a broadcast may be
      // walking it right now (a delivery can make others unsubscribe), and
      // it must keep seeing their removals.
      members.delete(subscriber);
      if (members.size !== 0) return;
    } else if (members !== subscriber) {
      return;
    }
    this.topics.delete(topic);
    this.#hooks.onDelete?.(topic);
  }

  /** Subscribers of one topic (read-only; a live set when it has several). */
  subscribers(topic: string): ReadonlySet<S> | undefined {
    const members = this.topics.get(topic);
    if (members === undefined) return undefined;
    return members instanceof Set ? members : new SingleMemberSet(members);
  }

  /** Topics of one subscriber (read-only; a live set when it has several). */
  topicsOf(subscriber: S): ReadonlySet<string> | undefined {
    const own = this.subscriptions.get(subscriber);
    if (own === undefined || typeof own !== "string") return own;
    return new SingleMemberSet(own);
  }

  /** Number of topics of one subscriber. */
  topicCount(subscriber: S): number {
    const own = this.subscriptions.get(subscriber);
    if (own === undefined) return 0;
    return typeof own === "string" ? 1 : own.size;
  }

  /** Whether a topic has any subscriber. */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Whether a subscriber is on `topic`. */
  isSubscribed(subscriber: S, topic: string): boolean {
    const own = this.subscriptions.get(subscriber);
    if (own === undefined) return false;
    return typeof own === "string" ? own === topic : own.has(topic);
  }

  /**
   * Stores every entry as a Set from now on, so `topics` and `subscriptions`
   * become (and stay) Maps of live Sets. One-way: for readers that want the
   * plain shape, such as socket.io's `adapter.rooms`.
   *
   * @example
   * const rooms = router.expand().topics as Map<string, Set<string>>;
   */
  expand(): this {
    if (this.#expanded) return this;
    this.#expanded = true;
    // Replacing the value of an existing key during Map iteration is safe.
    for (const [topic, members] of this.topics) {
      if (!(members instanceof Set)) this.topics.set(topic, new Set([members]));
    }
    for (const [subscriber, own] of this.subscriptions) {
      if (typeof own === "string") this.subscriptions.set(subscriber, new Set([own]));
    }
    return this;
  }

  /**
   * Calls `fn` once for every subscriber of any of `topics` that is on none of
   * `except`. With no topics it visits every subscriber (a namespace-wide
   * broadcast). Returns the number of subscribers visited.
   *
   * A single topic walks that one set with no extra allocation, and so does a
   * single excluded subscriber (`socket.broadcast`); otherwise one `Set` is
   * allocated to de-duplicate or exclude.
   */
  forEach(
    topics: Topics | undefined,
    except: Topics | undefined,
    fn: (subscriber: S) => void,
  ): number {
    const excluded = this.#excluded(except);
    // An exclusion is either one subscriber (the usual `except` of the
    // sender's own room) or a Set of them; split once, not per recipient.
    const exSet = excluded instanceof Set ? excluded : undefined;
    const exOne = exSet === undefined ? (excluded as S | undefined) : undefined;
    const hasOne = excluded !== undefined && exSet === undefined;
    const topicCount = topics ? ("size" in topics ? topics.size : topics.length) : 0;
    let count = 0;
    if (topicCount === 0) {
      for (const subscriber of this.subscriptions.keys()) {
        if (hasOne ? subscriber === exOne : exSet?.has(subscriber)) continue;
        fn(subscriber);
        count++;
      }
      return count;
    }
    if (topicCount === 1) {
      for (const topic of topics as Iterable<string>) {
        const members = this.topics.get(topic);
        if (members === undefined) return 0;
        if (!(members instanceof Set)) {
          if (hasOne ? members === exOne : exSet?.has(members)) return 0;
          fn(members);
          return 1;
        }
        for (const subscriber of members) {
          if (hasOne ? subscriber === exOne : exSet?.has(subscriber)) continue;
          fn(subscriber);
          count++;
        }
      }
      return count;
    }
    const seen = new Set<S>();
    for (const topic of topics as Iterable<string>) {
      const members = this.topics.get(topic);
      if (members === undefined) continue;
      if (!(members instanceof Set)) {
        if (seen.has(members) || (hasOne ? members === exOne : exSet?.has(members))) continue;
        seen.add(members);
        fn(members);
        count++;
        continue;
      }
      for (const subscriber of members) {
        if (seen.has(subscriber) || (hasOne ? subscriber === exOne : exSet?.has(subscriber))) {
          continue;
        }
        seen.add(subscriber);
        fn(subscriber);
        count++;
      }
    }
    return count;
  }

  /** The set of subscribers `forEach` would visit. */
  collect(topics: Topics | undefined, except?: Topics): Set<S> {
    const out = new Set<S>();
    this.forEach(topics, except, (subscriber) => out.add(subscriber));
    return out;
  }

  /**
   * The subscribers on any of `except`: undefined for none, the subscriber
   * itself when there is exactly one topic with one subscriber, else a Set.
   */
  #excluded(except: Topics | undefined): S | Set<S> | undefined {
    if (!except) return undefined;
    let single: S | undefined;
    let found = false;
    let excluded: Set<S> | undefined;
    for (const topic of except as Iterable<string>) {
      const members = this.topics.get(topic);
      if (members === undefined) continue;
      if (!found && !(members instanceof Set)) {
        single = members;
        found = true;
        continue;
      }
      if (excluded === undefined) {
        excluded = new Set();
        if (found) excluded.add(single as S);
        found = true;
      }
      if (members instanceof Set) for (const subscriber of members) excluded.add(subscriber);
      else excluded.add(members);
    }
    return excluded ?? single;
  }
}
