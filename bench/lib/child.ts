/**
 * Starting and talking to the benchmark's child processes: one target server
 * per run and one load generator per run, each its own Node process with an
 * IPC channel. Children run TypeScript through tsx and get the open-file limit
 * raised to the hard limit first (the idle scenario holds thousands of sockets
 * on each side).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import type {
  BarrierName,
  LoadCommand,
  LoadReport,
  LoadSpec,
  Metrics,
  ServerCommand,
  ServerConfig,
  ServerReport,
  ServerStats,
  TargetName,
} from "./protocol.js";

/** The repository root: children run with it as cwd so `--import tsx` resolves. */
export const ROOT = resolve(import.meta.dirname, "../..");

const START_TIMEOUT_MS = 20_000;
const STATS_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Spawns `node <args>` with an IPC channel, through `sh` so that the soft
 * open-file limit can be raised to the hard limit before Node starts.
 */
function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const script = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';
  return spawn("/bin/sh", ["-c", script, process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once("exit", () => done()));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited(child);
  clearTimeout(timer);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A server child that is not a target: `round-robin` is the load balancer
 * with no stickiness of the no-sticky scenario (bench/servers/round-robin.ts),
 * in its own process so that its CPU is measured apart from the nodes'.
 */
export type HelperServer = "round-robin";

/** A target reported that it cannot run the scenario here; the run is skipped, not failed. */
export class RunSkipped extends Error {
  override name = "RunSkipped";
}

/** A target server running in its own process. */
export class ServerProcess {
  private nextId = 0;
  private readonly pending = new Map<number, (stats: ServerStats) => void>();
  private failure: ((error: Error) => void) | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on("message", (report: ServerReport) => {
      if (report.type === "stats") {
        this.pending.get(report.id)?.(report.stats);
        this.pending.delete(report.id);
      } else if (report.type === "error") {
        this.failure?.(new Error(`server: ${report.message}`));
      }
    });
    child.once("exit", (code, signal) => {
      this.failure?.(new Error(`server exited (code ${code}, signal ${signal})`));
    });
  }

  /** The server's process id (for /proc look-ups or debugging). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Starts `bench/servers/<target>.ts` and waits for its port.
   *
   * @example
   * const server = await ServerProcess.start("ws", { scenario: "echo" });
   */
  static async start(
    target: TargetName | HelperServer,
    config: ServerConfig,
    nodeArgs: string[] = [],
  ): Promise<ServerProcess> {
    const args = ["--expose-gc", ...nodeArgs, "--import", "tsx", `bench/servers/${target}.ts`];
    const child = spawnNode(args, { BENCH_SERVER_CONFIG: JSON.stringify(config) });
    const ready = new Promise<number>((done, fail) => {
      child.on("message", (report: ServerReport) => {
        if (report.type === "ready") done(report.port);
        else if (report.type === "skip") fail(new RunSkipped(`${target}: ${report.reason}`));
        else if (report.type === "error") fail(new Error(`${target}: ${report.message}`));
      });
      child.once("exit", (code) => fail(new Error(`${target} server exited early (${code})`)));
      child.once("error", fail);
    });
    try {
      const port = await withTimeout(ready, START_TIMEOUT_MS, `${target} start`);
      return new ServerProcess(child, port);
    } catch (error) {
      child.kill("SIGKILL");
      throw error;
    }
  }

  /** Resource use now; with `gc`, after forced garbage collections. */
  stats(gc: boolean): Promise<ServerStats> {
    const id = this.nextId++;
    const answer = new Promise<ServerStats>((done, fail) => {
      this.pending.set(id, done);
      this.failure = fail;
    });
    this.child.send({ type: "stats", id, gc } satisfies ServerCommand);
    return withTimeout(answer, STATS_TIMEOUT_MS, "server stats");
  }

  /** Asks the server to close, and kills it if it does not exit in time. */
  async stop(): Promise<void> {
    this.failure = undefined;
    if (this.child.connected) this.child.send({ type: "stop" } satisfies ServerCommand);
    await stopChild(this.child, STOP_TIMEOUT_MS);
  }
}

/**
 * Runs one load-generator process for `spec`, calling `onBarrier` at each of
 * its barriers (the load waits until it resolves), and returns its metrics.
 *
 * @example
 * const metrics = await runLoad(spec, async (name) => snapshots.set(name, await server.stats(false)), 60_000);
 */
export async function runLoad(
  spec: LoadSpec,
  onBarrier: (name: BarrierName) => Promise<void>,
  timeoutMs: number,
): Promise<Metrics> {
  // The spec travels in the environment: an IPC message could arrive before tsx has
  // loaded the child's listener, and would be lost.
  const child = spawnNode(["--import", "tsx", "bench/load/main.ts"], {
    BENCH_LOAD_SPEC: JSON.stringify(spec),
  });
  const result = new Promise<Metrics>((done, fail) => {
    child.on("message", (report: LoadReport) => {
      if (report.type === "result") done(report.metrics);
      else if (report.type === "error") fail(new Error(`load: ${report.message}`));
      else {
        onBarrier(report.name).then(
          () => child.connected && child.send({ type: "continue" } satisfies LoadCommand),
          fail,
        );
      }
    });
    child.once("exit", (code) => fail(new Error(`load generator exited (${code})`)));
    child.once("error", fail);
  });
  try {
    return await withTimeout(result, timeoutMs, `${spec.scenario} load`);
  } finally {
    if (child.exitCode === null) child.kill("SIGTERM");
    await stopChild(child, STOP_TIMEOUT_MS);
  }
}
