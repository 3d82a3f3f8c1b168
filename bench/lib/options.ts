/**
 * Benchmark options from argv and the environment, and the scenario sizes of
 * the full and the quick (smoke) runs.
 *
 * argv wins over env: `--scenario fanout,echo,bayeux-fanout` / `BENCH_SCENARIO`,
 * `--targets switchboard,socketio,switchboard-bayeux,faye,ws` / `BENCH_TARGETS`, `--quick` / `BENCH_QUICK=1`,
 * `--reps 3` / `BENCH_REPS`, `--duration <ms>` / `BENCH_DURATION` (timed
 * scenarios), `--clients <n>` / `BENCH_CLIENTS`, `--rounds <n>` / `BENCH_ROUNDS`
 * (churn rounds), `--out <dir>` / `BENCH_OUT`,
 * `--update-doc` / `BENCH_UPDATE_DOC=1` (rewrite the table in BENCHMARKS.md),
 * `--profile` / `BENCH_PROFILE=1` (V8 CPU profiles of the servers under `<out>/profiles/`),
 * `--report <file.json>` (print a saved run again instead of measuring).
 */
import {
  type LoadSpec,
  SCENARIOS,
  type ScenarioName,
  TARGETS,
  type TargetName,
} from "./protocol.js";

/** Everything in a `LoadSpec` that a run decides (the port and protocol come later). */
export type ScenarioParams = Omit<LoadSpec, "scenario" | "protocol" | "port" | "ports">;

export interface BenchOptions {
  scenarios: ScenarioName[];
  targets: TargetName[];
  /** Whether the targets were chosen explicitly (else a missing build skips switchboard). */
  explicitTargets: boolean;
  quick: boolean;
  reps: number;
  params: Record<ScenarioName, ScenarioParams>;
  outDir: string;
  updateDoc: boolean;
  /** Write a V8 CPU profile of every server run (slows the servers: numbers are not comparable). */
  profile: boolean;
  /** A saved run's JSON to print again instead of measuring. */
  report?: string;
}

const BASE: ScenarioParams = {
  clients: 1000,
  durationMs: 15_000,
  warmupMs: 2000,
  rate: 20,
  messages: 500,
  batch: 10,
  payloadBytes: 64,
  window: 1,
  connectConcurrency: 50,
  rounds: 6,
  rooms: 100,
};

/**
 * Sizes of the full run (the issues' scenarios); about 27 minutes on 2 cores,
 * 15 of them churn, plus about 10 for the cluster scenarios, about 12 for
 * the set-up scenarios (each rep runs every set-up) and about 5 for the
 * polling ones. A cluster fan-out
 * has the load of its single-node twin (the issue compares their CPU per
 * delivery); the interest scenarios carry 512-byte fillers so that the
 * per-message envelope (RESP framing, channel name) stays small next to what
 * the members need.
 */
export const FULL: Record<ScenarioName, ScenarioParams> = {
  fanout: { ...BASE, clients: 1000, durationMs: 15_000 },
  burst: { ...BASE, clients: 1000, messages: 500 },
  echo: { ...BASE, clients: 100, durationMs: 10_000 },
  idle: { ...BASE, clients: 5000 },
  churn: { ...BASE, clients: 2000 },
  "bayeux-fanout": { ...BASE, clients: 1000, durationMs: 10_000 },
  "bayeux-burst": { ...BASE, clients: 1000, messages: 500 },
  "bayeux-publish": { ...BASE, clients: 100, durationMs: 8000 },
  "bayeux-idle": { ...BASE, clients: 4000 },
  "bayeux-churn": { ...BASE, clients: 2000 },
  "cluster-fanout": { ...BASE, clients: 1000, durationMs: 15_000 },
  "cluster-interest": { ...BASE, clients: 1000, rate: 200, durationMs: 10_000, payloadBytes: 512 },
  "bayeux-cluster-fanout": { ...BASE, clients: 1000, durationMs: 10_000 },
  "bayeux-cluster-interest": {
    ...BASE,
    clients: 1000,
    rate: 200,
    durationMs: 10_000,
    payloadBytes: 512,
  },
  // Every delivery is a poll answer and a new poll: the 500 receivers at 10 msg/s.
  "fanout-polling": { ...BASE, clients: 500, rate: 10, durationMs: 10_000 },
  "bayeux-fanout-polling": { ...BASE, clients: 500, rate: 10, durationMs: 10_000 },
  "echo-polling": { ...BASE, clients: 100, durationMs: 10_000 },
  // Every message is a poll answer and a new poll per receiver (a forwarded hop for
  // about half of them with two nodes): a lower rate than the websocket fan-out's.
  "polling-nosticky": { ...BASE, clients: 1000, rate: 2, durationMs: 15_000 },
  "fanout-recovery": { ...BASE, clients: 1000, durationMs: 15_000 },
  "cluster-fanout-recovery": { ...BASE, clients: 1000, durationMs: 15_000 },
  // The load of cluster-fanout-recovery (15 s, not bayeux-cluster-fanout's 10 s): the two
  // recovery costs are read side by side.
  "bayeux-cluster-fanout-recovery": { ...BASE, clients: 1000, durationMs: 15_000 },
  // Four loads × two set-ups per rep; `clients` is the fan-outs' size, the echo loads
  // take a tenth of it (the echo and bayeux-publish sizes).
  "metrics-overhead": { ...BASE, clients: 1000, durationMs: 10_000 },
};

