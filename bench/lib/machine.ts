/**
 * The facts a result needs to be read: when, on what CPU, how many cores,
 * which Node. Numbers from different machines (or different runs on this
 * shared one) are not comparable; ratios within one run are.
 */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem, type } from "node:os";

export interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started: other work on the machine skews numbers. */
  loadAverage: number;
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((entry) => entry.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The 1-minute load average now, to two decimals. */
export function loadAverage(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    cpus: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${type()} ${release()}`,
    loadAverage: loadAverage(),
  };
}

/** One line for the console and BENCHMARKS.md. */
export function describeMachine(info: MachineInfo): string {
  return `${info.date.slice(0, 16).replace("T", " ")} UTC, ${info.cpus} cores (nproc), ${info.cpuModel}, ${info.memoryGiB} GiB, Node ${info.node}, ${info.os}, 1-min load average ${info.loadAverage} at start`;
}
