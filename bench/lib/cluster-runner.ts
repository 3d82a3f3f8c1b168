/**
 * One measured run of a cluster scenario: two fresh server processes (the
 * nodes) on one Redis, each through its own counting proxy, with a key and
 * channel prefix unique to the run; one load generator spreading receivers
 * over the nodes. The server CPU of the run is the sum of both nodes'
 * `process.cpuUsage()`; the Redis traffic of each node is what its proxy
 * carried in the measured window. The run's keys are deleted afterwards.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { RunSkipped, runLoad, ServerProcess } from "./child.js";
import type { ScenarioParams } from "./options.js";
import {
  type BarrierName,
  CLUSTER_NODES,
  isMemoryBarrier,
  type Metrics,
  type ScenarioName,
  type ServerStats,
  type TargetName,
  type WireProtocol,
} from "./protocol.js";
import {
  CountingProxy,
  checkReachable,
  deleteKeys,
  type ProxyCounts,
  proxiedUrl,
  redisAddress,
  redisUrl,
} from "./redis-proxy.js";

/** The numbers the orchestrator reads at a barrier: each node's stats and each proxy's counts. */
export interface ClusterSnapshot {
  nodes: ServerStats[];
  redis: ProxyCounts[];
}

/**
 * A key and channel prefix no other run (here or in another process) uses,
 * about as short as the brokers' default ("sb:"): every byte of a channel
 * name crosses Redis with every message, and the interest scenarios count
 * those bytes for every target alike.
 */
export function runPrefix(): string {
  return `sb${randomBytes(4).readUInt32BE(0).toString(36)}:`;
}

/** The sum of the nodes' stats: the cluster's CPU and memory as one server's. */
export function sumStats(nodes: ServerStats[]): ServerStats {
  const total: ServerStats = { cpuUser: 0, cpuSystem: 0, rss: 0, heapUsed: 0, external: 0 };
  for (const stats of nodes) {
    total.cpuUser += stats.cpuUser;
    total.cpuSystem += stats.cpuSystem;
    total.rss += stats.rss;
    total.heapUsed += stats.heapUsed;
    total.external += stats.external;
  }
  return total;
}

/**
 * Per-node numbers of the measured window: CPU ms (`node<n>CpuMs`), KB read
 * from Redis (`redisInKB<n>`), of them the KB of pub/sub message payloads
 * (`redisPayloadInKB<n>`, without RESP framing, kinds or channel names), KB
 * sent to Redis (`redisOutKB<n>`), their totals, the connections whose
 * payloads could not be counted to the end (`redisPayloadUnparsed`, 0 when
 * the payload figures are complete), and — when the load reported what each
 * node's members need (`neededBytes<n>`) — the KB needed, `redisInPerNeeded`
 * (the nodes' Redis inbound bytes over the bytes their members need) and
 * `redisPayloadPerNeeded` (the same for the payload bytes only).
 *
 * @example
 * clusterMetrics({ neededBytes1: 0, neededBytes2: 1000 }, start, end).redisInPerNeeded;
 */
export function clusterMetrics(
  load: Metrics,
  start: ClusterSnapshot,
  end: ClusterSnapshot,
): Metrics {
  const metrics: Metrics = {};
  let inBytes = 0;
  let payloadBytes = 0;
  let unparsed = 0;
  let outBytes = 0;
  let needed = 0;
  let reported = false;
  end.nodes.forEach((stats, i) => {
    const from = start.nodes[i];
    const cpu = stats.cpuUser + stats.cpuSystem - from.cpuUser - from.cpuSystem;
    metrics[`node${i + 1}CpuMs`] = cpu / 1000;
  });
  end.redis.forEach((counts, i) => {
    const received = counts.fromRedis - start.redis[i].fromRedis;
    const payload = counts.inPayload - start.redis[i].inPayload;
    const sent = counts.toRedis - start.redis[i].toRedis;
    metrics[`redisInKB${i + 1}`] = received / 1024;
    metrics[`redisPayloadInKB${i + 1}`] = payload / 1024;
    metrics[`redisOutKB${i + 1}`] = sent / 1024;
    inBytes += received;
    payloadBytes += payload;
    // Every connection that stopped parsing by the window's end, before it or in it.
    unparsed += counts.unparsed;
    outBytes += sent;
    const need = load[`neededBytes${i + 1}`];
    if (need !== undefined) {
      needed += need;
      reported = true;
    }
  });
  metrics.redisInKB = inBytes / 1024;
  metrics.redisPayloadInKB = payloadBytes / 1024;
  metrics.redisPayloadUnparsed = unparsed;
  metrics.redisOutKB = outBytes / 1024;
  if (reported) {
    metrics.neededKB = needed / 1024;
    if (needed > 0) {
      metrics.redisInPerNeeded = inBytes / needed;
      metrics.redisPayloadPerNeeded = payloadBytes / needed;
    }
  }
  return metrics;
}

/** What a cluster run hands back to `runOnce`: the load's metrics and the window's snapshots. */
export interface ClusterRun {
  load: Metrics;
  start: ClusterSnapshot;
  end: ClusterSnapshot;
  /** The snapshots summed over the nodes, for the single-server derivations. */
  summed: Partial<Record<BarrierName, ServerStats>>;
}

/**
 * Runs a cluster scenario once: proxies, nodes, load, clean-up. Throws
 * `RunSkipped` when a target cannot join a cluster in this build.
 */
export async function runCluster(
  target: TargetName,
  scenario: ScenarioName,
  params: ScenarioParams,
  protocol: WireProtocol,
  slackMs: number,
  profileDir?: string,
): Promise<ClusterRun> {
  const url = redisUrl();
  await checkReachable(url);
  const prefix = runPrefix();
  const proxies: CountingProxy[] = [];
  const nodes: ServerProcess[] = [];
  try {
    for (let i = 0; i < CLUSTER_NODES; i++) {
      proxies.push(await CountingProxy.start(redisAddress(url)));
    }
    for (let i = 0; i < CLUSTER_NODES; i++) {
      const nodeId = `node${i + 1}`;
      const nodeArgs =
        profileDir === undefined
          ? []
          : ["--cpu-prof", "--cpu-prof-dir", join(profileDir, `${scenario}-${target}-${nodeId}`)];
      const cluster = { nodeId, redisUrl: proxiedUrl(url, proxies[i].port), prefix };
      nodes.push(await ServerProcess.start(target, { scenario, cluster }, nodeArgs));
    }
    const snapshots: Partial<Record<BarrierName, ClusterSnapshot>> = {};
    const load = await runLoad(
      {
        ...params,
        scenario,
        protocol,
        port: nodes[0].port,
        ports: nodes.map((node) => node.port),
      },
      async (name) => {
        const gc = isMemoryBarrier(name);
        const stats = await Promise.all(nodes.map((node) => node.stats(gc)));
        snapshots[name] = { nodes: stats, redis: proxies.map((proxy) => proxy.counts()) };
      },
      params.durationMs + params.warmupMs + slackMs,
    );
    const { start, end } = snapshots;
    if (start === undefined || end === undefined) {
      throw new Error(`${scenario} load reported no measured window`);
    }
    const summed: Partial<Record<BarrierName, ServerStats>> = {};
    for (const [name, snapshot] of Object.entries(snapshots) as [BarrierName, ClusterSnapshot][]) {
      summed[name] = sumStats(snapshot.nodes);
    }
    return { load, start, end, summed };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await deleteKeys(url, prefix).catch(() => 0);
  }
}

export { RunSkipped };
