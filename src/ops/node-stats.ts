/**
 * The {@link StatsSource} of a running node: reads the figures of a Socket.IO
 * server, a Bayeux server and a broker (any subset) on demand. Nothing here
 * runs on the hot path: the layers keep plain counters (`io.stats`,
 * `io.engine.stats`, `bayeux.stats`, `broker.stats`) and maintained counts of
 * open connections; `snapshot()` reads them, and walks the rooms and
 * channels once for the biggest topics (O(rooms + channels)). The metrics
 * exposition reads the same counters through the O(1) accessors below.
 *
 * @example
 * const stats = nodeStats({ io, bayeux, broker });
 * const { connections, rooms, topTopics } = stats.snapshot();
 */
import { randomBytes } from "node:crypto";
import type { BayeuxServer } from "../bayeux/server/server.js";
import type { Broker } from "../cluster/broker.js";
import type { ErrorTally } from "../shared/error-tally.js";
import type { SlowConsumers } from "../shared/slow-consumers.js";
import type { Server as SocketIoServer } from "../socketio/server.js";
import type {
  ByTransport,
  NodeStats,
  PerProtocol,
  Protocol,
  RecentError,
  StatsSource,
  TopicFigure,
  TopicRow,
  TopicTable,
} from "./stats.js";

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
  /** Most topics in each of the two `topTopics` rankings (members, traffic). Default 10. */
  topTopics?: number;
  /**
   * Most rows of the snapshot's `topics` table (both protocols), the biggest
   * by members when there are more. Default {@link TOPIC_TABLE_LIMIT}.
   */
  topicTable?: number;
}

/**
 * Default bound of a snapshot's topic table: 10,000 rooms and channels per
 * node (about 200 KB of JSON between nodes with short names, sent only to a
 * cluster view).
 */
export const TOPIC_TABLE_LIMIT = 10_000;

/** The name Bayeux topics carry in the core router before their channel. */
const BAYEUX_TOPIC_PREFIX = "bayeux/";
/** Entries kept in `recentErrors` and `slowConsumers`. */
const RECENT_ERRORS = 50;
const SLOW_CONSUMERS = 20;

// biome-ignore lint/suspicious/noExplicitAny: any server typing.
type AnyIo = SocketIoServer<any, any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
type AnyNamespace = ReturnType<AnyIo["of"]> & { adapter: any };

function perProtocol(socketio = 0, bayeux = 0): PerProtocol {
  return { socketio, bayeux };
}

/** A topic's member count in a router map (a lone member is stored without a Set). */
function membersOf(entry: unknown): number {
  if (entry instanceof Set) return entry.size;
  return entry === undefined ? 0 : 1;
}

/** The routed topics of a namespace: our adapter's router map as it is, else socket.io's `rooms`. */
function roomMap(nsp: AnyNamespace): ReadonlyMap<string, unknown> | undefined {
  const adapter = nsp.adapter;
  if (!adapter) return undefined;
  return (adapter.router?.topics as ReadonlyMap<string, unknown> | undefined) ?? adapter.rooms;
}

/**
 * The rooms of a namespace that are not a socket's own, with their member
 * entries: from our adapter's `namedRooms` index (no walk over the private
 * rooms, one per socket), else by walking the whole map.
 */
function* namedRooms(nsp: AnyNamespace): Generator<[string, unknown]> {
  const map = roomMap(nsp);
  if (!map) return;
  const named = nsp.adapter.namedRooms as ReadonlySet<string> | undefined;
  if (named !== undefined) {
    for (const room of named) {
      // A room named after a connected socket's id is that socket's, whoever joined it.
      if (!nsp.sockets.has(room)) yield [room, map.get(room)];
    }
    return;
  }
  for (const entry of map) if (!nsp.sockets.has(entry[0])) yield entry;
}

/** Keeps the `limit` biggest items by `key`, smallest first, so a candidate is compared with `top[0]`. */
class TopList<T> {
  readonly #limit: number;
  readonly #key: (item: T) => number;
  readonly top: T[] = [];

  constructor(limit: number, key: (item: T) => number) {
    this.#limit = limit;
    this.#key = key;
  }

