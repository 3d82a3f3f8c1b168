/**
 * Turns run records into medians, ratio tables (console and Markdown) and the
 * issue's target checks for Switchboard.
 */

import {
  FAMILY_TARGETS,
  type Family,
  familyOf,
  isSetupScenario,
  loadTag,
  METRICS_LOADS,
  type Metrics,
  type ScenarioName,
  type TargetName,
} from "./protocol.js";
import type { RunRecord } from "./runner.js";
import { median } from "./stats.js";

interface MetricSpec {
  key: string;
  label: string;
  digits: number;
  /** Whether ratios between targets mean something for this metric. */
  ratio: boolean;
  /** A throughput that a saturated load generator caps: shown as a lower bound ("≥"). */
  capped?: boolean;
}

/** Load-generator CPU (% of one core) from which its throughput numbers are lower bounds. */
export const SATURATED_LOAD_PCT = 90;

/** Rounds shown in the churn rows (the default `rounds`; more are in the JSON). */
const CHURN_ROUNDS = 6;

/** Churn rows: memory after each round, then the last round over the first. */
function churnRows(): MetricSpec[] {
  const rounds = Array.from({ length: CHURN_ROUNDS }, (_, i) => i + 1);
  return [
    ...rounds.map((n) => ({
      key: `rssMB${n}`,
      label: `RSS after round ${n} (MB)`,
      digits: 1,
      ratio: true,
    })),
    ...rounds.map((n) => ({
      key: `heapMB${n}`,
      label: `heap+external after round ${n} (MB)`,
      digits: 1,
      ratio: true,
    })),
    { key: "rssRatio", label: "RSS last round / round 1", digits: 3, ratio: false },
    { key: "heapRatio", label: "heap+external last round / round 1", digits: 3, ratio: false },
  ];
}

