/**
 * One rep of a set-up scenario (Switchboard against itself in another
 * configuration, see `SetupScenario`): every set-up of the scenario runs in
 * turn — fresh server children, a fresh load generator, the same load — and
 * the rep's metrics are each set-up's, suffixed with its name (`cpuPer100kA`,
 * `p99MsRedis`), plus the comparisons the issue asks for, computed within the
 * rep so that both sides saw the same machine. The order of the set-ups
 * rotates with the rep.
 *
 * - `polling-nosticky`: set-up A is one forwarding node behind the
 *   round-robin proxy, B two forwarding nodes behind it; CPU is the nodes'
 *   sum, the proxy's is measured apart (`proxyCpuPer100k<set-up>`).
 *   Comparisons: `cpuRatio` (B / A), `p50DeltaMs` and `p99DeltaMs` (B − A).
 * - `fanout-recovery`: connection state recovery `Off`, on with the in-memory
 *   log (`Memory`), on with a Redis message log (`Redis`). Comparisons:
 *   `cpuRatioMemory` and `cpuRatioRedis` (on / off), `p99DeltaMemoryMs` and
 *   `p99DeltaRedisMs` (on − off).
 * - `cluster-fanout-recovery`: two nodes on one `RedisBroker` (one prefix),
 *   receivers split over both, the publisher on node 1; recovery `Off`, and
 *   `On` across the nodes (Redis message log and session store under the
 *   broker's prefix). CPU is the nodes' sum. Comparisons: `cpuRatio`
 *   (On / Off), `p50DeltaMs` and `p99DeltaMs` (On − Off).
 * - `bayeux-cluster-fanout-recovery`: the same on the Bayeux target (the
 *   load generator's Bayeux clients), `On` being the channel log with the
 *   session store and ack log, as the standalone server has them with
 *   recovery on. Same comparisons.
 * - `metrics-overhead`: four loads (`METRICS_LOADS`: the Socket.IO fan-out
 *   and echo, the Bayeux fan-out and publish-with-reply), each on set-up
 *   `Base` (the build in `BENCH_BASELINE_DIST`; this build when unset, for a
 *   plumbing run) and `Metrics` (this build, a `Metrics` watching the server
 *   and its exposition rendered every second). Metrics are suffixed with the
 *   load and the set-up (`cpuPer100kEchoMetrics`); comparisons
 *   `cpuRatio<Load>` (Metrics / Base). No Redis.
 */
import { join } from "node:path";
import { runLoad, ServerProcess } from "./child.js";
import { runPrefix, sumStats } from "./cluster-runner.js";
import type { ScenarioParams } from "./options.js";
import {
  type BarrierName,
  CLUSTER_NODES,
  familyOf,
  loadTag,
  METRICS_LOADS,
  type Metrics,
  type ScenarioName,
  type ServerConfig,
  type ServerStats,
  type SetupScenario,
} from "./protocol.js";
import { checkReachable, deleteKeys, redisUrl } from "./redis-proxy.js";

/** The processes of a started set-up. */
interface Started {
  /** The servers whose CPU is the set-up's (summed). */
  nodes: ServerProcess[];
  /** The load balancer in front of them, measured apart; absent when clients reach the node directly. */
  proxy?: ServerProcess;
  /** Where the clients connect (the publisher, and the receivers unless `ports` is set). */
  port: number;
  /** Where the receivers connect, spread evenly; `port` first. Default: `[port]`. */
  ports?: number[];
}

/** One configuration of a set-up scenario. */
interface Setup {
  /** Suffix of its metrics. */
  name: string;
  /** Starts the set-up's servers; `nodeArgs(node)` gives Node flags for each (profiling). */
  start(nodeArgs: NodeArgs): Promise<Started>;
}

/** Node flags for the server child named `node` (`node1`, `proxy`). */
type NodeArgs = (node: string) => string[];

/** Node's flags for a set-up's server processes: a CPU profile each under `profileDir/<label>-<node>`. */
function profileArgs(profileDir: string | undefined, label: string): NodeArgs {
  return (node) =>
    profileDir === undefined
      ? []
      : ["--cpu-prof", "--cpu-prof-dir", join(profileDir, `${label}-${node}`)];
}

