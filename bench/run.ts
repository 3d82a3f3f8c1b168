/**
 * `npm run bench`: runs every scenario against every target of its family —
 * the Socket.IO scenarios against switchboard, socket.io and bare ws, the
 * Bayeux scenarios against switchboard-bayeux, faye and bare ws — each run in
 * fresh child processes, repeats, and prints medians with ratios, one table
 * per family. The cluster scenarios (`cluster-*`, `bayeux-cluster-*`) run two
 * nodes of each target on one Redis (`REDIS_URL`). The set-up scenarios
 * (`polling-nosticky`, `fanout-recovery`, `cluster-fanout-recovery`,
 * `bayeux-cluster-fanout-recovery`) run Switchboard alone in each of their
 * set-ups per rep (see bench/lib/setup-runner.ts) and print the
 * within-rep ratios with their targets. Raw results go to `.bench-results/`
 * as JSON.
 *
 * @example
 * // node --import tsx bench/run.ts --quick --targets socketio,ws --scenario fanout
 * // node --import tsx bench/run.ts --quick --scenario bayeux-fanout,bayeux-burst
 * // node --import tsx bench/run.ts --quick --targets switchboard --scenario polling-nosticky,fanout-recovery
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "./lib/child.js";
import { describeMachine, loadAverage, type MachineInfo, machineInfo } from "./lib/machine.js";
import { type BenchOptions, parseOptions, type ScenarioParams } from "./lib/options.js";
import {
  type Family,
  loadTag,
  METRICS_LOADS,
  runsScenario,
  type ScenarioName,
  type TargetName,
} from "./lib/protocol.js";
import {
  CHECK_SUBJECT,
  checkTargets,
  consoleTable,
  markdownTable,
  noisyCells,
  type Summary,
  summarize,
  tableFamily,
  tableRows,
} from "./lib/report.js";
import { type RunRecord, runOnce } from "./lib/runner.js";
import { baselineDist, metricsEchoClients } from "./lib/setup-runner.js";

const DOC = resolve(ROOT, "BENCHMARKS.md");
const DOC_START = "<!-- bench:results:start -->";
const DOC_END = "<!-- bench:results:end -->";

/** The built files each Switchboard target loads; a target whose file is missing is skipped. */
function builtEntry(target: TargetName): string | undefined {
  if (target === "switchboard") return process.env.BENCH_SWITCHBOARD_ENTRY ?? "dist/index.js";
  if (target === "switchboard-bayeux") {
    return join(process.env.BENCH_SWITCHBOARD_DIST ?? "dist", "bayeux/index.js");
  }
  return undefined;
}

function chooseTargets(options: BenchOptions): TargetName[] {
  if (options.explicitTargets) return options.targets;
  return options.targets.filter((target) => {
    const entry = builtEntry(target);
    if (entry === undefined || existsSync(resolve(ROOT, entry))) return true;
    console.warn(`${entry} is missing (run \`npm run build\`): skipping the ${target} target`);
    return false;
  });
}

/** A warning when the payload figures miss connections the proxy could not parse as RESP. */
function unparsed(m: RunRecord["metrics"]): string {
  const count = m.redisPayloadUnparsed ?? 0;
  return count > 0 ? `; INCOMPLETE: ${count} connection(s) not parsed` : "";
}

