/**
 * The `switchboard` process's log, spawned with tsx on 127.0.0.1: JSON lines
 * by default (every line of stdout and stderr parses, the start record
 * carries the URL), readable lines with `--log-format pretty`, nothing below
 * warn with `--log-level warn`, and `SWITCHBOARD_DEBUG=engine` turning the
 * engine's debug records on in the same JSON log.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/redis-server.js";
import { until, untilAsync } from "../socketio/raw-clients.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const main = join(repo, "src", "cli", "main.ts");

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

interface Run {
  child: ChildProcess;
  /** Complete lines of stdout and stderr, in arrival order per stream. */
  lines: string[];
  exited: Promise<number | null>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ["--import", "tsx", main, "--host", "127.0.0.1", ...args], {
    cwd: repo,
    env: {
      ...process.env,
      SWITCHBOARD_PORT: "",
      PORT: "",
      REDIS_URL: "",
      SWITCHBOARD_DEBUG: "",
      DEBUG: "",
      SWITCHBOARD_LOG_LEVEL: "",
      SWITCHBOARD_LOG_FORMAT: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

/** The port of the start line, once it is there. */
async function started(r: Run): Promise<number> {
  let port = 0;
  await until(
    () => {
      const line = r.lines.find((l) => /listening on \S+ \(port \d+,/.test(l));
      if (line !== undefined) port = Number(/\(port (\d+),/.exec(line)?.[1]);
      return port > 0;
    },
    45_000,
    "the start line",
  );
  return port;
}

async function stop(r: Run): Promise<void> {
  r.child.kill("SIGTERM");
  assert.equal(await r.exited, 0, r.lines.join("\n"));
}

async function handshake(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  await res.text();
}

describe("the CLI's log", () => {
  it("is JSON lines by default, the start record carrying the URL", {
    timeout: 60_000,
  }, async () => {
    const r = run(["--port", "0"]);
    const port = await started(r);
    await handshake(port);
    await stop(r);
    assert.ok(r.lines.length >= 3, r.lines.join("\n"));
    const records = r.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) {
      assert.equal(typeof record.level, "number");
      assert.equal(typeof record.time, "number");
      assert.equal(record.pid, r.child.pid);
      assert.equal(typeof record.hostname, "string");
      assert.equal(typeof record.msg, "string");
      // Per-connection records are debug: not at the default level.
      assert.ok((record.level as number) >= 30, JSON.stringify(record));
    }
    const start = records.find((record) => String(record.msg).includes("listening on"));
    assert.ok(start);
    assert.equal(start.level, 30);
    assert.equal(start.component, "cli");
    assert.equal(start.url, `http://127.0.0.1:${port}/`);
    assert.equal(start.port, port);
    assert.ok(records.some((record) => record.msg === "SIGTERM, shutting down"));
    assert.ok(records.some((record) => record.msg === "shutdown complete"));
  });

  it("is readable lines with --log-format pretty", { timeout: 60_000 }, async () => {
    const r = run(["--port", "0", "--log-format", "pretty"]);
    const port = await started(r);
    await stop(r);
    for (const line of r.lines) {
      assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/);
    }
    const start = r.lines.find((line) => line.includes("listening on"));
    assert.match(
      start ?? "",
      new RegExp(
        `INFO  switchboard \\S+ listening on http://127\\.0\\.0\\.1:${port}/ \\(port ${port},`,
      ),
    );
    assert.ok(
      r.lines.some((line) =>
        /INFO {2}SIGTERM, shutting down component=cli signal=SIGTERM$/.test(line),
      ),
    );
  });

  it("writes nothing below warn with --log-level warn", { timeout: 60_000 }, async () => {
    // No start line at this level: the port is chosen here, the server found through /health.
    const port = await freePort();
    const r = run(["--port", String(port), "--log-level", "warn", "--drain-delay", "60000"], {});
    const base = `http://127.0.0.1:${port}`;
    await untilAsync(async () => (await fetch(`${base}/health`)).ok, 45_000, "/health");
    await handshake(port);
    r.child.kill("SIGTERM");
    // Draining (an info record, not written): /ready answers 503 while it waits.
    await untilAsync(async () => (await fetch(`${base}/ready`)).status === 503, 10_000, "drain");
    r.child.kill("SIGTERM");
    assert.equal(await r.exited, 1);
    const records = r.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map((record) => [record.level, record.msg]),
      [[40, "SIGTERM again, exiting now"]],
    );
  });

  it("SWITCHBOARD_DEBUG=engine adds the engine's debug records", { timeout: 60_000 }, async () => {
    const r = run(["--port", "0"], { SWITCHBOARD_DEBUG: "engine" });
    const port = await started(r);
    await handshake(port);
    const records = () => r.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    await until(
      () =>
        records().some(
          (record) =>
            record.level === 20 && record.component === "engine" && record.msg === "handshake",
        ),
      10_000,
      "the engine's handshake record",
    );
    await stop(r);
    // The engine's debug namespace lines are records too, named by `ns`.
    assert.ok(
      records().some((record) => record.level === 20 && record.ns === "switchboard:engine"),
      r.lines.join("\n"),
    );
  });
});