  offer(item: T): void {
    const top = this.top;
    const key = this.#key;
    if (this.#limit <= 0) return;
    const value = key(item);
    if (top.length === this.#limit && value <= key(top[0])) return;
    if (top.length === this.#limit) top.shift();
    let i = 0;
    while (i < top.length && key(top[i]) < value) i++;
    top.splice(i, 0, item);
  }
}

/** Reads the figures of one node. */
export class NodeStatsReader implements StatsSource {
  readonly parts: NodeParts;
  readonly #started: number;
  readonly #topLimit: number;
  readonly #tableLimit: number;
  /** Made up when the node has neither a broker nor a server to name it. */
  #localId: string | undefined;

  constructor(parts: NodeParts, options: NodeStatsOptions = {}) {
    this.parts = parts;
    this.#started = options.started ?? Date.now();
    this.#topLimit = options.topTopics ?? 10;
    this.#tableLimit = options.topicTable ?? TOPIC_TABLE_LIMIT;
  }

  /** The node id: the broker's, else the Engine.IO or Bayeux server's, else a local one. */
  get node(): string {
    const { io, bayeux, broker } = this.parts;
    if (broker) return broker.nodeId;
    if (io) return io.engine.nodeId;
    if (bayeux) return bayeux.nodeId;
    this.#localId ??= randomBytes(8).toString("hex");
    return this.#localId;
  }

  /** Open connections by protocol and transport (maintained counts: O(1)). */
  connections(): Record<Protocol, ByTransport> {
    const { io, bayeux } = this.parts;
    return {
      socketio: io ? { ...io.engine.stats.open } : {},
      bayeux: bayeux ? { ...bayeux.stats.open } : {},
    };
  }

  /**
   * Socket.IO rooms without the private ones: a walk of our adapter's
   * index of named rooms (never of the sockets), else (another adapter,
   * O(namespaces)) each connected
   * socket is taken to be in the room named by its id, so those are the
   * namespace's socket count (`snapshot()` counts exactly).
   */
  roomCount(): number {
    const io = this.parts.io;
    if (!io) return 0;
    let rooms = 0;
    for (const nsp of io._nsps.values()) {
      const named = (nsp as AnyNamespace).adapter?.namedRooms as ReadonlySet<string> | undefined;
      if (named !== undefined) {
        for (const room of named) if (!nsp.sockets.has(room)) rooms++;
        continue;
      }
      const map = roomMap(nsp as AnyNamespace);
      if (map) rooms += Math.max(0, map.size - nsp.sockets.size);
    }
    return rooms;
  }

  /** Bayeux channels (names and patterns) with a subscriber here. */
  channelCount(): number {
    const bayeux = this.parts.bayeux;
    return bayeux ? bayeux.router.topics.topics.size : 0;
  }

  /** Errors by code, over every layer. */
  errorCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [, tally] of this.#tallies()) {
      for (const code in tally.counts) out[code] = (out[code] ?? 0) + tally.counts[code];
    }
    return out;
  }

  /** Each layer's error tally, with its protocol. */
  *#tallies(): Generator<[Protocol, ErrorTally]> {
    const { io, bayeux } = this.parts;
    if (io) {
      yield ["socketio", io.engine.stats.errors];
      yield ["socketio", io.stats.errors];
    }
    if (bayeux) yield ["bayeux", bayeux.stats.errors];
  }

