/**
 * The control side of every target server child: reads its `ServerConfig`,
 * starts the target, reports the port, and answers the orchestrator's stats
 * requests (CPU from `process.cpuUsage()`, which counts every thread of this
 * process, and memory after an optional forced GC — the child runs with
 * `--expose-gc`). Each target runs alone in its own process, so these numbers
 * are the target's and nothing else's.
 */
import type { ServerCommand, ServerConfig, ServerReport, ServerStats } from "../lib/protocol.js";

/** A started target: where it listens and how to stop it. */
export interface BenchServer {
  port: number;
  close(): Promise<void>;
}

type Starter = (config: ServerConfig) => Promise<BenchServer>;

/**
 * Thrown by a starter when its target cannot run the scenario here (say, the
 * built Switchboard has no cluster broker yet): the run is reported as
 * skipped with the reason, not as a failure.
 */
export class SkipRun extends Error {
  override name = "SkipRun";
}

const STOP_GRACE_MS = 2000;

function send(report: ServerReport): void {
  process.send?.(report);
}

function runGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("server child needs --expose-gc");
  // Two passes: the first may only schedule finalizers whose memory the second frees.
  gc();
  gc();
}

async function snapshot(gc: boolean): Promise<ServerStats> {
  if (gc) {
    runGc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    runGc();
  }
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    external: memory.external,
  };
}

/**
 * Runs a target under orchestrator control. Call once from a server entry file.
 *
 * @example
 * await host(async (config) => startMyServer(config));
 */
export async function host(start: Starter): Promise<void> {
  if (process.send === undefined) {
    throw new Error("bench servers are started by bench/run.ts with an IPC channel");
  }
  const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? "{}") as ServerConfig;
  let server: BenchServer;
  try {
    server = await start(config);
  } catch (error) {
    if (error instanceof SkipRun) {
      process.send(
        { type: "skip", reason: error.message } satisfies ServerReport,
        undefined,
        {},
        () => process.exit(0),
      );
      return;
    }
    send({ type: "error", message: `start failed: ${(error as Error).stack ?? error}` });
    process.exit(1);
  }
  const stop = (): void => {
    // A target whose close hangs must not hang the benchmark.
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on("message", (command: ServerCommand) => {
    if (command.type === "stop") {
      stop();
      return;
    }
    snapshot(command.gc).then(
      (stats) => send({ type: "stats", id: command.id, stats }),
      (error: Error) => send({ type: "error", message: error.message }),
    );
  });
  // The orchestrator went away: do not linger as an orphan holding a port.
  process.on("disconnect", stop);
  send({ type: "ready", port: server.port });
}
