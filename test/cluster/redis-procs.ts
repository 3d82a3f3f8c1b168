/**
 * Redis processes for tests: a single `redis-server` on a free port (killed
 * and restarted by the fault tests) and a 3-master Redis Cluster. Every server
 * runs without persistence, in its own temporary directory, on 127.0.0.1.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Sends one inline command and resolves with the raw reply, or rejects. */
export function rawCommand(port: number, command: string, ms = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${command} on ${port}`));
    }, ms);
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (chunk) => {
      text += chunk.toString();
      if (!complete(text)) return;
      clearTimeout(timer);
      socket.end();
      resolve(text);
    });
  });
}

/** Whether `text` holds a whole simple, error, integer or bulk reply. */
function complete(text: string): boolean {
  const eol = text.indexOf("\r\n");
  if (eol === -1) return false;
  if (text[0] !== "$") return true;
  const length = Number(text.slice(1, eol));
  return length < 0 || Buffer.byteLength(text) >= eol + 2 + length + 2;
}

async function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One redis-server process on a fixed port, startable again after a kill. */
export class RedisProcess {
  readonly port: number;
  readonly #dir: string;
  readonly #extra: string[];
  #child: ChildProcess | undefined;

  constructor(port: number, extra: string[] = []) {
    this.port = port;
    this.#dir = mkdtempSync(join(tmpdir(), "sb-redis-"));
    this.#extra = extra;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it answers PING. */
  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.#dir,
        ...this.#extra,
      ],
      { stdio: "ignore" },
    );
    this.#child = child;
    await waitFor(`redis-server on ${this.port}`, 10_000, async () =>
      (await rawCommand(this.port, "PING")).startsWith("+PONG"),
    );
  }

  /** Kills the server at once (SIGKILL: no goodbye to its clients). */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Starts a single redis-server on a free port. */
export async function startRedis(): Promise<RedisProcess> {
  const server = new RedisProcess(await freePort());
  await server.start();
  return server;
}

export interface RedisClusterProcesses {
  masters: RedisProcess[];
  rootNodes: Array<{ url: string }>;
  stop(): Promise<void>;
}

/** Starts three cluster-enabled servers and joins them as a 3-master cluster. */
export async function startRedisCluster(): Promise<RedisClusterProcesses> {
  const masters: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(masters.map((m) => m.stop()));
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      // Relative to the server's own --dir.
      const server = new RedisProcess(port, [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-node-timeout",
        "2000",
      ]);
      masters.push(server);
      await server.start();
    }
    await run(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...masters.map((m) => `127.0.0.1:${m.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { timeout: 30_000 },
    );
    for (const master of masters)
      await waitFor(`cluster state ok on ${master.port}`, 20_000, async () =>
        (await rawCommand(master.port, "CLUSTER INFO")).includes("cluster_state:ok"),
      );
  } catch (err) {
    await stop();
    throw err;
  }
  return { masters, rootNodes: masters.map((m) => ({ url: m.url })), stop };
}