/** Cluster fan-out rows: the fan-out's, with CPU summed over both nodes and the Redis traffic. */
const CLUSTER_FANOUT: MetricSpec[] = [
  {
    key: "cpuPer100k",
    label: "server CPU s / 100k deliveries (both nodes)",
    digits: 3,
    ratio: true,
  },
  { key: "p50Ms", label: "delivery latency p50 (ms)", digits: 2, ratio: true },
  { key: "p99Ms", label: "delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "deliveredPct", label: "delivered (%)", digits: 1, ratio: false },
  { key: "redisInKB", label: "Redis → nodes (KB)", digits: 0, ratio: true },
  { key: "redisOutKB", label: "nodes → Redis (KB)", digits: 0, ratio: true },
  { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
];

/**
 * Interest rows: what each node read from Redis against what its members
 * need — every TCP byte, then the pub/sub message payloads only (without the
 * RESP framing and channel names any client of Redis receives).
 */
const CLUSTER_INTEREST: MetricSpec[] = [
  {
    key: "redisInPerNeeded",
    label: "Redis → nodes / what members need",
    digits: 2,
    ratio: true,
  },
  {
    key: "redisPayloadPerNeeded",
    label: "Redis → nodes, message payloads only / what members need",
    digits: 2,
    ratio: true,
  },
  { key: "redisInKB1", label: "Redis → node 1, the publisher's (KB)", digits: 0, ratio: true },
  { key: "redisInKB2", label: "Redis → node 2 (KB)", digits: 0, ratio: true },
  {
    key: "redisPayloadInKB1",
    label: "Redis → node 1, message payloads only (KB)",
    digits: 0,
    ratio: true,
  },
  {
    key: "redisPayloadInKB2",
    label: "Redis → node 2, message payloads only (KB)",
    digits: 0,
    ratio: true,
  },
  { key: "neededKB", label: "members need from Redis (KB)", digits: 0, ratio: false },
  {
    key: "cpuPer100k",
    label: "server CPU s / 100k deliveries (both nodes)",
    digits: 3,
    ratio: true,
  },
  { key: "p99Ms", label: "delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "deliveredPct", label: "delivered (%)", digits: 1, ratio: false },
  { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
];

/**
 * No-sticky polling rows: set-up A (one forwarding node behind the
 * round-robin proxy) and B (two), the within-rep comparisons, the proxy apart.
 */
const POLLING_NOSTICKY: MetricSpec[] = [
  {
    key: "cpuRatio",
    label: "server CPU per delivery, B two nodes / A one node",
    digits: 2,
    ratio: false,
  },
  { key: "p99DeltaMs", label: "delivery latency p99, B − A (ms)", digits: 2, ratio: false },
  { key: "p50DeltaMs", label: "delivery latency p50, B − A (ms)", digits: 2, ratio: false },
  { key: "cpuPer100kA", label: "A: server CPU s / 100k deliveries", digits: 3, ratio: true },
  {
    key: "cpuPer100kB",
    label: "B: server CPU s / 100k deliveries (both nodes)",
    digits: 3,
    ratio: true,
  },
  { key: "p50MsA", label: "A: delivery latency p50 (ms)", digits: 2, ratio: true },
  { key: "p50MsB", label: "B: delivery latency p50 (ms)", digits: 2, ratio: true },
  { key: "p99MsA", label: "A: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "p99MsB", label: "B: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "node1CpuMsB", label: "B: node 1 CPU in the window (ms)", digits: 0, ratio: true },
  { key: "node2CpuMsB", label: "B: node 2 CPU in the window (ms)", digits: 0, ratio: true },
  { key: "eioP99MsB", label: "B: p99, Engine.IO polling receivers (ms)", digits: 2, ratio: true },
  {
    key: "bayeuxP99MsB",
    label: "B: p99, Bayeux long-polling receivers (ms)",
    digits: 2,
    ratio: true,
  },
  { key: "deliveredPctA", label: "A: delivered (%)", digits: 1, ratio: false },
  { key: "deliveredPctB", label: "B: delivered (%)", digits: 1, ratio: false },
  {
    key: "proxyCpuPer100kA",
    label: "A: proxy CPU s / 100k deliveries (not counted)",
    digits: 3,
    ratio: true,
  },
  {
    key: "proxyCpuPer100kB",
    label: "B: proxy CPU s / 100k deliveries (not counted)",
    digits: 3,
    ratio: true,
  },
  { key: "loadCpuPctA", label: "A: load generator CPU (%)", digits: 0, ratio: false },
  { key: "loadCpuPctB", label: "B: load generator CPU (%)", digits: 0, ratio: false },
];

/** Recovery rows: fan-out with connection state recovery off, on (memory log), on (Redis log). */
/** `metrics-overhead`: per load, the CPU ratio (Metrics / Base), then each side's CPU. */
const METRICS_OVERHEAD: MetricSpec[] = METRICS_LOADS.flatMap((load) => {
  const tag = loadTag(load);
  const per = load.endsWith("publish") || load === "echo" ? "replies" : "deliveries";
  return [
    {
      key: `cpuRatio${tag}`,
      label: `${load}: server CPU per message, metrics on / baseline build`,
      digits: 3,
      ratio: false,
    },
    {
      key: `cpuPer100k${tag}Base`,
      label: `${load}, baseline: server CPU s / 100k ${per}`,
      digits: 3,
      ratio: true,
    },
    {
      key: `cpuPer100k${tag}Metrics`,
      label: `${load}, metrics on: server CPU s / 100k ${per}`,
      digits: 3,
      ratio: true,
    },
  ];
});

const FANOUT_RECOVERY: MetricSpec[] = [
  {
    key: "cpuRatioMemory",
    label: "server CPU per delivery, recovery on (memory log) / off",
    digits: 2,
    ratio: false,
  },
  {
    key: "cpuRatioRedis",
    label: "server CPU per delivery, recovery on (Redis log) / off",
    digits: 2,
    ratio: false,
  },
  {
    key: "p99DeltaMemoryMs",
    label: "delivery latency p99, memory log − off (ms)",
    digits: 2,
    ratio: false,
  },
  {
    key: "p99DeltaRedisMs",
    label: "delivery latency p99, Redis log − off (ms)",
    digits: 2,
    ratio: false,
  },
  { key: "cpuPer100kOff", label: "off: server CPU s / 100k deliveries", digits: 3, ratio: true },
  {
    key: "cpuPer100kMemory",
    label: "memory log: server CPU s / 100k deliveries",
    digits: 3,
    ratio: true,
  },
  {
    key: "cpuPer100kRedis",
    label: "Redis log: server CPU s / 100k deliveries",
    digits: 3,
    ratio: true,
  },
  { key: "p99MsOff", label: "off: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "p99MsMemory", label: "memory log: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "p99MsRedis", label: "Redis log: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "deliveredPctOff", label: "off: delivered (%)", digits: 1, ratio: false },
  { key: "deliveredPctMemory", label: "memory log: delivered (%)", digits: 1, ratio: false },
  { key: "deliveredPctRedis", label: "Redis log: delivered (%)", digits: 1, ratio: false },
];

/** Rows of the cluster fan-out with recovery off and on across the nodes (CPU of both nodes). */
const CLUSTER_FANOUT_RECOVERY: MetricSpec[] = [
  {
    key: "cpuRatio",
    label: "server CPU per delivery, recovery on across nodes / off",
    digits: 2,
    ratio: false,
  },
  { key: "p50DeltaMs", label: "delivery latency p50, on − off (ms)", digits: 2, ratio: false },
  { key: "p99DeltaMs", label: "delivery latency p99, on − off (ms)", digits: 2, ratio: false },
  { key: "cpuPer100kOff", label: "off: server CPU s / 100k deliveries", digits: 3, ratio: true },
  { key: "cpuPer100kOn", label: "on: server CPU s / 100k deliveries", digits: 3, ratio: true },
  { key: "p50MsOff", label: "off: delivery latency p50 (ms)", digits: 2, ratio: true },
  { key: "p50MsOn", label: "on: delivery latency p50 (ms)", digits: 2, ratio: true },
  { key: "p99MsOff", label: "off: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "p99MsOn", label: "on: delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "deliveredPctOff", label: "off: delivered (%)", digits: 1, ratio: false },
  { key: "deliveredPctOn", label: "on: delivered (%)", digits: 1, ratio: false },
  { key: "loadCpuPctOff", label: "off: load generator CPU (%)", digits: 0, ratio: false },
  { key: "loadCpuPctOn", label: "on: load generator CPU (%)", digits: 0, ratio: false },
];

/**
 * Rows of the Bayeux cluster fan-out without and with the channel log (with
 * the session store and ack log on Redis, as the standalone server has them).
 */
const BAYEUX_CLUSTER_FANOUT_RECOVERY: MetricSpec[] = [
  {
    key: "cpuRatio",
    label: "server CPU per delivery, channel log on / off",
    digits: 2,
    ratio: false,
  },
  { key: "p50DeltaMs", label: "delivery latency p50, on − off (ms)", digits: 2, ratio: false },
  { key: "p99DeltaMs", label: "delivery latency p99, on − off (ms)", digits: 2, ratio: false },
  ...CLUSTER_FANOUT_RECOVERY.slice(3),
];

/** Fan-out rows (every fan-out twin: websocket, polling, Bayeux). */
const FANOUT: MetricSpec[] = [
  { key: "cpuPer100k", label: "server CPU s / 100k deliveries", digits: 3, ratio: true },
  { key: "p50Ms", label: "delivery latency p50 (ms)", digits: 2, ratio: true },
  { key: "p99Ms", label: "delivery latency p99 (ms)", digits: 2, ratio: true },
  { key: "deliveredPct", label: "delivered (%)", digits: 1, ratio: false },
  { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
];

/** Echo rows (websocket or polling). */
const ECHO: MetricSpec[] = [
  { key: "acksPerSec", label: "acks / s", digits: 0, ratio: true, capped: true },
  { key: "cpuPer100k", label: "server CPU s / 100k acks", digits: 3, ratio: true },
  { key: "p50Ms", label: "ack round trip p50 (ms)", digits: 2, ratio: true },
  { key: "p99Ms", label: "ack round trip p99 (ms)", digits: 2, ratio: true },
  { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
];

/** The rows of the table, per scenario, in order. */
export const METRICS: Record<ScenarioName, MetricSpec[]> = {
  fanout: FANOUT,
  burst: [
    { key: "deliveriesPerSec", label: "deliveries / s", digits: 0, ratio: true, capped: true },
    { key: "cpuPer100k", label: "server CPU s / 100k deliveries", digits: 3, ratio: true },
    { key: "deliveredPct", label: "delivered (%)", digits: 1, ratio: false },
    { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
  ],
  echo: ECHO,
  idle: [
    { key: "rssKBPerConn", label: "RSS KB / connection", digits: 2, ratio: true },
    { key: "heapKBPerConn", label: "heap+external KB / connection", digits: 2, ratio: true },
  ],
  churn: churnRows(),
  "cluster-fanout": CLUSTER_FANOUT,
  "cluster-interest": CLUSTER_INTEREST,
  "bayeux-fanout": FANOUT,
  "bayeux-burst": [
    { key: "deliveriesPerSec", label: "deliveries / s", digits: 0, ratio: true, capped: true },
    { key: "cpuPer100k", label: "server CPU s / 100k deliveries", digits: 3, ratio: true },
    { key: "deliveredPct", label: "delivered (%)", digits: 1, ratio: false },
    { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
  ],
  "bayeux-publish": [
    { key: "acksPerSec", label: "publish replies / s", digits: 0, ratio: true, capped: true },
    { key: "cpuPer100k", label: "server CPU s / 100k replies", digits: 3, ratio: true },
    { key: "p50Ms", label: "reply round trip p50 (ms)", digits: 2, ratio: true },
    { key: "p99Ms", label: "reply round trip p99 (ms)", digits: 2, ratio: true },
    { key: "loadCpuPct", label: "load generator CPU (%)", digits: 0, ratio: false },
  ],
  "bayeux-idle": [
    { key: "rssKBPerConn", label: "RSS KB / client", digits: 2, ratio: true },
    { key: "heapKBPerConn", label: "heap+external KB / client", digits: 2, ratio: true },
  ],
  "bayeux-churn": churnRows(),
  "bayeux-cluster-fanout": CLUSTER_FANOUT,
  "bayeux-cluster-interest": CLUSTER_INTEREST,
  "fanout-polling": FANOUT,
  "bayeux-fanout-polling": FANOUT,
  "echo-polling": ECHO,
  "polling-nosticky": POLLING_NOSTICKY,
  "fanout-recovery": FANOUT_RECOVERY,
  "cluster-fanout-recovery": CLUSTER_FANOUT_RECOVERY,
  "bayeux-cluster-fanout-recovery": BAYEUX_CLUSTER_FANOUT_RECOVERY,
  "metrics-overhead": METRICS_OVERHEAD,
};

/**
 * The table a scenario's rows go to: its family's, except that every set-up
 * scenario (Bayeux ones too) runs as the `switchboard` target and so sits in
 * the table that has that column.
 *
 * @example
 * tableFamily("bayeux-cluster-fanout-recovery"); // "socketio"
 */
export function tableFamily(scenario: ScenarioName): Family {
  return isSetupScenario(scenario) ? "socketio" : familyOf(scenario);
}

/** Median of each metric per scenario and target, over the successful reps. */
export type Summary = Partial<Record<ScenarioName, Partial<Record<TargetName, Metrics>>>>;

export function summarize(records: RunRecord[]): Summary {
  const summary: Summary = {};
  for (const record of records) {
    if (record.error !== undefined || record.skipped !== undefined) continue;
    const byTarget = (summary[record.scenario] ??= {});
    byTarget[record.target] ??= {};
  }
  for (const [scenario, byTarget] of Object.entries(summary) as [
    ScenarioName,
    Partial<Record<TargetName, Metrics>>,
  ][]) {
    for (const target of Object.keys(byTarget) as TargetName[]) {
      const runs = records.filter(
        (r) =>
          r.scenario === scenario &&
          r.target === target &&
          r.error === undefined &&
          r.skipped === undefined,
      );
      const keys = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
      const medians: Metrics = { reps: runs.length };
      for (const key of keys) medians[key] = median(runs.map((run) => run.metrics[key]));
      byTarget[target] = medians;
    }
  }
  return summary;
}

/** The ratio columns of each family's table. */
const RATIOS: Record<Family, [TargetName, TargetName, string][]> = {
  socketio: [
    ["switchboard", "ws", "sb/ws"],
    ["socketio", "ws", "sio/ws"],
    ["switchboard", "socketio", "sb/sio"],
  ],
  bayeux: [
    ["switchboard-bayeux", "ws", "sb/ws"],
    ["faye", "ws", "faye/ws"],
    ["switchboard-bayeux", "faye", "sb/faye"],
  ],
};

function format(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * Header and rows of one family's results table (cells already formatted):
 * its scenarios, the family's targets among `targets`, and its ratios.
 */
export function tableRows(
  summary: Summary,
  targets: TargetName[],
  family: Family = "socketio",
): string[][] {
  const columns = targets.filter((target) => FAMILY_TARGETS[family].includes(target));
  const ratios = RATIOS[family];
  const header = ["scenario", "metric", ...columns, ...ratios.map(([, , label]) => label)];
  const rows = [header];
  for (const scenario of Object.keys(METRICS) as ScenarioName[]) {
    const byTarget = summary[scenario];
    if (byTarget === undefined || tableFamily(scenario) !== family) continue;
    for (const spec of METRICS[scenario]) {
      const value = (target: TargetName): number | undefined => byTarget[target]?.[spec.key];
      const cells = ratios.map(([a, b]) => {
        const top = value(a);
        const bottom = value(b);
        if (!spec.ratio || top === undefined || bottom === undefined || bottom === 0) return "";
        return format(top / bottom, 2);
      });
      const cell = (target: TargetName): string => {
        const load = byTarget[target]?.loadCpuPct;
        const bound = spec.capped === true && load !== undefined && load >= SATURATED_LOAD_PCT;
        return `${bound ? "≥" : ""}${format(value(target), spec.digits)}`;
      };
      rows.push([scenario, spec.label, ...columns.map(cell), ...cells]);
    }
  }
  return rows;
}

/** A plain-text table for the console. */
export function consoleTable(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
        )
        .join("  "),
    )
    .join("\n");
}

/** A Markdown table. */
export function markdownTable(rows: string[][]): string {
  const [header, ...body] = rows;
  const align = header.map((_, column) => (column < 2 ? "---" : "---:"));
  return [header, align, ...body].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

interface Check {
  label: string;
  /** The target the check is about. */
  subject: TargetName;
  scenario: ScenarioName;
  key: string;
  /** The target compared with, or undefined for an absolute limit (or a `versusScenario`). */
  versus?: TargetName;
  /** Compares with another scenario's value (of `versus`, else of the subject itself). */
  versusScenario?: ScenarioName;
  /** Passes when the subject's value ≤ limit × versus (or ≥ when `atLeast`). */
  limit: number;
  atLeast?: boolean;
  unit?: string;
  /** Digits of the measured value shown. Default 2. */
  digits?: number;
  /** An absolute value that may be zero or negative (a difference), shown with its sign. */
  signed?: boolean;
}

/** The issues' targets for Switchboard, per family. */
const SOCKETIO_CHECKS: Omit<Check, "subject">[] = [
  {
    label: "fan-out CPU ≤ 1.1× raw ws",
    scenario: "fanout",
    key: "cpuPer100k",
    versus: "ws",
    limit: 1.1,
  },
  {
    label: "echo CPU ≤ 1.2× raw ws",
    scenario: "echo",
    key: "cpuPer100k",
    versus: "ws",
    limit: 1.2,
  },
  {
    label: "idle ≤ 10 KB RSS per connection",
    scenario: "idle",
    key: "rssKBPerConn",
    limit: 10,
    unit: "KB",
  },
  {
    label: "fan-out p99 latency ≤ socket.io",
    scenario: "fanout",
    key: "p99Ms",
    versus: "socketio",
    limit: 1,
  },
  {
    label: "churn RSS after the last round ≤ 1.05× round 1",
    scenario: "churn",
    key: "rssRatio",
    limit: 1.05,
    unit: "×",
    digits: 3,
  },
  {
    label: "burst throughput ≥ socket.io",
    scenario: "burst",
    key: "deliveriesPerSec",
    versus: "socketio",
    limit: 1,
    atLeast: true,
  },
  {
    label: "cluster fan-out CPU ≤ 0.6× socket.io + redis-adapter",
    scenario: "cluster-fanout",
    key: "cpuPer100k",
    versus: "socketio",
    limit: 0.6,
  },
  {
    label: "cluster fan-out p99 latency ≤ socket.io + redis-adapter",
    scenario: "cluster-fanout",
    key: "p99Ms",
    versus: "socketio",
    limit: 1,
  },
  {
    label: "cluster fan-out CPU ≤ 1.3× single-node fan-out",
    scenario: "cluster-fanout",
    key: "cpuPer100k",
    versusScenario: "fanout",
    limit: 1.3,
  },
  {
    label: "cluster interest: Redis inbound ≤ 1.1× what the nodes' members need",
    scenario: "cluster-interest",
    key: "redisInPerNeeded",
    limit: 1.1,
    unit: "×",
  },
  {
    label: "polling fan-out CPU ≤ 0.6× socket.io",
    scenario: "fanout-polling",
    key: "cpuPer100k",
    versus: "socketio",
    limit: 0.6,
  },
  {
    label: "polling fan-out p99 latency ≤ socket.io",
    scenario: "fanout-polling",
    key: "p99Ms",
    versus: "socketio",
    limit: 1,
  },
  {
    label: "polling echo CPU per ack ≤ 0.7× socket.io",
    scenario: "echo-polling",
    key: "cpuPer100k",
    versus: "socketio",
    limit: 0.7,
  },
  {
    label: "no-sticky polling CPU per delivery, two forwarding nodes ≤ 1.5× one node",
    scenario: "polling-nosticky",
    key: "cpuRatio",
    limit: 1.5,
    unit: "×",
  },
  {
    label: "no-sticky polling p99 latency, two forwarding nodes ≤ one node + 5 ms",
    scenario: "polling-nosticky",
    key: "p99DeltaMs",
    limit: 5,
    unit: "ms",
    signed: true,
  },
  {
    label: "fan-out CPU with connection state recovery (memory log) ≤ 1.25× recovery off",
    scenario: "fanout-recovery",
    key: "cpuRatioMemory",
    limit: 1.25,
    unit: "×",
  },
  {
    label: "fan-out CPU with connection state recovery (Redis log) ≤ 1.25× recovery off",
    scenario: "fanout-recovery",
    key: "cpuRatioRedis",
    limit: 1.25,
    unit: "×",
  },
  {
    label: "cluster fan-out CPU with recovery across nodes ≤ 1.25× recovery off",
    scenario: "cluster-fanout-recovery",
    key: "cpuRatio",
    limit: 1.25,
    unit: "×",
  },
  // A set-up scenario: run as the switchboard target, so checked with the Socket.IO ones.
  {
    label: "Bayeux cluster fan-out CPU with the channel log ≤ 1.25× without",
    scenario: "bayeux-cluster-fanout-recovery",
    key: "cpuRatio",
    limit: 1.25,
    unit: "×",
  },
  ...METRICS_LOADS.map((load) => ({
    label: `${load} CPU per message with metrics on ≤ 1.02× the baseline build`,
    scenario: "metrics-overhead" as const,
    key: `cpuRatio${loadTag(load)}`,
    limit: 1.02,
    unit: "×",
    digits: 3,
  })),
];

const BAYEUX_CHECKS: Omit<Check, "subject">[] = [
  {
    label: "Bayeux fan-out CPU ≤ 1.3× raw ws",
    scenario: "bayeux-fanout",
    key: "cpuPer100k",
    versus: "ws",
    limit: 1.3,
  },
  {
    label: "Bayeux publish-with-reply CPU ≤ 0.8× faye",
    scenario: "bayeux-publish",
    key: "cpuPer100k",
    versus: "faye",
    limit: 0.8,
  },
  {
    label: "Bayeux publish-with-reply CPU ≤ 1.5× raw ws",
    scenario: "bayeux-publish",
    key: "cpuPer100k",
    versus: "ws",
    limit: 1.5,
  },
  {
    label: "Bayeux burst throughput ≥ 2× faye",
    scenario: "bayeux-burst",
    key: "deliveriesPerSec",
    versus: "faye",
    limit: 2,
    atLeast: true,
  },
  {
    label: "Bayeux churn RSS after the last round ≤ 1.05× round 1",
    scenario: "bayeux-churn",
    key: "rssRatio",
    limit: 1.05,
    unit: "×",
    digits: 3,
  },
  {
    label: "Bayeux idle ≤ 12 KB RSS per client",
    scenario: "bayeux-idle",
    key: "rssKBPerConn",
    limit: 12,
    unit: "KB",
  },
  {
    label: "Bayeux cluster fan-out CPU ≤ 0.5× faye + faye-redis",
    scenario: "bayeux-cluster-fanout",
    key: "cpuPer100k",
    versus: "faye",
    limit: 0.5,
  },
  {
    label: "Bayeux cluster fan-out p99 latency ≤ faye + faye-redis",
    scenario: "bayeux-cluster-fanout",
    key: "p99Ms",
    versus: "faye",
    limit: 1,
  },
  {
    label: "Bayeux cluster fan-out CPU ≤ 1.3× single-node Bayeux fan-out",
    scenario: "bayeux-cluster-fanout",
    key: "cpuPer100k",
    versusScenario: "bayeux-fanout",
    limit: 1.3,
  },
  {
    label: "Bayeux long-polling fan-out CPU ≤ 0.5× faye",
    scenario: "bayeux-fanout-polling",
    key: "cpuPer100k",
    versus: "faye",
    limit: 0.5,
  },
  {
    label: "Bayeux long-polling fan-out p99 latency ≤ faye",
    scenario: "bayeux-fanout-polling",
    key: "p99Ms",
    versus: "faye",
    limit: 1,
  },
  {
    label: "Bayeux cluster interest: Redis inbound ≤ 1.1× what the nodes' members need",
    scenario: "bayeux-cluster-interest",
    key: "redisInPerNeeded",
    limit: 1.1,
    unit: "×",
  },
];

/** The target a family's issue targets are about. */
export const CHECK_SUBJECT: Record<Family, TargetName> = {
  socketio: "switchboard",
  bayeux: "switchboard-bayeux",
};

const CHECKS: Record<Family, Check[]> = {
  socketio: SOCKETIO_CHECKS.map((check) => ({ ...check, subject: CHECK_SUBJECT.socketio })),
  bayeux: BAYEUX_CHECKS.map((check) => ({ ...check, subject: CHECK_SUBJECT.bayeux })),
};

/**
 * One line per issue target: PASS, FAIL, or n/a when a number is missing,
 * with the measured ratio (or value) so a near miss reads as one.
 */
export function checkTargets(summary: Summary, family: Family = "socketio"): string[] {
  return CHECKS[family].map((check) => {
    const sb = summary[check.scenario]?.[check.subject]?.[check.key];
    const relative = check.versus !== undefined || check.versusScenario !== undefined;
    const base = relative
      ? summary[check.versusScenario ?? check.scenario]?.[check.versus ?? check.subject]?.[
          check.key
        ]
      : 1;
    if (sb === undefined || base === undefined || !Number.isFinite(sb) || !(base > 0)) {
      return `n/a   ${check.label}`;
    }
    const measured = sb / base;
    const pass = check.atLeast === true ? measured >= check.limit : measured <= check.limit;
    const sign = check.signed === true && measured >= 0 ? "+" : "";
    const shown = !relative
      ? `${sign}${format(measured, check.digits ?? 2)} ${check.unit ?? ""}`.trim()
      : `${format(measured, 2)}×`;
    return `${pass ? "PASS" : "FAIL"}  ${check.label} (measured ${shown})`;
  });
}

/** Spread between reps, relative to the median, above which a cell is called noisy. */
export const NOISY_SPREAD = 0.5;

/**
 * Cells whose reps disagree by more than `NOISY_SPREAD` of their median, with
 * the range, so a reader knows which medians to distrust (on a shared machine
 * latency tails are the usual suspects).
 */
export function noisyCells(records: RunRecord[], targets: TargetName[]): string[] {
  const lines: string[] = [];
  for (const scenario of Object.keys(METRICS) as ScenarioName[]) {
    for (const spec of METRICS[scenario]) {
      if (!spec.ratio) continue;
      const ranges: string[] = [];
      for (const target of targets) {
        const values = records
          .filter(
            (r) =>
              r.scenario === scenario &&
              r.target === target &&
              r.skipped === undefined &&
              r.error === undefined,
          )
          .map((r) => r.metrics[spec.key])
          .filter((value) => Number.isFinite(value));
        if (values.length < 2) continue;
        const low = Math.min(...values);
        const high = Math.max(...values);
        const middle = median(values);
        if (middle > 0 && (high - low) / middle > NOISY_SPREAD) {
          ranges.push(`${target} ${format(low, spec.digits)}–${format(high, spec.digits)}`);
        }
      }
      if (ranges.length > 0) lines.push(`${scenario} ${spec.label}: ${ranges.join(", ")}`);
    }
  }
  return lines;
}