function describeRun(record: RunRecord): string {
  if (record.error !== undefined) return `ERROR ${record.error.split("\n")[0]}`;
  if (record.skipped !== undefined) return `SKIPPED ${record.skipped}`;
  const m = record.metrics;
  const n = (value: number | undefined, digits = 2): string =>
    value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
  switch (record.scenario) {
    case "bayeux-publish":
      return `${n(m.acksPerSec, 0)} replies/s, cpu ${n(m.cpuPer100k, 3)} s/100k, p50 ${n(m.p50Ms)} ms, p99 ${n(m.p99Ms)} ms, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "fanout":
    case "bayeux-fanout":
    case "fanout-polling":
    case "bayeux-fanout-polling":
      return `cpu ${n(m.cpuPer100k, 3)} s/100k, p50 ${n(m.p50Ms)} ms, p99 ${n(m.p99Ms)} ms, delivered ${n(m.deliveredPct, 1)}%, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "cluster-fanout":
    case "bayeux-cluster-fanout":
      return `cpu ${n(m.cpuPer100k, 3)} s/100k (node1 ${n(m.node1CpuMs, 0)} ms, node2 ${n(m.node2CpuMs, 0)} ms), p50 ${n(m.p50Ms)} ms, p99 ${n(m.p99Ms)} ms, delivered ${n(m.deliveredPct, 1)}%, Redis→nodes ${n(m.redisInKB, 0)} KB, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "cluster-interest":
    case "bayeux-cluster-interest":
      return `Redis→nodes ${n(m.redisInPerNeeded)}× what members need (node1 ${n(m.redisInKB1, 0)} KB, node2 ${n(m.redisInKB2, 0)} KB, needed ${n(m.neededKB, 0)} KB), message payloads only ${n(m.redisPayloadPerNeeded)}× (node1 ${n(m.redisPayloadInKB1, 0)} KB, node2 ${n(m.redisPayloadInKB2, 0)} KB${unparsed(m)}), cpu ${n(m.cpuPer100k, 3)} s/100k, p99 ${n(m.p99Ms)} ms, delivered ${n(m.deliveredPct, 1)}%`;
    case "burst":
    case "bayeux-burst":
      return `${n(m.deliveriesPerSec, 0)} deliveries/s, cpu ${n(m.cpuPer100k, 3)} s/100k, delivered ${n(m.deliveredPct, 1)}%, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "echo":
    case "echo-polling":
      return `${n(m.acksPerSec, 0)} acks/s, cpu ${n(m.cpuPer100k, 3)} s/100k, p50 ${n(m.p50Ms)} ms, p99 ${n(m.p99Ms)} ms, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "idle":
    case "bayeux-idle":
      return `${n(m.rssKBPerConn)} KB RSS/conn, ${n(m.heapKBPerConn)} KB heap/conn (${m.connected} connections)`;
    case "polling-nosticky":
      return `B/A cpu ${n(m.cpuRatio)}× (A ${n(m.cpuPer100kA, 3)}, B ${n(m.cpuPer100kB, 3)} s/100k, B node1 ${n(m.node1CpuMsB, 0)} ms node2 ${n(m.node2CpuMsB, 0)} ms; proxy A ${n(m.proxyCpuPer100kA, 3)}, B ${n(m.proxyCpuPer100kB, 3)}), p99 A ${n(m.p99MsA)} ms, B ${n(m.p99MsB)} ms (B−A ${n(m.p99DeltaMs)}), p50 A ${n(m.p50MsA)}, B ${n(m.p50MsB)} ms, delivered A ${n(m.deliveredPctA, 1)}%, B ${n(m.deliveredPctB, 1)}%, load cpu A ${n(m.loadCpuPctA, 0)}%, B ${n(m.loadCpuPctB, 0)}%`;
    case "fanout-recovery":
      return `cpu on/off memory ${n(m.cpuRatioMemory)}×, Redis ${n(m.cpuRatioRedis)}× (off ${n(m.cpuPer100kOff, 3)}, memory ${n(m.cpuPer100kMemory, 3)}, Redis ${n(m.cpuPer100kRedis, 3)} s/100k), p99 off ${n(m.p99MsOff)}, memory ${n(m.p99MsMemory)}, Redis ${n(m.p99MsRedis)} ms, delivered ${n(m.deliveredPctOff, 1)}/${n(m.deliveredPctMemory, 1)}/${n(m.deliveredPctRedis, 1)}%`;
    case "cluster-fanout-recovery":
    case "bayeux-cluster-fanout-recovery":
      return `cpu on/off ${n(m.cpuRatio)}× (off ${n(m.cpuPer100kOff, 3)}, on ${n(m.cpuPer100kOn, 3)} s/100k; on node1 ${n(m.node1CpuMsOn, 0)} ms, node2 ${n(m.node2CpuMsOn, 0)} ms), p50 off ${n(m.p50MsOff)}, on ${n(m.p50MsOn)} ms, p99 off ${n(m.p99MsOff)}, on ${n(m.p99MsOn)} ms (on−off ${n(m.p99DeltaMs)}), delivered ${n(m.deliveredPctOff, 1)}/${n(m.deliveredPctOn, 1)}%, load cpu ${n(m.loadCpuPctOff, 0)}/${n(m.loadCpuPctOn, 0)}%`;
    case "metrics-overhead":
      return METRICS_LOADS.map((load) => {
        const tag = loadTag(load);
        return `${load} on/base cpu ${n(m[`cpuRatio${tag}`], 3)}× (base ${n(m[`cpuPer100k${tag}Base`], 3)}, on ${n(m[`cpuPer100k${tag}Metrics`], 3)} s/100k)`;
      }).join("; ");
    case "churn":
    case "bayeux-churn": {
      const rounds = m.rounds ?? 0;
      const rss = Array.from({ length: rounds }, (_, i) => n(m[`rssMB${i + 1}`], 1)).join(" ");
      const heap = Array.from({ length: rounds }, (_, i) => n(m[`heapMB${i + 1}`], 1)).join(" ");
      return `RSS MB per round ${rss} (last/first ${n(m.rssRatio, 3)}), heap MB ${heap} (${n(m.heapRatio, 3)})`;
    }
  }
}

const DESCRIBE: Record<ScenarioName, (p: ScenarioParams) => string> = {
  fanout: (p) =>
    `fanout: ${p.clients} clients in one room, ${p.rate} msg/s for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler`,
  burst: (p) =>
    `burst: ${p.clients} clients, ${p.messages} messages broadcast ${p.batch} per event-loop turn`,
  echo: (p) =>
    `echo: ${p.clients} clients × ${p.window} in flight, ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up)`,
  idle: (p) => `idle: ${p.clients} connections joined to the main namespace`,
  churn: (p) =>
    `churn: ${p.rounds} rounds of ${p.clients} websocket connections opened (main namespace joined) and closed; server memory after a forced GC at the end of each round`,
  "cluster-fanout": (p) =>
    `cluster-fanout: two nodes on one Redis (switchboard: RedisBroker; socket.io: @socket.io/redis-adapter over ioredis), ${p.clients} clients in one room split evenly across them, ${p.rate} msg/s from a publisher on node 1 for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler; CPU of both nodes`,
  "cluster-interest": (p) =>
    `cluster-interest: two nodes on one Redis, ${p.rooms} rooms of ${Math.max(1, Math.floor(p.clients / p.rooms))} members each, every room's members on one node (even rooms node 1, odd rooms node 2), ${p.rate} msg/s from node 1 spread over the rooms for ${p.durationMs / 1000} s, ${p.payloadBytes}-byte filler; bytes each node reads from Redis (counted by a TCP proxy) against the data bytes its members need from other nodes`,
  "bayeux-cluster-fanout": (p) =>
    `bayeux-cluster-fanout: two nodes on one Redis (switchboard-bayeux: RedisBroker; faye: faye-redis), ${p.clients} websocket subscribers of one channel split evenly across them, ${p.rate} msg/s published by a client of node 1 for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler; CPU of both nodes`,
  "bayeux-cluster-interest": (p) =>
    `bayeux-cluster-interest: two nodes on one Redis, ${p.rooms} channels of ${Math.max(1, Math.floor(p.clients / p.rooms))} subscribers each, every channel's subscribers on one node, ${p.rate} msg/s published by a client of node 1 spread over the channels for ${p.durationMs / 1000} s, ${p.payloadBytes}-byte filler; bytes each node reads from Redis against what its subscribers need`,
  "bayeux-fanout": (p) =>
    `bayeux-fanout: ${p.clients} websocket subscribers of one channel, ${p.rate} msg/s published by a client for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler`,
  "bayeux-burst": (p) =>
    `bayeux-burst: ${p.clients} subscribers, ${p.messages} messages published server-side ${p.batch} per event-loop turn`,
  "bayeux-publish": (p) =>
    `bayeux-publish: ${p.clients} clients × ${p.window} publish in flight to an unsubscribed channel, ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up)`,
  "bayeux-idle": (p) =>
    `bayeux-idle: ${p.clients} handshaken clients, each subscribed to its own channel, connect held`,
  "fanout-polling": (p) =>
    `fanout-polling: ${p.clients} Engine.IO polling receivers (Socket.IO over HTTP long-polling, one GET held each) in one room, ${p.rate} msg/s from a websocket publisher for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler`,
  "bayeux-fanout-polling": (p) =>
    `bayeux-fanout-polling: ${p.clients} Bayeux long-polling subscribers of one channel (a /meta/connect POST held each), ${p.rate} msg/s published by a websocket client for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler`,
  "echo-polling": (p) =>
    `echo-polling: ${p.clients} Engine.IO polling clients × ${p.window} in flight, each request a POST and its ack in the answer to the held GET, ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up)`,
  "polling-nosticky": (p) =>
    `polling-nosticky: switchboard only, ${p.clients} long-polling receivers through a round-robin proxy with no stickiness (half Engine.IO/Socket.IO polling in one room, half Bayeux long-polling on one channel), ${p.rate} msg/s from a websocket publisher to both for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler; set-up A one node, B two nodes, both on Redis (broker, session store) with forwarding on; CPU of the nodes, the proxy's apart`,
  "fanout-recovery": (p) =>
    `fanout-recovery: switchboard only, the fan-out (${p.clients} websocket clients in one room, ${p.rate} msg/s for ${p.durationMs / 1000} s, +${p.warmupMs / 1000} s warm-up) with connection state recovery off, on with the in-memory log, and on with a Redis message log`,
  "cluster-fanout-recovery": (p) =>
    `cluster-fanout-recovery: switchboard only, two nodes on one Redis (RedisBroker, one prefix), ${p.clients} websocket clients in one room split evenly across them, ${p.rate} msg/s from a publisher on node 1 for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler; connection state recovery off, and on across the nodes (Redis message log and session store: every broadcast appended to a stream each node follows); CPU of both nodes`,
  "bayeux-cluster-fanout-recovery": (p) =>
    `bayeux-cluster-fanout-recovery: switchboard only, two nodes on one Redis (RedisBroker, one prefix), ${p.clients} Bayeux websocket subscribers of one channel split evenly across them (no ack extension), ${p.rate} msg/s published by a client of node 1 for ${p.durationMs / 1000} s (+${p.warmupMs / 1000} s warm-up), ${p.payloadBytes}-byte filler; channel log off (deliveries over the broker), and on (every publish appended to one Redis stream each node delivers from; session store and ack log on Redis, as the CLI with --redis-url); CPU of both nodes`,
  "metrics-overhead": (p) =>
    `metrics-overhead: switchboard only, four loads — fanout and bayeux-fanout (${p.clients} websocket receivers, ${p.rate} msg/s for ${p.durationMs / 1000} s, +${p.warmupMs / 1000} s warm-up), echo and bayeux-publish (${metricsEchoClients(p.clients)} clients × ${p.window} in flight) — each on the baseline build (${baselineDist() ?? "BENCH_BASELINE_DIST unset: this build, a plumbing run"}) and on this build with Metrics watching and its exposition rendered every second; CPU per message on / base`,
  "bayeux-churn": (p) =>
    `bayeux-churn: ${p.rounds} rounds of ${p.clients} websocket sessions (handshake, subscribe, connect held) ended with /meta/disconnect; server memory after a forced GC at the end of each round`,
};

