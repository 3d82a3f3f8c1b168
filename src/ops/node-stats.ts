/**
 * The {@link StatsSource} of a running node: reads the figures of a Socket.IO
 * server, a Bayeux server and a broker (any subset) on demand. Nothing here
 * runs on the hot path; `snapshot()` reads the layers' state and counters, so
 * its cost follows the number of namespaces, topics and figures, not the
 * traffic.
 *
 * @example
 * const stats = nodeStats({ io, bayeux, broker });
 * const { connections, rooms, topTopics } = stats.snapshot();
 */
import { randomBytes } from "node:crypto";
import type { BayeuxServer } from "../bayeux/server/server.js";
import type { Broker } from "../cluster/broker.js";
import type { Server as SocketIoServer } from "../socketio/server.js";
import type { NodeStats, PerProtocol, StatsSource, TopicFigure } from "./stats.js";

/** What a node is made of; every part is optional. */
export interface NodeParts {
  // biome-ignore lint/suspicious/noExplicitAny: any server typing.
  io?: SocketIoServer<any, any, any, any> | null;
  bayeux?: BayeuxServer | null;
  broker?: Broker | null;
}

export interface NodeStatsOptions {
  /** Epoch ms the node started (for `uptime`). Default: when the source was made. */
  started?: number;
  /** Most entries of `topTopics`. Default 10. */
  topTopics?: number;
}

/** The name Bayeux topics carry in the core router before their channel. */
const BAYEUX_TOPIC_PREFIX = "bayeux/";
/** A Bayeux session that has not sent its first `/meta/connect` yet has no transport. */
export const BAYEUX_PENDING = "pending";

function perProtocol(): PerProtocol {
  return { socketio: 0, bayeux: 0 };
}

/** A topic's member count in a router map (a lone member is stored without a Set). */
function membersOf(entry: unknown): number {
  return entry instanceof Set ? entry.size : 1;
}

/**
 * Keeps the `limit` biggest topics by members, smallest first, so the next
 * candidate is compared with `top[0]` only.
 */
class TopList {
  readonly #limit: number;
  readonly top: TopicFigure[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  offer(protocol: TopicFigure["protocol"], name: string, members: number): void {
    const top = this.top;
    if (this.#limit <= 0) return;
    if (top.length === this.#limit && members <= top[0].members) return;
    const figure: TopicFigure = { protocol, name, members, messages: 0 };
    if (top.length === this.#limit) top.shift();
    let i = 0;
    while (i < top.length && top[i].members < members) i++;
    top.splice(i, 0, figure);
  }

  /** Biggest first. */
  result(): TopicFigure[] {
    return this.top.slice().reverse();
  }
}

/** Reads the figures of one node. */
export class NodeStatsReader implements StatsSource {
  readonly #parts: NodeParts;
  readonly #started: number;
  readonly #topLimit: number;
  /** Made up when the node has neither a broker nor a server to name it. */
  #localId: string | undefined;

  constructor(parts: NodeParts, options: NodeStatsOptions = {}) {
    this.#parts = parts;
    this.#started = options.started ?? Date.now();
    this.#topLimit = options.topTopics ?? 10;
  }

  /** The node id: the broker's, else the Engine.IO or Bayeux server's, else a local one. */
  get node(): string {
    const { io, bayeux, broker } = this.#parts;
    if (broker) return broker.nodeId;
    if (io) return io.engine.nodeId;
    if (bayeux) return bayeux.nodeId;
    this.#localId ??= randomBytes(8).toString("hex");
    return this.#localId;
  }

  snapshot(): NodeStats {
    const now = Date.now();
    const stats: NodeStats = {
      node: this.node,
      time: now,
      uptime: Math.max(0, (now - this.#started) / 1000),
      connections: { socketio: {}, bayeux: {} },
      namespaces: 0,
      rooms: 0,
      channels: 0,
      messagesIn: perProtocol(),
      messagesOut: perProtocol(),
      bytesIn: perProtocol(),
      bytesOut: perProtocol(),
      deliveries: perProtocol(),
      slowConsumerDrops: perProtocol(),
      errors: {},
      recentErrors: [],
      topTopics: [],
      slowConsumers: [],
    };
    const top = new TopList(this.#topLimit);
    this.#readSocketIo(stats, top);
    this.#readBayeux(stats, top);
    stats.topTopics = top.result();
    return stats;
  }

  #readSocketIo(stats: NodeStats, top: TopList): void {
    const io = this.#parts.io;
    if (!io) return;
    const byTransport = stats.connections.socketio;
    for (const sid in io.engine.clients) {
      const name = io.engine.clients[sid].transport.name;
      byTransport[name] = (byTransport[name] ?? 0) + 1;
    }
    stats.namespaces = io._nsps.size;
    for (const nsp of io._nsps.values()) {
      const adapter = nsp.adapter;
      if (!adapter) continue;
      // Our adapter's router map as it is (reading `adapter.rooms` would reshape it).
      const topics: ReadonlyMap<string, unknown> =
        (adapter.router?.topics as ReadonlyMap<string, unknown> | undefined) ?? adapter.rooms;
      for (const [room, members] of topics) {
        // A socket's own room (named by its id) is private, not a room anyone made.
        if (nsp.sockets.has(room)) continue;
        stats.rooms++;
        top.offer("socketio", `${nsp.name} ${room}`, membersOf(members));
      }
    }
  }

  #readBayeux(stats: NodeStats, top: TopList): void {
    const bayeux = this.#parts.bayeux;
    if (!bayeux) return;
    const byTransport = stats.connections.bayeux;
    for (const id of bayeux.clientIds()) {
      const session = bayeux.getSession(id);
      if (!session) continue;
      const name = session.connectionType || BAYEUX_PENDING;
      byTransport[name] = (byTransport[name] ?? 0) + 1;
    }
    for (const [topic, members] of bayeux.router.topics.topics) {
      if (!topic.startsWith(BAYEUX_TOPIC_PREFIX)) continue;
      stats.channels++;
      top.offer("bayeux", topic.slice(BAYEUX_TOPIC_PREFIX.length), membersOf(members));
    }
  }
}

/**
 * The figures of a node made of `parts` (a Socket.IO server, a Bayeux
 * server, a broker: any subset), read on each `snapshot()`.
 *
 * @example
 * const stats = nodeStats({ io, bayeux });
 * setInterval(() => console.log(stats.snapshot().connections), 5000);
 */
export function nodeStats(parts: NodeParts, options?: NodeStatsOptions): NodeStatsReader {
  return new NodeStatsReader(parts, options);
}
