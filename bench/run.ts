/**
 * `npm run bench`: runs every scenario against every target (switchboard,
 * socket.io, bare ws), each run in fresh child processes, repeats, and prints
 * medians with ratios. Raw results go to `.bench-results/` as JSON.
 *
 * @example
 * // node --import tsx bench/run.ts --quick --targets socketio,ws --scenario fanout
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ROOT } from "./lib/child.js";
import { describeMachine, machineInfo } from "./lib/machine.js";
import { type BenchOptions, parseOptions, type ScenarioParams } from "./lib/options.js";
import type { ScenarioName, TargetName } from "./lib/protocol.js";
import {
  checkTargets,
  consoleTable,
  markdownTable,
  type Summary,
  summarize,
  tableRows,
} from "./lib/report.js";
import { type RunRecord, runOnce } from "./lib/runner.js";

const DOC = resolve(ROOT, "BENCHMARKS.md");
const DOC_START = "<!-- bench:results:start -->";
const DOC_END = "<!-- bench:results:end -->";

function chooseTargets(options: BenchOptions): TargetName[] {
  if (!options.targets.includes("switchboard") || options.explicitTargets) return options.targets;
  const entry = process.env.BENCH_SWITCHBOARD_ENTRY ?? "dist/index.js";
  if (existsSync(resolve(ROOT, entry))) return options.targets;
  console.warn(`${entry} is missing (run \`npm run build\`): skipping the switchboard target`);
  return options.targets.filter((target) => target !== "switchboard");
}

function describeRun(record: RunRecord): string {
  if (record.error !== undefined) return `ERROR ${record.error.split("\n")[0]}`;
  const m = record.metrics;
  const n = (value: number | undefined, digits = 2): string =>
    value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(digits);
  switch (record.scenario) {
    case "fanout":
      return `cpu ${n(m.cpuPer100k, 3)} s/100k, p50 ${n(m.p50Ms)} ms, p99 ${n(m.p99Ms)} ms, delivered ${n(m.deliveredPct, 1)}%, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "burst":
      return `${n(m.deliveriesPerSec, 0)} deliveries/s, cpu ${n(m.cpuPer100k, 3)} s/100k, delivered ${n(m.deliveredPct, 1)}%, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "echo":
      return `${n(m.acksPerSec, 0)} acks/s, cpu ${n(m.cpuPer100k, 3)} s/100k, p50 ${n(m.p50Ms)} ms, p99 ${n(m.p99Ms)} ms, load cpu ${n(m.loadCpuPct, 0)}%`;
    case "idle":
      return `${n(m.rssKBPerConn)} KB RSS/conn, ${n(m.heapKBPerConn)} KB heap/conn (${m.connected} connections)`;
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

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const targets = chooseTargets(options);
  const machine = machineInfo();
  const scenarios = options.scenarios;
  console.log(`bench: ${describeMachine(machine)}`);
  console.log(
    `targets ${targets.join(", ")}; ${options.reps} rep(s)${options.quick ? "; quick" : ""}`,
  );
  for (const line of parameters(options, scenarios)) console.log(`  ${line}`);

  const records: RunRecord[] = [];
  const started = Date.now();
  for (const scenario of scenarios) {
    for (let rep = 1; rep <= options.reps; rep++) {
      // Rotate the order each rep so no target always runs first (or right after another).
      const order = targets.map((_, i) => targets[(i + rep - 1) % targets.length]);
      for (const target of order) {
        const record = await runOnce(target, scenario, options.params[scenario], rep);
        records.push(record);
        console.log(`${scenario} #${rep} ${target.padEnd(11)} ${describeRun(record)}`);
      }
    }
  }
  const elapsed = (Date.now() - started) / 1000;

  const summary: Summary = summarize(records);
  const rows = tableRows(summary, targets);
  const checks = targets.includes("switchboard") ? checkTargets(summary) : [];
  console.log(`\nmedians of ${options.reps} rep(s), ${elapsed.toFixed(0)} s total\n`);
  console.log(consoleTable(rows));
  if (checks.length > 0) console.log(`\nissue targets for switchboard:\n${checks.join("\n")}`);

  const markdown = [
    `Run of ${describeMachine(machine)}; ${options.reps} rep(s) per target, medians${options.quick ? " (quick mode)" : ""}.`,
    "",
    ...parameters(options, scenarios).map((line) => `- ${line}`),
    "",
    markdownTable(rows),
    ...(checks.length > 0
      ? ["", "Issue targets for Switchboard:", "", ...checks.map((c) => `- ${c}`)]
      : []),
  ].join("\n");

  const outDir = resolve(ROOT, options.outDir);
  mkdirSync(outDir, { recursive: true });
  const stamp = machine.date.replace(/[:.]/g, "-");
  const json = JSON.stringify(
    { machine, options, targets, elapsedSeconds: elapsed, summary, records },
    null,
    2,
  );
  writeFileSync(join(outDir, `bench-${stamp}.json`), json);
  writeFileSync(join(outDir, "latest.json"), json);
  writeFileSync(join(outDir, "latest.md"), `${markdown}\n`);
  console.log(`\nraw results: ${join(options.outDir, `bench-${stamp}.json`)}`);
  if (options.updateDoc) updateDoc(markdown);
  if (records.some((record) => record.error !== undefined)) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 2;
});