function parameters(options: BenchOptions, scenarios: ScenarioName[]): string[] {
  return scenarios.map((scenario) => DESCRIBE[scenario](options.params[scenario]));
}

function updateDoc(markdown: string): void {
  if (!existsSync(DOC)) {
    console.warn(`${DOC} not found: table not written`);
    return;
  }
  const text = readFileSync(DOC, "utf8");
  const start = text.indexOf(DOC_START);
  const end = text.indexOf(DOC_END);
  if (start < 0 || end < start) {
    console.warn(`${DOC} has no ${DOC_START} … ${DOC_END} block: table not written`);
    return;
  }
  const updated = `${text.slice(0, start + DOC_START.length)}\n${markdown}\n${text.slice(end)}`;
  writeFileSync(DOC, updated);
  console.log(`updated ${DOC}`);
}

/** What one run produced: everything the table, the JSON and the doc are made from. */
interface RunResult {
  machine: MachineInfo;
  loadAverageAtEnd: number;
  options: BenchOptions;
  targets: TargetName[];
  elapsedSeconds: number;
  records: RunRecord[];
}

async function measure(options: BenchOptions): Promise<RunResult> {
  const targets = chooseTargets(options);
  const machine = machineInfo();
  console.log(`bench: ${describeMachine(machine)}`);
  console.log(
    `targets ${targets.join(", ")}; ${options.reps} rep(s)${options.quick ? "; quick" : ""}`,
  );
  for (const line of parameters(options, options.scenarios)) console.log(`  ${line}`);

  const profileDir = options.profile ? resolve(ROOT, options.outDir, "profiles") : undefined;
  if (profileDir !== undefined) {
    console.log(
      `profiling servers into ${profileDir} (profiled numbers are slower: do not compare)`,
    );
  }
  const records: RunRecord[] = [];
  const started = Date.now();
  for (const scenario of options.scenarios) {
    for (let rep = 1; rep <= options.reps; rep++) {
      // Rotate the order each rep so no target always runs first (or right after another).
      const taking = targets.filter((target) => runsScenario(target, scenario));
      const order = taking.map((_, i) => taking[(i + rep - 1) % taking.length]);
      for (const target of order) {
        const params = options.params[scenario];
        const record = await runOnce(target, scenario, params, rep, profileDir);
        records.push(record);
        console.log(`${scenario} #${rep} ${target.padEnd(18)} ${describeRun(record)}`);
      }
    }
  }
  return {
    machine,
    loadAverageAtEnd: loadAverage(),
    options,
    targets,
    elapsedSeconds: (Date.now() - started) / 1000,
    records,
  };
}

