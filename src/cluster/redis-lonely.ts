/**
 * Channels a Redis broker stops publishing to because no other node receives
 * them ("lonely"). Redis sends a publish to every subscriber of its channel,
 * the publisher's own subscriber connection included, so without this a node
 * that publishes to a topic only its own members hold reads every message
 * back as an echo it then drops.
 *
 * A publish's reply says how many connections received it. When none but this
 * node's own did, the channel is marked lonely and later publishes to it are
 * skipped, until:
 * - another node subscribes to it: after its subscription is confirmed it
 *   sends INTEREST naming the topic and waits for every node's ACK, so a
 *   publisher forgets the mark before that `subscribe()` resolves;
 * - any node joins, leaves or says HELLO, or this node reconnects: every mark
 *   is forgotten;
 * - one heartbeat interval passes: marks used since the previous sweep are
 *   checked again with an empty PROBE frame (its reply counts receivers, so a
 *   subscription this node did not hear of is found within one interval),
 *   unused marks are forgotten.
 *
 * A reply only marks a channel when nothing above happened between the
 * publish and its reply (the `epoch` it was sent in is still current): a
 * publish sent before a newcomer's subscription may be answered after its
 * INTEREST, and must not mark the channel again.
 */
export class LonelyChannels {
  /** Lonely channels, with whether a publish was skipped since the last sweep. */
  readonly #lonely = new Map<string, boolean>();
  #epoch = 0;
  /** The most channels remembered; 0 turns skipping off. */
  limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** The moment a publish is sent in; pass it back to {@link learn}. */
  get epoch(): number {
    return this.#epoch;
  }

  get size(): number {
    return this.#lonely.size;
  }

  /** Whether a publish to `channel` is skipped (nobody else receives it). */
  skip(channel: string): boolean {
    const used = this.#lonely.get(channel);
    if (used === undefined) return false;
    if (!used) this.#lonely.set(channel, true);
    return true;
  }

  /**
   * Redis's answer to a publish or probe sent in `epoch`: `others` connections
   * besides this node's own received it.
   */
  learn(channel: string, others: number, epoch: number): void {
    if (others > 0) {
      this.#lonely.delete(channel);
      return;
    }
    if (epoch !== this.#epoch || this.#lonely.has(channel)) return;
    if (this.#lonely.size >= this.limit) return;
    this.#lonely.set(channel, true);
  }

  /** Something changed that a reply in flight may not reflect. */
  changed(): void {
    this.#epoch++;
  }

  /** Other nodes now receive `channels`. */
  forget(channels: Iterable<string>): void {
    this.#epoch++;
    for (const channel of channels) this.#lonely.delete(channel);
  }

  /** Forgets every mark (a node came or went, or this node reconnected). */
  clear(): void {
    this.#epoch++;
    this.#lonely.clear();
  }

  /** Forgets unused marks; returns the used ones, to be probed again. */
  sweep(): string[] {
    const probe: string[] = [];
    for (const [channel, used] of this.#lonely) {
      if (!used) this.#lonely.delete(channel);
      else {
        this.#lonely.set(channel, false);
        probe.push(channel);
      }
    }
    return probe;
  }
}
