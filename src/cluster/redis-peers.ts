/**
 * What a Redis broker knows of the other nodes: when each was last heard,
 * and the pattern subscriptions each holds (so a publish reaches every
 * matching pattern channel, once per distinct pattern). A node is "up" from
 * its first HELLO or STATE and "down" after a GOODBYE or when it has not been
 * heard for the expiry time (two heartbeat intervals). Each node's process
 * tag (the 4 bytes a publish frame names its sender by) maps back to its id;
 * tags outlive their node for a while (a late publish still finds its origin),
 * at most MAX_TAGS of them.
 */
import { matchTopic, type NodeEvent, type NodeListener } from "./broker.js";

const MAX_TAGS = 4096;

interface Peer {
  lastSeen: number;
  patterns: Set<string>;
}

export class PeerTable {
  readonly #peers = new Map<string, Peer>();
  readonly #listeners = new Set<NodeListener>();
  /** Each distinct pattern other nodes hold, with how many hold it. */
  readonly #patterns = new Map<string, number>();
  /**
   * Nodes that said GOODBYE, with when to stop ignoring them: on a Redis
   * Cluster a node's last STATE (an answer sent just before it closed) may
   * travel on another shard than its GOODBYE and arrive after it.
   */
  readonly #departed = new Map<string, number>();
  readonly #onError: (err: unknown) => void;
  /** Process tags to node ids, oldest first. */
  readonly #tags = new Map<number, string>();

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  /** The live nodes' ids. */
  ids(): string[] {
    return [...this.#peers.keys()];
  }

  has(node: string): boolean {
    return this.#peers.has(node);
  }

  /** The node whose process has `tag`, when known. */
  nodeOfTag(tag: number): string | undefined {
    return this.#tags.get(tag);
  }

  /** Learns that `node` runs as `tag` (any control frame says so). */
  tagged(node: string, tag: number): void {
    if (this.#tags.get(tag) === node) return;
    this.#tags.delete(tag);
    this.#tags.set(tag, node);
    if (this.#tags.size > MAX_TAGS) {
      const oldest = this.#tags.keys().next().value;
      if (oldest !== undefined) this.#tags.delete(oldest);
    }
  }

  get size(): number {
    return this.#peers.size;
  }

  /**
   * Records a sign of life from `node`, with its patterns when the frame
   * carried them. A `joining` node (its HELLO) is heard even just after a
   * GOODBYE under the same id (a restart); a late STATE of a departed one is not.
   */
  heard(node: string, patterns: string[] | undefined, now: number, joining = false): void {
    if (this.#departed.size > 0) {
      const until = this.#departed.get(node);
      if (until !== undefined) {
        if (!joining && now < until) return;
        this.#departed.delete(node);
      }
    }
    let peer = this.#peers.get(node);
    const fresh = peer === undefined;
    if (peer === undefined) {
      peer = { lastSeen: now, patterns: new Set() };
      this.#peers.set(node, peer);
    }
    peer.lastSeen = now;
    if (patterns !== undefined) this.#setPatterns(peer, new Set(patterns));
    if (fresh) this.#emit("up", node);
  }

  /** Forgets `node` (goodbye or expiry); false when it was not known. */
  forget(node: string): boolean {
    const peer = this.#peers.get(node);
    if (peer === undefined) return false;
    this.#setPatterns(peer, new Set());
    this.#peers.delete(node);
    this.#emit("down", node);
    return true;
  }

  /** `node` said GOODBYE: forgets it and ignores its late frames until `until`. */
  departed(node: string, until: number): boolean {
    if (this.#departed.size > 64) {
      const now = Date.now();
      for (const [id, end] of this.#departed) if (end <= now) this.#departed.delete(id);
    }
    this.#departed.set(node, until);
    return this.forget(node);
  }

  /** Forgets the nodes not heard since `deadline`; returns them. */
  expire(deadline: number): string[] {
    const gone: string[] = [];
    for (const [node, peer] of this.#peers) if (peer.lastSeen < deadline) gone.push(node);
    for (const node of gone) this.forget(node);
    return gone;
  }

  /** Treats every node as heard now (after this node's own outage, when it could hear no one). */
  touchAll(now: number): void {
    for (const peer of this.#peers.values()) peer.lastSeen = now;
  }

  /** The distinct patterns of other nodes that match `topic`. */
  matchingPatterns(topic: string): string[] {
    const out: string[] = [];
    for (const pattern of this.#patterns.keys()) if (matchTopic(pattern, topic)) out.push(pattern);
    return out;
  }

  listen(listener: NodeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#peers.clear();
    this.#departed.clear();
    this.#patterns.clear();
    this.#listeners.clear();
    this.#tags.clear();
  }

  #setPatterns(peer: Peer, next: Set<string>): void {
    for (const pattern of peer.patterns) {
      if (next.has(pattern)) continue;
      const count = (this.#patterns.get(pattern) ?? 1) - 1;
      if (count <= 0) this.#patterns.delete(pattern);
      else this.#patterns.set(pattern, count);
    }
    for (const pattern of next) {
      if (!peer.patterns.has(pattern))
        this.#patterns.set(pattern, (this.#patterns.get(pattern) ?? 0) + 1);
    }
    peer.patterns = next;
  }

  #emit(event: NodeEvent, node: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, node);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