/** Prints the table and returns its Markdown form (for latest.md and BENCHMARKS.md). */
function render(result: RunResult): { summary: Summary; markdown: string } {
  const { machine, options, targets, records } = result;
  const summary = summarize(records);
  const measured = new Set(options.scenarios.map(tableFamily));
  const families = (["socketio", "bayeux"] as Family[]).filter((family) => measured.has(family));
  const tables = families.map((family) => tableRows(summary, targets, family));
  const checks = families.flatMap((family) =>
    targets.includes(CHECK_SUBJECT[family]) ? checkTargets(summary, family) : [],
  );
  const noisy = noisyCells(records, targets);
  const skipped = [
    ...new Set(
      records
        .filter((record) => record.skipped !== undefined)
        .map((record) => `${record.scenario} ${record.skipped}`),
    ),
  ];
  console.log(
    `\nmedians of ${options.reps} rep(s), ${result.elapsedSeconds.toFixed(0)} s total, load average ${result.loadAverageAtEnd} at end\n`,
  );
  console.log(tables.map(consoleTable).join("\n\n"));
  if (noisy.length > 0) console.log(`\nnoisy (reps differ by > 50 %):\n${noisy.join("\n")}`);
  if (skipped.length > 0) console.log(`\nskipped:\n${skipped.join("\n")}`);
  if (checks.length > 0) console.log(`\nissue targets for switchboard:\n${checks.join("\n")}`);

  const markdown = [
    `Run of ${describeMachine(machine)}, ${result.loadAverageAtEnd} at end; ${options.reps} rep(s) per target, medians${options.quick ? " (quick mode)" : ""}.`,
    "",
    ...parameters(options, options.scenarios).map((line) => `- ${line}`),
    "",
    tables.map(markdownTable).join("\n\n"),
    ...(noisy.length > 0
      ? [
          "",
          "Noisy cells (reps differ by more than 50 % of the median):",
          "",
          ...noisy.map((line) => `- ${line}`),
        ]
      : []),
    ...(skipped.length > 0 ? ["", "Skipped:", "", ...skipped.map((line) => `- ${line}`)] : []),
    ...(checks.length > 0
      ? ["", "Issue targets for Switchboard:", "", ...checks.map((c) => `- ${c}`)]
      : []),
  ].join("\n");
  return { summary, markdown };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  // `--report <file>`: print (and with --update-doc, publish) a saved run again.
  const result: RunResult =
    options.report === undefined
      ? await measure(options)
      : (JSON.parse(readFileSync(resolve(options.report), "utf8")) as RunResult);
  const { summary, markdown } = render(result);
  const { records } = result;

  if (options.report === undefined) {
    const outDir = resolve(ROOT, options.outDir);
    mkdirSync(outDir, { recursive: true });
    const stamp = result.machine.date.replace(/[:.]/g, "-");
    const json = JSON.stringify({ ...result, summary }, null, 2);
    writeFileSync(join(outDir, `bench-${stamp}.json`), json);
    writeFileSync(join(outDir, "latest.json"), json);
    writeFileSync(join(outDir, "latest.md"), `${markdown}\n`);
    console.log(`\nraw results: ${join(options.outDir, `bench-${stamp}.json`)}`);
  }
  const published = result.options;
  if (options.updateDoc && !published.profile && !published.quick) updateDoc(markdown);
  else if (options.updateDoc) console.warn("--update-doc ignored for a quick or profiled run");
  if (records.some((record) => record.error !== undefined)) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 2;
});