/** Sizes of `--quick`: a smoke run of every scenario in well under a minute. */
export const QUICK: Record<ScenarioName, ScenarioParams> = {
  fanout: { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  burst: { ...BASE, clients: 200, messages: 200 },
  echo: { ...BASE, clients: 20, durationMs: 2000, warmupMs: 500 },
  idle: { ...BASE, clients: 500 },
  churn: { ...BASE, clients: 300 },
  "bayeux-fanout": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  "bayeux-burst": { ...BASE, clients: 200, messages: 200 },
  "bayeux-publish": { ...BASE, clients: 20, durationMs: 2000, warmupMs: 500 },
  "bayeux-idle": { ...BASE, clients: 500 },
  "bayeux-churn": { ...BASE, clients: 300 },
  "cluster-fanout": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  "cluster-interest": {
    ...BASE,
    clients: 200,
    rate: 100,
    durationMs: 2000,
    warmupMs: 500,
    payloadBytes: 512,
  },
  "bayeux-cluster-fanout": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  "bayeux-cluster-interest": {
    ...BASE,
    clients: 200,
    rate: 100,
    durationMs: 2000,
    warmupMs: 500,
    payloadBytes: 512,
  },
  "fanout-polling": { ...BASE, clients: 100, rate: 10, durationMs: 2000, warmupMs: 500 },
  "bayeux-fanout-polling": { ...BASE, clients: 100, rate: 10, durationMs: 2000, warmupMs: 500 },
  "echo-polling": { ...BASE, clients: 20, durationMs: 2000, warmupMs: 500 },
  "polling-nosticky": { ...BASE, clients: 200, rate: 5, durationMs: 2000, warmupMs: 1000 },
  "fanout-recovery": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  "cluster-fanout-recovery": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  "bayeux-cluster-fanout-recovery": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
  "metrics-overhead": { ...BASE, clients: 200, durationMs: 2000, warmupMs: 500 },
};

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new Error(`unknown ${what} "${item}" (expected ${allowed.join(", ")})`);
    }
  }
  return items as T[];
}

function positive(value: string, what: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${what} must be a positive number`);
  return number;
}

const FLAGS = new Set(["quick", "update-doc", "profile"]);
const VALUED = new Set([
  "scenario",
  "scenarios",
  "targets",
  "target",
  "reps",
  "duration",
  "clients",
  "rounds",
  "out",
  "report",
]);

/** Reads argv (`--name value`, `--name=value`, bare flags) into a name → value map. */
function readArgv(argv: string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split("=", 2);
    if (!FLAGS.has(name) && !VALUED.has(name)) throw new Error(`unknown option --${name}`);
    if (inline !== undefined) values.set(name, inline);
    else if (FLAGS.has(name)) values.set(name, "1");
    else if (i + 1 < argv.length) values.set(name, argv[++i]);
    else throw new Error(`--${name} needs a value`);
  }
  return values;
}

/**
 * Parses options.
 *
 * @example
 * parseOptions(["--quick", "--targets", "ws"], {}).targets; // ["ws"]
 */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const args = readArgv(argv);
  const get = (name: string, envName: string): string | undefined => args.get(name) ?? env[envName];
  const truthy = (value: string | undefined): boolean =>
    value !== undefined && value !== "" && value !== "0" && value !== "false";

  const quick = truthy(get("quick", "BENCH_QUICK"));
  const scenarioArg = get("scenario", "BENCH_SCENARIO") ?? get("scenarios", "BENCH_SCENARIOS");
  const targetArg = get("targets", "BENCH_TARGETS") ?? get("target", "BENCH_TARGET");
  const repsArg = get("reps", "BENCH_REPS");
  const durationArg = get("duration", "BENCH_DURATION");
  const clientsArg = get("clients", "BENCH_CLIENTS");
  const roundsArg = get("rounds", "BENCH_ROUNDS");

  const base = quick ? QUICK : FULL;
  const params = {} as Record<ScenarioName, ScenarioParams>;
  for (const scenario of SCENARIOS) {
    params[scenario] = { ...base[scenario] };
    if (durationArg !== undefined)
      params[scenario].durationMs = positive(durationArg, "--duration");
    if (clientsArg !== undefined)
      params[scenario].clients = Math.round(positive(clientsArg, "--clients"));
    if (roundsArg !== undefined)
      params[scenario].rounds = Math.round(positive(roundsArg, "--rounds"));
  }
  return {
    scenarios: scenarioArg ? list(scenarioArg, SCENARIOS, "scenario") : [...SCENARIOS],
    targets: targetArg ? list(targetArg, TARGETS, "target") : [...TARGETS],
    explicitTargets: targetArg !== undefined,
    quick,
    reps: repsArg ? Math.round(positive(repsArg, "--reps")) : quick ? 1 : 3,
    params,
    outDir: get("out", "BENCH_OUT") ?? ".bench-results",
    updateDoc: truthy(get("update-doc", "BENCH_UPDATE_DOC")),
    profile: truthy(get("profile", "BENCH_PROFILE")),
    report: args.get("report"),
  };
}
