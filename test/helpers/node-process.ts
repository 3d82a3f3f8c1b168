/**
 * A cluster node of the node-death test as a child process
 * (test/fixtures/kill-node.ts) on a fixed port: started, killed with SIGKILL
 * (no goodbye to its clients, its Redis connections or its peers) and started
 * again on the same port, so a proxy in front keeps its list of nodes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../fixtures/kill-node.ts", import.meta.url));

/** How long a start may take: loading TypeScript on a busy machine is slow. */
const START_TIMEOUT = 30_000;

export interface NodeSettings {
  port: number;
  redisUrl: string;
  prefix: string;
  nodeId: string;
}

/**
 * @example
 * const node = new NodeProcess({ port, redisUrl, prefix, nodeId: "n1" });
 * await node.start();
 * await node.kill(); // SIGKILL
 * await node.start(); // same port
 * after(() => node.stop());
 */
export class NodeProcess {
  readonly settings: NodeSettings;
  /** Exits this helper did not cause (a crash), with their code or signal and last stderr lines. */
  readonly crashes: string[] = [];
  /** Times the process was started. */
  starts = 0;
  #child: ChildProcess | undefined;
  /** Set by stop(): a step of a test still running may not start the node again. */
  #stopped = false;

  constructor(settings: NodeSettings) {
    this.settings = settings;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Spawns the node and resolves once it prints `ready <port>`; rejects (and kills it) otherwise. */
  async start(): Promise<void> {
    if (this.#child) throw new Error(`node ${this.settings.nodeId} is already running`);
    if (this.#stopped) throw new Error(`node ${this.settings.nodeId} was stopped`);
    const { port, redisUrl, prefix, nodeId } = this.settings;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        FIXTURE,
        "--port",
        String(port),
        "--redis-url",
        redisUrl,
        "--prefix",
        prefix,
        "--node-id",
        nodeId,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child = child;
    this.starts++;
    // Should the test process end without stopping it, the node ends too.
    const orphaned = () => child.kill("SIGKILL");
    process.once("exit", orphaned);
    child.once("exit", () => process.off("exit", orphaned));
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.once("exit", (code, signal) => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.crashes.push(`${nodeId} exited (${signal ?? code}): ${stderr.trim()}`);
    });
    let stdout = "";
    child.stdout?.setEncoding("utf8");
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${nodeId} not ready`)), START_TIMEOUT);
      child.stdout?.on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.includes(`ready ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node ${nodeId} exited before ready (${signal ?? code}): ${stderr}`));
      });
    });
    try {
      await ready;
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** Kills the node at once (SIGKILL) and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  /** Ends the node gracefully (SIGTERM), or kills it after `ms`. */
  async stop(ms = 3000): Promise<void> {
    this.#stopped = true;
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    await exited;
    clearTimeout(timer);
  }
}