  snapshot(): NodeStats {
    const now = Date.now();
    const { io, bayeux, broker } = this.parts;
    const sio = io?.stats;
    const eio = io?.engine.stats;
    const bx = bayeux?.stats;
    const stats: NodeStats = {
      node: this.node,
      time: now,
      uptime: Math.max(0, (now - this.#started) / 1000),
      connections: this.connections(),
      namespaces: io ? io._nsps.size : 0,
      rooms: 0,
      channels: this.channelCount(),
      messagesIn: perProtocol(sio?.messagesIn, bx?.messagesIn),
      messagesOut: perProtocol(sio?.messagesOut, bx?.messagesOut),
      bytesIn: perProtocol(eio?.bytesIn, bx?.bytesIn),
      bytesOut: perProtocol(eio?.bytesOut, bx?.bytesOut),
      deliveries: perProtocol(sio?.deliveries, bx?.deliveries),
      slowConsumerDrops: perProtocol(
        (sio?.volatileDrops ?? 0) + (eio?.overflows ?? 0),
        (bx?.queueDrops ?? 0) + (bx?.overflows ?? 0),
      ),
      errors: this.errorCounts(),
      recentErrors: this.#recentErrors(),
      topTopics: [],
      slowConsumers: this.#slowConsumers(),
      handshakes: perProtocol(eio?.handshakes, bx?.handshakes),
      cluster: broker
        ? {
            nodes: 1 + broker.nodes().length,
            published: broker.stats.published,
            received: broker.stats.received,
            reconnects: broker.stats.reconnects,
            requests: broker.stats.requests ?? 0,
            partial: broker.stats.partial ?? 0,
          }
        : null,
    };
    this.#readTopics(stats);
    return stats;
  }

  /**
   * Counts rooms exactly, ranks topics by members and by traffic, and lists
   * every topic (members here, messages published from here) in the
   * bounded table the cluster sums read.
   */
  #readTopics(stats: NodeStats): void {
    const limit = this.#topLimit;
    const byMembers = new TopList<TopicFigure>(limit, (t) => t.members);
    const byTraffic = new TopList<TopicFigure>(limit, (t) => t.messages);
    const rows: TopicFigure[] = [];
    const add = (figure: TopicFigure) => {
      byMembers.offer(figure);
      byTraffic.offer(figure);
      rows.push(figure);
    };
    const { io, bayeux } = this.parts;
    if (io) {
      for (const nsp of io._nsps.values()) {
        const traffic = (nsp.adapter as { traffic?: { counts: Map<string, number> } }).traffic
          ?.counts;
        // A socket's own room (named by its id) is private, not a room anyone made.
        for (const [room, members] of namedRooms(nsp as AnyNamespace)) {
          stats.rooms++;
          add({
            protocol: "socketio",
            name: `${nsp.name} ${room}`,
            members: membersOf(members),
            messages: traffic?.get(room) ?? 0,
          });
        }
        // Rooms broadcast to from here whose members are all on other nodes
        // (a room with a member here was listed above).
        const local = roomMap(nsp as AnyNamespace);
        for (const [room, messages] of traffic ?? []) {
          if (local?.has(room) || nsp.sockets.has(room)) continue;
          add({ protocol: "socketio", name: `${nsp.name} ${room}`, members: 0, messages });
        }
      }
    }
    if (bayeux) {
      const topics = bayeux.router.topics.topics;
      for (const [topic, members] of topics) {
        const channel = topic.startsWith(BAYEUX_TOPIC_PREFIX)
          ? topic.slice(BAYEUX_TOPIC_PREFIX.length)
          : topic;
        add({
          protocol: "bayeux",
          name: channel,
          members: membersOf(members),
          messages: bayeux.stats.traffic.counts.get(channel) ?? 0,
        });
      }
      // Channels published to with nobody subscribed here still have traffic.
      for (const [channel, messages] of bayeux.stats.traffic.counts) {
        if (topics.has(`${BAYEUX_TOPIC_PREFIX}${channel}`)) continue;
        add({ protocol: "bayeux", name: channel, members: 0, messages });
      }
    }
    const seen = new Set<TopicFigure>();
    const out: TopicFigure[] = [];
    for (const figure of [...byMembers.top.reverse(), ...byTraffic.top.reverse()]) {
      if (seen.has(figure)) continue;
      seen.add(figure);
      out.push(figure);
    }
    stats.topTopics = out;
    stats.topics = topicTable(rows, this.#tableLimit);
    if (io) stats.topics.namespaces = [...io._nsps.keys()].slice(0, this.#tableLimit);
  }

  #recentErrors(): RecentError[] {
    const all: RecentError[] = [];
    for (const [protocol, tally] of this.#tallies()) {
      for (const e of tally.recent()) all.push({ ...e, protocol });
    }
    all.sort((a, b) => a.time - b.time);
    return all.slice(-RECENT_ERRORS);
  }

  #slowConsumers(): NodeStats["slowConsumers"] {
    const { io, bayeux } = this.parts;
    const lists: [Protocol, SlowConsumers][] = [];
    if (io) lists.push(["socketio", io.engine.stats.slow]);
    if (bayeux) lists.push(["bayeux", bayeux.stats.slow]);
    const all = lists.flatMap(([protocol, slow]) => slow.list().map((e) => ({ protocol, ...e })));
    all.sort((a, b) => b.dropped - a.dropped || b.last - a.last);
    return all.slice(0, SLOW_CONSUMERS);
  }
}

/** The table of `rows`: all of them, or the `limit` biggest by members (then by messages). */
function topicTable(rows: TopicFigure[], limit: number): TopicTable {
  const complete = rows.length <= limit;
  const kept = complete
    ? rows
    : [...rows]
        .sort((a, b) => b.members - a.members || b.messages - a.messages)
        .slice(0, Math.max(0, limit));
  const table: TopicTable = { socketio: [], bayeux: [], namespaces: [], complete };
  for (const t of kept) {
    const row: TopicRow = [t.name, t.members, t.messages];
    table[t.protocol].push(row);
  }
  return table;
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
