/**
 * The cluster's figures from its nodes' snapshots. Connections, counters and
 * topic members add up (a socket or session lives on one node); `rooms`,
 * `channels` and `namespaces` are sums of the per-node counts (a room held on
 * two nodes counts twice: the page says "per node, summed"). Lists are merged
 * and kept bounded: topics by name, the biggest by members and by traffic;
 * slow consumers and recent errors tagged with their node.
 */
import type {
  NodeStats,
  PerProtocol,
  Protocol,
  RecentError,
  SlowConsumer,
  TopicFigure,
} from "../stats.js";

/** Longest merged list (topics per ordering, slow consumers, errors). */
export const MERGED_LIST = 20;

/** A recent error or slow consumer of the cluster: which node reported it. */
export type OnNode<T> = T & { node: string };

/** The cluster's sum: {@link NodeStats} whose lists say their node. */
export interface ClusterStats extends Omit<NodeStats, "recentErrors" | "slowConsumers"> {
  recentErrors: OnNode<RecentError>[];
  slowConsumers: OnNode<SlowConsumer>[];
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
  };
  const topics = new Map<string, TopicFigure>();
  for (const stats of nodes) {
    sum.uptime = Math.max(sum.uptime, stats.uptime);
    for (const p of PROTOCOLS) {
      const into = sum.connections[p];
      for (const [transport, count] of Object.entries(stats.connections?.[p] ?? {})) {
        into[transport] = (into[transport] ?? 0) + count;
      }
    }
    sum.namespaces += stats.namespaces;
    sum.rooms += stats.rooms;
    sum.channels += stats.channels;
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
    for (const topic of stats.topTopics ?? []) {
      const key = `${topic.protocol} ${topic.name}`;
      const seen = topics.get(key);
      if (seen === undefined) topics.set(key, { ...topic });
      else {
        seen.members += topic.members;
        seen.messages += topic.messages;
      }
    }
  }
  sum.recentErrors = sum.recentErrors.sort((a, b) => a.time - b.time).slice(-MERGED_LIST);
  sum.slowConsumers = sum.slowConsumers.sort((a, b) => b.dropped - a.dropped).slice(0, MERGED_LIST);
  sum.topTopics = topTopics(topics.values());
  return sum;
}