/** The derivation the single-server runs use (CPU per delivery, delivered %). */
type Derive = (
  scenario: ScenarioName,
  load: Metrics,
  snapshots: Partial<Record<BarrierName, ServerStats>>,
) => Metrics;

function cpuMs(from: ServerStats, to: ServerStats): number {
  return (to.cpuUser + to.cpuSystem - from.cpuUser - from.cpuSystem) / 1000;
}

/** Starts the servers one by one; on a failure stops the ones already started. */
async function startAll(starts: (() => Promise<ServerProcess>)[]): Promise<ServerProcess[]> {
  const started: ServerProcess[] = [];
  try {
    for (const start of starts) started.push(await start());
    return started;
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    throw error;
  }
}

/** Runs the load once against a started set-up; returns its metrics, unsuffixed. */
async function measure(
  scenario: ScenarioName,
  params: ScenarioParams,
  setup: Setup,
  derive: Derive,
  timeoutMs: number,
  nodeArgs: NodeArgs,
): Promise<Metrics> {
  const started = await setup.start(nodeArgs);
  const servers = [...started.nodes, ...(started.proxy ? [started.proxy] : [])];
  try {
    const each: Partial<Record<BarrierName, ServerStats[]>> = {};
    const nodes: Partial<Record<BarrierName, ServerStats>> = {};
    const proxy: Partial<Record<BarrierName, ServerStats>> = {};
    const load = await runLoad(
      {
        ...params,
        scenario,
        // polling-nosticky mixes both protocols (its load decides); the rest speak their family's.
        protocol: familyOf(scenario) === "bayeux" ? "bayeux" : "sio",
        port: started.port,
        ports: started.ports ?? [started.port],
      },
      async (name) => {
        const stats = await Promise.all(started.nodes.map((node) => node.stats(false)));
        each[name] = stats;
        nodes[name] = sumStats(stats);
        if (started.proxy) proxy[name] = await started.proxy.stats(false);
      },
      timeoutMs,
    );
    const metrics = derive(scenario, load, nodes);
    const { start, end } = each;
    // Each node's share, to see how evenly the proxy spread the work.
    if (start && end && started.nodes.length > 1) {
      start.forEach((from, i) => {
        metrics[`node${i + 1}CpuMs`] = cpuMs(from, end[i]);
      });
    }
    if (proxy.start && proxy.end) {
      metrics.proxyCpuMs = cpuMs(proxy.start, proxy.end);
      if (load.deliveries > 0) {
        metrics.proxyCpuPer100k = (metrics.proxyCpuMs / 1000 / load.deliveries) * 100_000;
      }
    }
    return metrics;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** The round-robin proxy child in front of `nodes`. */
function startProxy(
  scenario: ScenarioName,
  nodes: ServerProcess[],
  nodeArgs: NodeArgs,
): Promise<ServerProcess> {
  const config = { scenario, upstreams: nodes.map((n) => n.port) };
  return ServerProcess.start("round-robin", config, nodeArgs("proxy"));
}

/** Set-ups A (one node) and B (two nodes) of `polling-nosticky`, each under its own prefix. */
function noStickySetups(url: string, prefixes: string[]): Setup[] {
  const scenario: ScenarioName = "polling-nosticky";
  const setup = (name: string, count: number): Setup => ({
    name,
    async start(nodeArgs) {
      const prefix = runPrefix();
      prefixes.push(prefix);
      const nodes = await startAll(
        Array.from({ length: count }, (_, i) => () => {
          const config: ServerConfig = {
            scenario,
            cluster: { nodeId: `node${i + 1}`, redisUrl: url, prefix },
          };
          return ServerProcess.start("switchboard", config, nodeArgs(`node${i + 1}`));
        }),
      );
      try {
        const proxy = await startProxy(scenario, nodes, nodeArgs);
        return { nodes, proxy, port: proxy.port };
      } catch (error) {
        await Promise.all(nodes.map((node) => node.stop()));
        throw error;
      }
    },
  });
  return [setup("A", 1), setup("B", 2)];
}

/** Set-ups Off, Memory and Redis of `fanout-recovery`. */
function recoverySetups(url: string, prefixes: string[]): Setup[] {
  const scenario: ScenarioName = "fanout-recovery";
  const single = (name: string, config: ServerConfig): Setup => ({
    name,
    async start(nodeArgs) {
      const node = await ServerProcess.start("switchboard", config, nodeArgs("node1"));
      return { nodes: [node], port: node.port };
    },
  });
  const prefix = runPrefix();
  prefixes.push(prefix);
  return [
    single("Off", { scenario }),
    single("Memory", { scenario, recovery: { log: "memory" } }),
    single("Redis", { scenario, recovery: { log: "redis", redisUrl: url, prefix } }),
  ];
}

/**
 * Set-ups Off and On of `cluster-fanout-recovery` (the Socket.IO target) and
 * `bayeux-cluster-fanout-recovery` (the Bayeux one): two nodes on one broker,
 * each set-up under its own prefix (broker, logs and sessions share it).
 */
type ClusterRecoveryScenario = "cluster-fanout-recovery" | "bayeux-cluster-fanout-recovery";

function clusterRecoverySetups(
  scenario: ClusterRecoveryScenario,
  url: string,
  prefixes: string[],
): Setup[] {
  const target = scenario === "cluster-fanout-recovery" ? "switchboard" : "switchboard-bayeux";
  const setup = (name: string, recovery: boolean): Setup => ({
    name,
    async start(nodeArgs) {
      const prefix = runPrefix();
      prefixes.push(prefix);
      const nodes = await startAll(
        Array.from({ length: CLUSTER_NODES }, (_, i) => () => {
          const config: ServerConfig = {
            scenario,
            cluster: { nodeId: `node${i + 1}`, redisUrl: url, prefix },
            ...(recovery ? { recovery: { log: "cluster", redisUrl: url, prefix } } : {}),
          };
          return ServerProcess.start(target, config, nodeArgs(`node${i + 1}`));
        }),
      );
      const ports = nodes.map((node) => node.port);
      return { nodes, port: ports[0], ports };
    },
  });
  return [setup("Off", false), setup("On", true)];
}

/** The build `metrics-overhead` compares with (`BENCH_BASELINE_DIST`), or undefined: this one. */
export function baselineDist(): string | undefined {
  const dist = process.env.BENCH_BASELINE_DIST;
  return dist === undefined || dist === "" ? undefined : dist;
}

/**
 * The loads `metrics-overhead` runs: every one of `METRICS_LOADS`, or the
 * comma list in `BENCH_METRICS_LOADS` (to look at one closer).
 */
export function metricsLoads(): (typeof METRICS_LOADS)[number][] {
  const asked = process.env.BENCH_METRICS_LOADS;
  if (asked === undefined || asked === "") return [...METRICS_LOADS];
  const loads = asked.split(",").map((load) => load.trim());
  for (const load of loads) {
    if (!(METRICS_LOADS as readonly string[]).includes(load)) {
      throw new Error(
        `unknown BENCH_METRICS_LOADS entry "${load}" (expected ${METRICS_LOADS.join(", ")})`,
      );
    }
  }
  return loads as (typeof METRICS_LOADS)[number][];
}

/** The echo clients of `metrics-overhead`: a tenth of the fan-out's, as the full run sizes them. */
export function metricsEchoClients(clients: number): number {
  return Math.max(2, Math.round(clients / 10));
}

/** The set-ups of one `metrics-overhead` load: the baseline build, then this one with metrics. */
function metricsSetups(load: (typeof METRICS_LOADS)[number]): Setup[] {
  const target = familyOf(load) === "bayeux" ? "switchboard-bayeux" : "switchboard";
  const single = (name: string, config: ServerConfig): Setup => ({
    name,
    async start(nodeArgs) {
      const node = await ServerProcess.start(target, config, nodeArgs("node1"));
      return { nodes: [node], port: node.port };
    },
  });
  const base = baselineDist();
  return [
    single("Base", { scenario: load, ...(base === undefined ? {} : { dist: base }) }),
    single("Metrics", { scenario: load, metrics: true }),
  ];
}

/** Every load of `metrics-overhead` on both set-ups (order rotated by `rep`), suffixed. */
async function runMetricsOverhead(
  params: ScenarioParams,
  rep: number,
  derive: Derive,
  slackMs: number,
  profileDir: string | undefined,
): Promise<Metrics> {
  const metrics: Metrics = {};
  for (const load of metricsLoads()) {
    const echo = load === "echo" || load === "bayeux-publish";
    const loadParams = echo ? { ...params, clients: metricsEchoClients(params.clients) } : params;
    const setups = metricsSetups(load);
    const order = setups.map((_, i) => setups[(i + rep - 1) % setups.length]);
    for (const setup of order) {
      const nodeArgs = profileArgs(profileDir, `${load}-${setup.name}-${rep}`);
      const timeoutMs = loadParams.durationMs + loadParams.warmupMs + slackMs;
      const measured = await measure(load, loadParams, setup, derive, timeoutMs, nodeArgs);
      const suffix = `${loadTag(load)}${setup.name}`;
      for (const [key, value] of Object.entries(measured)) metrics[`${key}${suffix}`] = value;
    }
  }
  return metrics;
}

/** The within-rep comparisons of a scenario's set-ups. */
export function compareSetups(scenario: SetupScenario, m: Metrics): Metrics {
  const out: Metrics = {};
  const ratio = (top: string, bottom: string): number =>
    m[bottom] > 0 && Number.isFinite(m[top]) ? m[top] / m[bottom] : Number.NaN;
  if (scenario === "metrics-overhead") {
    for (const load of METRICS_LOADS) {
      const tag = loadTag(load);
      out[`cpuRatio${tag}`] = ratio(`cpuPer100k${tag}Metrics`, `cpuPer100k${tag}Base`);
    }
  } else if (scenario !== "fanout-recovery") {
    const [base, other] = scenario === "polling-nosticky" ? ["A", "B"] : ["Off", "On"];
    out.cpuRatio = ratio(`cpuPer100k${other}`, `cpuPer100k${base}`);
    out.p50DeltaMs = m[`p50Ms${other}`] - m[`p50Ms${base}`];
    out.p99DeltaMs = m[`p99Ms${other}`] - m[`p99Ms${base}`];
  } else {
    for (const on of ["Memory", "Redis"]) {
      out[`cpuRatio${on}`] = ratio(`cpuPer100k${on}`, "cpuPer100kOff");
      out[`p99Delta${on}Ms`] = m[`p99Ms${on}`] - m.p99MsOff;
    }
  }
  return out;
}

/**
 * Runs every set-up of `scenario` once (order rotated by `rep`) and returns
 * the suffixed metrics and the comparisons. Every set-up scenario needs Redis
 * (`REDIS_URL`); the run's keys are deleted afterwards. With `profileDir`,
 * every server child writes a V8 CPU profile under
 * `<profileDir>/<scenario>-<set-up>-<rep>-<node>/`.
 */
export async function runSetups(
  scenario: SetupScenario,
  params: ScenarioParams,
  rep: number,
  derive: Derive,
  slackMs: number,
  profileDir?: string,
): Promise<Metrics> {
  if (scenario === "metrics-overhead") {
    const metrics = await runMetricsOverhead(params, rep, derive, slackMs, profileDir);
    return { ...metrics, ...compareSetups(scenario, metrics) };
  }
  const url = redisUrl();
  await checkReachable(url);
  const prefixes: string[] = [];
  const setups =
    scenario === "polling-nosticky"
      ? noStickySetups(url, prefixes)
      : scenario === "fanout-recovery"
        ? recoverySetups(url, prefixes)
        : clusterRecoverySetups(scenario as ClusterRecoveryScenario, url, prefixes);
  const order = setups.map((_, i) => setups[(i + rep - 1) % setups.length]);
  const metrics: Metrics = {};
  try {
    for (const setup of order) {
      const nodeArgs = profileArgs(profileDir, `${scenario}-${setup.name}-${rep}`);
      const timeoutMs = params.durationMs + params.warmupMs + slackMs;
      const measured = await measure(scenario, params, setup, derive, timeoutMs, nodeArgs);
      for (const [key, value] of Object.entries(measured)) metrics[`${key}${setup.name}`] = value;
    }
  } finally {
    await Promise.all(prefixes.map((prefix) => deleteKeys(url, prefix).catch(() => 0)));
  }
  return { ...metrics, ...compareSetups(scenario, metrics) };
}
