/**
 * What every load scenario gets: its spec, the barrier that lets the
 * orchestrator snapshot the server, and timing helpers. A scenario returns its
 * raw metrics; the orchestrator derives CPU-per-work and memory-per-connection.
 */
import type { BarrierName, LoadSpec, Metrics } from "../lib/protocol.js";

export interface LoadContext {
  spec: LoadSpec;
  /** Pauses until the orchestrator has taken its snapshot for `name`. */
  barrier(name: BarrierName): Promise<void>;
}

export type Scenario = (context: LoadContext) => Promise<Metrics>;

/** Wall-clock milliseconds, comparable across processes on this machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every few ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/**
 * Measures the load generator's own CPU over a window, to show whether it was
 * saturated (near 100% of one core means the numbers measure the generator).
 */
export class CpuWindow {
  private readonly startCpu = process.cpuUsage();
  private readonly startWall = now();

  /** Milliseconds since the window opened. */
  elapsedMs(): number {
    return now() - this.startWall;
  }

  /** Percent of one core the generator used since the window opened. */
  cpuPercent(): number {
    const cpu = process.cpuUsage(this.startCpu);
    return ((cpu.user + cpu.system) / 1000 / this.elapsedMs()) * 100;
  }
}

/**
 * Calls `tick(i)` for i = 0..count-1 at a fixed rate, scheduling each call
 * against the start time so timer drift does not lower the rate.
 */
export function paced(rate: number, count: number, tick: (i: number) => void): Promise<void> {
  const interval = 1000 / rate;
  const start = now();
  return new Promise((resolve) => {
    let i = 0;
    const step = (): void => {
      tick(i++);
      if (i >= count) {
        resolve();
        return;
      }
      setTimeout(step, Math.max(0, start + i * interval - now()));
    };
    step();
  });
}
