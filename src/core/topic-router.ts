/**
 * The topic router: which subscribers listen on which topics.
 *
 * Topics are plain strings. Socket.IO rooms of a namespace are topics
 * (`sio/<namespace>/<room>` once they leave the process), Bayeux channels are
 * topics too (`bayeux/<channel>`). The router keeps both directions — topic →
 * subscribers and subscriber → topics — so a broadcast is a set lookup and a
 * disconnect is a walk over the subscriber's own topics, never over all topics.
 * Sets and maps are created on first use and deleted when empty, so an
 * emptiness check is a `Map.has`.
 */

export interface TopicRouterHooks {
  /** A topic got its first subscriber. */
  onCreate?(topic: string): void;
  /** A topic lost its last subscriber. */
  onDelete?(topic: string): void;
}

/**
 * @example
 * const router = new TopicRouter<string>();
 * router.subscribe("sid1", "lobby");
 * router.subscribe("sid2", "lobby");
 * router.subscribe("sid2", "admins");
 * [...router.collect(["lobby"], ["admins"])]; // ["sid1"]
 */
export class TopicRouter<S> {
  /** topic → subscribers; a topic is present only while it has one. */
  readonly topics = new Map<string, Set<S>>();
  /** subscriber → topics; a subscriber is present only while it has one. */
  readonly subscriptions = new Map<S, Set<string>>();
  readonly #hooks: TopicRouterHooks;

  constructor(hooks: TopicRouterHooks = {}) {
    this.#hooks = hooks;
  }

  /** Adds `subscriber` to `topic`. Returns false if it was already there. */
  subscribe(subscriber: S, topic: string): boolean {
    let own = this.subscriptions.get(subscriber);
    if (!own) {
      own = new Set();
      this.subscriptions.set(subscriber, own);
    } else if (own.has(topic)) {
      return false;
    }
    own.add(topic);
    let members = this.topics.get(topic);
    if (!members) {
      members = new Set();
      this.topics.set(topic, members);
      this.#hooks.onCreate?.(topic);
    }
    members.add(subscriber);
    return true;
  }

  /** Removes `subscriber` from `topic`. Returns false if it was not there. */
  unsubscribe(subscriber: S, topic: string): boolean {
    const own = this.subscriptions.get(subscriber);
    if (!own?.delete(topic)) return false;
    if (own.size === 0) this.subscriptions.delete(subscriber);
    this.#removeMember(topic, subscriber);
    return true;
  }

  /** Removes `subscriber` from every topic; returns the topics it had. */
  unsubscribeAll(subscriber: S): ReadonlySet<string> | undefined {
    const own = this.subscriptions.get(subscriber);
    if (!own) return undefined;
    this.subscriptions.delete(subscriber);
    for (const topic of own) this.#removeMember(topic, subscriber);
    return own;
  }

  #removeMember(topic: string, subscriber: S): void {
    const members = this.topics.get(topic);
    if (!members) return;
    members.delete(subscriber);
    if (members.size === 0) {
      this.topics.delete(topic);
      this.#hooks.onDelete?.(topic);
    }
  }

  /** Subscribers of one topic (live set: do not mutate). */
  subscribers(topic: string): ReadonlySet<S> | undefined {
    return this.topics.get(topic);
  }

  /** Topics of one subscriber (live set: do not mutate). */
  topicsOf(subscriber: S): ReadonlySet<string> | undefined {
    return this.subscriptions.get(subscriber);
  }

  /** Whether a topic has any subscriber. */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Whether a subscriber is on `topic`. */
  isSubscribed(subscriber: S, topic: string): boolean {
    return this.subscriptions.get(subscriber)?.has(topic) === true;
  }

  /**
   * Calls `fn` once for every subscriber of any of `topics` that is on none of
   * `except`. With no topics it visits every subscriber (a namespace-wide
   * broadcast). Returns the number of subscribers visited.
   *
   * A single topic with no exclusions walks that one set with no extra
   * allocation; otherwise one `Set` is allocated to de-duplicate.
   */
  forEach(
    topics: ReadonlySet<string> | readonly string[] | undefined,
    except: ReadonlySet<string> | readonly string[] | undefined,
    fn: (subscriber: S) => void,
  ): number {
    const excluded = this.#excluded(except);
    const topicCount = topics ? ("size" in topics ? topics.size : topics.length) : 0;
    let count = 0;
    if (topicCount === 0) {
      for (const subscriber of this.subscriptions.keys()) {
        if (excluded?.has(subscriber)) continue;
        fn(subscriber);
        count++;
      }
      return count;
    }
    if (topicCount === 1) {
      for (const topic of topics as Iterable<string>) {
        const members = this.topics.get(topic);
        if (!members) return 0;
        for (const subscriber of members) {
          if (excluded?.has(subscriber)) continue;
          fn(subscriber);
          count++;
        }
      }
      return count;
    }
    const seen = new Set<S>();
    for (const topic of topics as Iterable<string>) {
      const members = this.topics.get(topic);
      if (!members) continue;
      for (const subscriber of members) {
        if (seen.has(subscriber) || excluded?.has(subscriber)) continue;
        seen.add(subscriber);
        fn(subscriber);
        count++;
      }
    }
    return count;
  }

  /** The set of subscribers `forEach` would visit. */
  collect(
    topics: ReadonlySet<string> | readonly string[] | undefined,
    except?: ReadonlySet<string> | readonly string[],
  ): Set<S> {
    const out = new Set<S>();
    this.forEach(topics, except, (subscriber) => out.add(subscriber));
    return out;
  }

  #excluded(except: ReadonlySet<string> | readonly string[] | undefined): Set<S> | undefined {
    if (!except) return undefined;
    let excluded: Set<S> | undefined;
    for (const topic of except as Iterable<string>) {
      const members = this.topics.get(topic);
      if (!members) continue;
      excluded ??= new Set();
      for (const subscriber of members) excluded.add(subscriber);
    }
    return excluded;
  }
}
