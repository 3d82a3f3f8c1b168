/**
 * The cluster's figures from its nodes' snapshots. Connections and counters
 * add up (a socket or session lives on one node, a delivery is counted where
 * it is written, a topic's traffic where it was published). Rooms and
 * channels are counted once however many nodes hold them, and a topic's
 * members are summed over the nodes, from each node's topic table (every
 * topic with its figures, up to a bound: see TopicTable and
 * TOPIC_TABLE_LIMIT in node-stats.ts). When a node's table was cut at its
 * bound (or a node sent none), those figures are lower bounds and
 * `countsExact` is false. Lists are merged and kept bounded: the biggest
 * topics by members and by traffic; slow consumers and recent errors tagged
 * with their node.
 */
import type {
  NodeStats,
  PerProtocol,
  Protocol,
  RecentError,
  SlowConsumer,
  TopicFigure,
  TopicTable,
} from "../stats.js";

/** Longest merged list (topics per ordering, slow consumers, errors). */
export const MERGED_LIST = 20;

/** A recent error or slow consumer of the cluster: which node reported it. */
export type OnNode<T> = T & { node: string };

/** The cluster's sum: {@link NodeStats} whose lists say their node. */
export interface ClusterStats extends Omit<NodeStats, "recentErrors" | "slowConsumers" | "topics"> {
  recentErrors: OnNode<RecentError>[];
  slowConsumers: OnNode<SlowConsumer>[];
  /**
   * Whether `rooms`, `channels` and the members of `topTopics` are exact:
   * every node sent its whole topic table (or there is one node). Otherwise
   * they are lower bounds (the page shows them as "≥ n").
   */
  countsExact: boolean;
}

const PROTOCOLS: Protocol[] = ["socketio", "bayeux"];

function addPer(into: PerProtocol, from: PerProtocol | undefined): void {
  if (from === undefined) return;
  for (const p of PROTOCOLS) into[p] += from[p] ?? 0;
}

function zero(): PerProtocol {
  return { socketio: 0, bayeux: 0 };
}

/** The biggest `n` topics by members and the biggest `n` by messages, without repeats. */
export function topTopics(topics: Iterable<TopicFigure>, n = MERGED_LIST): TopicFigure[] {
  const all = [...topics];
  const byMembers = [...all].sort((a, b) => b.members - a.members).slice(0, n);
  const byMessages = [...all].sort((a, b) => b.messages - a.messages).slice(0, n);
  const kept = new Set([...byMembers, ...byMessages]);
  return all.filter((t) => kept.has(t));
}

/** Distinct topics of one protocol across nodes, and the most any one node holds. */
class DistinctCount {
  readonly names = new Set<string>();
  /** The largest per-node count: a lower bound even when tables were cut. */
  most = 0;

  get value(): number {
    return Math.max(this.names.size, this.most);
  }
}

/**
 * Adds a node's table rows (or, without a table, its top topics) into
 * `topics`, and its namespaces, rooms and channels into the distinct counts.
 */
function mergeTopics(
  topics: Map<string, TopicFigure>,
  stats: NodeStats,
  table: TopicTable | undefined,
  rooms: DistinctCount,
  channels: DistinctCount,
  namespaces: DistinctCount,
): void {
  const add = (
    protocol: TopicFigure["protocol"],
    name: string,
    members: number,
    messages: number,
  ) => {
    const key = `${protocol} ${name}`;
    const seen = topics.get(key);
    if (seen === undefined) topics.set(key, { protocol, name, members, messages });
    else {
      seen.members += members;
      seen.messages += messages;
    }
  };
  if (table === undefined) {
    for (const t of stats.topTopics ?? []) add(t.protocol, t.name, t.members, t.messages);
    return;
  }
  for (const name of table.namespaces) namespaces.names.add(name);
  for (const [name, members, messages] of table.socketio) {
    add("socketio", name, members, messages);
    if (members > 0) rooms.names.add(name);
  }
  for (const [name, members, messages] of table.bayeux) {
    add("bayeux", name, members, messages);
    if (members > 0) channels.names.add(name);
  }
  if (table.complete) return;
  // A cut table holds the biggest by members: the node's busiest by traffic may be past it.
  const listed = new Set([
    ...table.socketio.map(([name]) => `socketio ${name}`),
    ...table.bayeux.map(([name]) => `bayeux ${name}`),
  ]);
  for (const t of stats.topTopics ?? []) {
    if (!listed.has(`${t.protocol} ${t.name}`)) add(t.protocol, t.name, t.members, t.messages);
  }
}

