/**
 * One `redis-server` process on a fixed loopback port, without persistence,
 * in a temporary directory of its own: started, killed (SIGKILL, no goodbye
 * to its clients) and started again on the same port by the fault tests.
 * Also the two low-level probes every Redis helper uses: a free port and one
 * raw inline command.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { untilAsync } from "../socketio/raw-clients.js";

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

/**
 * Sends one inline command to the Redis on `port` and resolves with the raw
 * reply (simple, error, integer or bulk), or rejects.
 *
 * @example
 * const info = await rawCommand(port, "CLUSTER INFO");
 */
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

/** Whether the Redis on `port` answers PING right now. */
export function pings(port: number): Promise<boolean> {
  return rawCommand(port, "PING", 500)
    .then((reply) => reply.startsWith("+PONG"))
    .catch(() => false);
}

/** Polls an asynchronous probe until it holds; rejects after `ms`. */
export function waitFor(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  return untilAsync(probe, ms, what);
}

/**
 * One redis-server process on a fixed port, startable again after a kill.
 *
 * @example
 * const redis = new RedisProcess(await freePort());
 * await redis.start();
 * await redis.kill();
 * await redis.start(); // same port, empty data
 * after(() => redis.stop());
 */
export class RedisProcess {
  readonly port: number;
  readonly #dir: string;
  readonly #extra: string[];
  #child: ChildProcess | undefined;

  /** `extra` flags are added to every start (cluster options, for one). */
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
    await waitFor(`redis-server on ${this.port}`, 10_000, () => pings(this.port));
  }

  /** Kills the server at once (SIGKILL: no goodbye to its clients). */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
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

/**
 * Starts a single redis-server on a free port.
 *
 * @example
 * const redis = await startRedis();
 * after(() => redis.stop());
 */
export async function startRedis(extra: string[] = []): Promise<RedisProcess> {
  const server = new RedisProcess(await freePort(), extra);
  await server.start();
  return server;
}
