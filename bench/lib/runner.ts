/**
 * One measured run: a fresh target server process, a fresh load generator,
 * server snapshots at the load's barriers, and the derived metrics (CPU per
 * unit of work, memory per connection). The orchestrator repeats this per
 * target and scenario; the harness test calls it directly.
 */
import { join } from "node:path";
import { RunSkipped, runLoad, ServerProcess } from "./child.js";
import { clusterMetrics, runCluster } from "./cluster-runner.js";
import type { ScenarioParams } from "./options.js";
import {
  type BarrierName,
  baseScenario,
  familyOf,
  isCluster,
  isMemoryBarrier,
  isSetupScenario,
  type Metrics,
  type ScenarioName,
  type ServerStats,
  type TargetName,
  type WireProtocol,
} from "./protocol.js";
import { runSetups } from "./setup-runner.js";

export interface RunRecord {
  target: TargetName;
  scenario: ScenarioName;
  rep: number;
  /** Load metrics plus derived ones; empty when the run failed or was skipped. */
  metrics: Metrics;
  error?: string;
  /** Why the target could not run the scenario here (not a failure). */
  skipped?: string;
}

/** Slack on top of a scenario's own duration before a run is declared hung. */
const LOAD_SLACK_MS = 90_000;

function cpuMs(from: ServerStats, to: ServerStats): number {
  return (to.cpuUser + to.cpuSystem - from.cpuUser - from.cpuSystem) / 1000;
}

/** Adds the server-side numbers to the load generator's metrics. */
export function derive(
  scenario: ScenarioName,
  load: Metrics,
  snapshots: Partial<Record<BarrierName, ServerStats>>,
): Metrics {
  const metrics: Metrics = { ...load };
  const { start, end, baseline, loaded } = snapshots;
  if (start && end) {
    const serverCpuMs = cpuMs(start, end);
    metrics.serverCpuMs = serverCpuMs;
    const work = baseScenario(scenario) === "echo" ? load.acks : load.deliveries;
    // CPU seconds per 100k deliveries (or acks, or publish replies): the unit.
    if (work > 0) metrics.cpuPer100k = (serverCpuMs / 1000 / work) * 100_000;
    const wall = load.wallMs ?? load.elapsedMs;
    if (wall > 0) metrics.serverCpuPct = (serverCpuMs / wall) * 100;
  }
  if (load.expected > 0) metrics.deliveredPct = (load.deliveries / load.expected) * 100;
  if (baseScenario(scenario) === "churn") Object.assign(metrics, churnMemory(snapshots));
  if (baseline && loaded && load.connected > 0) {
    metrics.rssKBPerConn = (loaded.rss - baseline.rss) / 1024 / load.connected;
    metrics.heapKBPerConn =
      (loaded.heapUsed + loaded.external - baseline.heapUsed - baseline.external) /
      1024 /
      load.connected;
  }
  return metrics;
}

const MB = 1024 * 1024;

/**
 * Churn: the server's memory after each round (every connection of it
 * closed, GC forced), in MB, as `rssMB<n>` and `heapMB<n>` (heap + external),
 * and the last round's over the first's as `rssRatio` and `heapRatio`.
 */
export function churnMemory(snapshots: Partial<Record<BarrierName, ServerStats>>): Metrics {
  const rounds = Object.keys(snapshots)
    .map((name) => /^round(\d+)$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const metrics: Metrics = {};
  for (const round of rounds) {
    const stats = snapshots[`round${round}`] as ServerStats;
    metrics[`rssMB${round}`] = stats.rss / MB;
    metrics[`heapMB${round}`] = (stats.heapUsed + stats.external) / MB;
  }
  if (rounds.length > 1) {
    const first = rounds[0];
    const last = rounds[rounds.length - 1];
    metrics.rssRatio = metrics[`rssMB${last}`] / metrics[`rssMB${first}`];
    metrics.heapRatio = metrics[`heapMB${last}`] / metrics[`heapMB${first}`];
  }
  return metrics;
}

function protocolOf(target: TargetName, scenario: ScenarioName): WireProtocol {
  if (target === "ws") return "ws";
  return familyOf(scenario) === "bayeux" ? "bayeux" : "sio";
}

/**
 * Runs `scenario` once against `target` (a set-up scenario: each of its
 * set-ups once, see setup-runner.ts).
 *
 * @example
 * const record = await runOnce("ws", "echo", QUICK.echo, 1);
 */
export async function runOnce(
  target: TargetName,
  scenario: ScenarioName,
  params: ScenarioParams,
  rep: number,
  profileDir?: string,
): Promise<RunRecord> {
  if (isCluster(scenario)) return runClusterOnce(target, scenario, params, rep, profileDir);
  if (isSetupScenario(scenario)) {
    try {
      const metrics = await runSetups(scenario, params, rep, derive, LOAD_SLACK_MS, profileDir);
      return { target, scenario, rep, metrics };
    } catch (error) {
      return failed(target, scenario, rep, error);
    }
  }
  let server: ServerProcess | undefined;
  try {
    // V8 writes the profile when the server process exits (after `stop`).
    const nodeArgs =
      profileDir === undefined
        ? []
        : ["--cpu-prof", "--cpu-prof-dir", join(profileDir, `${scenario}-${target}-${rep}`)];
    server = await ServerProcess.start(target, { scenario }, nodeArgs);
    const running = server;
    const snapshots: Partial<Record<BarrierName, ServerStats>> = {};
    const load = await runLoad(
      {
        ...params,
        scenario,
        protocol: protocolOf(target, scenario),
        port: server.port,
        ports: [server.port],
      },
      async (name) => {
        snapshots[name] = await running.stats(isMemoryBarrier(name));
      },
      params.durationMs + params.warmupMs + LOAD_SLACK_MS,
    );
    return { target, scenario, rep, metrics: derive(scenario, load, snapshots) };
  } catch (error) {
    return failed(target, scenario, rep, error);
  } finally {
    await server?.stop();
  }
}

function failed(
  target: TargetName,
  scenario: ScenarioName,
  rep: number,
  error: unknown,
): RunRecord {
  if (error instanceof RunSkipped)
    return { target, scenario, rep, metrics: {}, skipped: error.message };
  return { target, scenario, rep, metrics: {}, error: (error as Error).message };
}

/** A cluster scenario: CPU summed over both nodes, plus each node's Redis traffic. */
async function runClusterOnce(
  target: TargetName,
  scenario: ScenarioName,
  params: ScenarioParams,
  rep: number,
  profileDir?: string,
): Promise<RunRecord> {
  try {
    const protocol = protocolOf(target, scenario);
    const run = await runCluster(target, scenario, params, protocol, LOAD_SLACK_MS, profileDir);
    const metrics = {
      ...derive(scenario, run.load, run.summed),
      ...clusterMetrics(run.load, run.start, run.end),
    };
    return { target, scenario, rep, metrics };
  } catch (error) {
    return failed(target, scenario, rep, error);
  }
}