/** Adds up the snapshots of every node (at least one). */
export function sumStats(nodes: readonly NodeStats[]): ClusterStats {
  const sum: ClusterStats = {
    node: "cluster",
    time: Date.now(),
    uptime: 0,
    connections: { socketio: {}, bayeux: {} },
    namespaces: 0,
    rooms: 0,
    channels: 0,
    messagesIn: zero(),
    messagesOut: zero(),
    bytesIn: zero(),
    bytesOut: zero(),
    deliveries: zero(),
    slowConsumerDrops: zero(),
    errors: {},
    recentErrors: [],
    topTopics: [],
    slowConsumers: [],
    countsExact: true,
  };
  const topics = new Map<string, TopicFigure>();
  const rooms = new DistinctCount();
  const channels = new DistinctCount();
  const namespaces = new DistinctCount();
  for (const stats of nodes) {
    sum.uptime = Math.max(sum.uptime, stats.uptime);
    for (const p of PROTOCOLS) {
      const into = sum.connections[p];
      for (const [transport, count] of Object.entries(stats.connections?.[p] ?? {})) {
        into[transport] = (into[transport] ?? 0) + count;
      }
    }
    namespaces.most = Math.max(namespaces.most, stats.namespaces);
    rooms.most = Math.max(rooms.most, stats.rooms);
    channels.most = Math.max(channels.most, stats.channels);
    addPer(sum.messagesIn, stats.messagesIn);
    addPer(sum.messagesOut, stats.messagesOut);
    addPer(sum.bytesIn, stats.bytesIn);
    addPer(sum.bytesOut, stats.bytesOut);
    addPer(sum.deliveries, stats.deliveries);
    addPer(sum.slowConsumerDrops, stats.slowConsumerDrops);
    for (const [code, count] of Object.entries(stats.errors ?? {})) {
      sum.errors[code] = (sum.errors[code] ?? 0) + count;
    }
    for (const error of stats.recentErrors ?? [])
      sum.recentErrors.push({ ...error, node: stats.node });
    for (const slow of stats.slowConsumers ?? [])
      sum.slowConsumers.push({ ...slow, node: stats.node });
    const table = isTable(stats.topics) ? stats.topics : undefined;
    if (table === undefined || !table.complete) sum.countsExact = false;
    mergeTopics(topics, stats, table, rooms, channels, namespaces);
  }
  // One node's own counts are exact, whatever its table: there is nothing to tell apart.
  if (nodes.length === 1) sum.countsExact = true;
  sum.namespaces = namespaces.value;
  sum.rooms = rooms.value;
  sum.channels = channels.value;
  sum.recentErrors = sum.recentErrors.sort((a, b) => a.time - b.time).slice(-MERGED_LIST);
  sum.slowConsumers = sum.slowConsumers.sort((a, b) => b.dropped - a.dropped).slice(0, MERGED_LIST);
  sum.topTopics = topTopics(topics.values());
  return sum;
}

/** A topic table as another node sent it (checked: it came over the wire). */
function isTable(value: unknown): value is TopicTable {
  const t = value as TopicTable | undefined;
  return (
    typeof t === "object" &&
    t !== null &&
    Array.isArray(t.socketio) &&
    Array.isArray(t.bayeux) &&
    Array.isArray(t.namespaces) &&
    typeof t.complete === "boolean"
  );
}
