/**
 * Messages published per topic (a Socket.IO room, a Bayeux channel), for the
 * busiest-topics list and optional per-topic metric labels. Counted once per
 * publish, never per recipient. Bounded: once `limit` topics are tracked a
 * new topic is not added (its messages count in `untracked`), so a flood of
 * one-off names cannot grow memory.
 *
 * @example
 * const traffic = new TopicTraffic(1000);
 * traffic.count("lobby");
 * traffic.top(5); // [["lobby", 1]]
 */

/** Default most topics tracked per protocol. */
export const TOPIC_TRAFFIC_LIMIT = 1000;

export class TopicTraffic {
  readonly counts = new Map<string, number>();
  readonly limit: number;
  /** Messages to topics that found the map full. */
  untracked = 0;

  constructor(limit = TOPIC_TRAFFIC_LIMIT) {
    this.limit = limit;
  }

  count(topic: string): void {
    const counts = this.counts;
    const now = counts.get(topic);
    if (now !== undefined) counts.set(topic, now + 1);
    else if (counts.size < this.limit) counts.set(topic, 1);
    else this.untracked++;
  }

  /** A topic stopped existing (its room or channel is gone): its slot is freed. */
  forget(topic: string): void {
    this.counts.delete(topic);
  }

  /** The `n` busiest topics, busiest first. */
  top(n: number): [string, number][] {
    if (n <= 0) return [];
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}
