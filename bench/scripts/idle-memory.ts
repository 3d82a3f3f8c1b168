/**
 * Idle memory per websocket connection, measured in a separate server process.
 *
 *   node --import tsx bench/scripts/idle-memory.ts [--target switchboard|socketio|ws]
 *        [--clients 5000] [--rounds 3] [--heap]
 *
 * The server runs in a child process started with --expose-gc. The parent opens
 * `--clients` websocket connections; for the Socket.IO targets each does the
 * Engine.IO handshake over websocket (`?EIO=4&transport=websocket`, waits for
 * the `0` open packet) and joins the main namespace (`40`, waits for `40{...}`).
 * The child's RSS and heap are taken after forced GCs before (baseline, after a
 * warm-up round) and after (loaded); the result is (loaded - baseline) / clients,
 * over `--rounds` fresh server processes (the median is printed last).
 *
 * `--heap` also writes heap snapshots at both points and prints the node types
 * whose retained count and self size grew the most: what an idle connection keeps.
 *
 * The `switchboard` target loads `src/index.ts` through tsx (set
 * SWITCHBOARD_ENTRY=dist/index.js to measure a build). Raise `ulimit -n` above
 * twice the client count first (client and server ends share one machine).
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeHeapSnapshot } from "node:v8";
import WebSocket, { WebSocketServer } from "ws";

type Target = "switchboard" | "socketio" | "ws";

interface Sample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  snapshot?: string;
}

type ToChild = { cmd: "sample"; snapshot: boolean } | { cmd: "exit" };
type FromChild = { port: number } | Sample;

// ---- server side (child process) --------------------------------------------

async function runServer(target: Target): Promise<void> {
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  let connections = 0;
  if (target === "ws") {
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    wss.on("connection", (ws) => {
      connections++;
      ws.on("message", (data) => ws.send(data));
    });
  } else {
    const entry =
      target === "socketio"
        ? "socket.io"
        : pathToFileURL(
            resolve(import.meta.dirname, "../..", process.env.SWITCHBOARD_ENTRY ?? "src/index.ts"),
          ).href;
    const module = (await import(entry)) as {
      Server: new (
        srv: unknown,
        opts: unknown,
      ) => { on(ev: string, fn: (socket: { on(ev: string, fn: () => void): void }) => void): void };
    };
    const io = new module.Server(http, { transports: ["websocket"], serveClient: false });
    io.on("connection", (socket) => {
      connections++;
      socket.on("ping", () => {});
    });
  }
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  const address = http.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.on("message", (msg: ToChild) => {
    if (msg.cmd === "exit") process.exit(0);
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("the server child needs --expose-gc");
    for (let i = 0; i < 6; i++) gc();
    // Let finalizers and freed pages settle before reading RSS.
    setTimeout(() => {
      gc();
      const mem = process.memoryUsage();
      const sample: Sample = {
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
      };
      if (msg.snapshot)
        sample.snapshot = writeHeapSnapshot(
          join(tmpdir(), `idle-${process.pid}-${Date.now()}.heapsnapshot`),
        );
      void connections;
      process.send?.(sample);
    }, 300);
  });
  process.send?.({ port });
}

// ---- client side (parent process) -------------------------------------------

function connectOne(target: Target, port: number): Promise<WebSocket> {
  const url =
    target === "ws"
      ? `ws://127.0.0.1:${port}/`
      : `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
  return new Promise((done, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on("error", fail);
    if (target === "ws") {
      ws.once("open", () => done(ws));
      return;
    }
    ws.on("message", function onMessage(data: Buffer) {
      const text = data.toString();
      if (text.startsWith("0{")) ws.send("40");
      else if (text.startsWith("40")) {
        ws.off("message", onMessage);
        // Keep answering pings so the session stays idle but alive.
        ws.on("message", (d: Buffer) => {
          if (d.length === 1 && d[0] === 0x32) ws.send("3");
        });
        done(ws);
      }
    });
  });
}

async function connectMany(target: Target, port: number, count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  const concurrency = 100;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        sockets.push(await connectOne(target, port));
      }
    }),
  );
  return sockets;
}

async function sample(child: ChildProcess, snapshot: boolean): Promise<Sample> {
  child.send({ cmd: "sample", snapshot } satisfies ToChild);
  const [msg] = (await once(child, "message")) as [Sample];
  return msg;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Node name → [count, self size] of a heap snapshot (V8's JSON format). */
function summarize(file: string): Map<string, [number, number]> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, [number, number]>();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name =
      type === "object" || type === "closure" || type === "native"
        ? snap.strings[nodes[i + nameAt]]
        : "";
    const key = `${type}:${name}`;
    const entry = out.get(key);
    if (entry) {
      entry[0]++;
      entry[1] += nodes[i + sizeAt];
    } else out.set(key, [1, nodes[i + sizeAt]]);
  }
  if (!process.env.KEEP_SNAPSHOTS) rmSync(file);
  else console.log(`kept ${file}`);
  return out;
}

function printHeapDiff(before: string, after: string, clients: number): void {
  const a = summarize(before);
  const b = summarize(after);
  const rows: [string, number, number][] = [];
  for (const [key, [count, size]] of b) {
    const [c0, s0] = a.get(key) ?? [0, 0];
    rows.push([key, (count - c0) / clients, (size - s0) / clients]);
  }
  rows.sort((x, y) => y[2] - x[2]);
  console.log("\nheap growth per connection (count, bytes), top 30:");
  for (const [key, count, size] of rows.slice(0, 30)) {
    console.log(
      `  ${count.toFixed(2).padStart(6)}  ${size.toFixed(0).padStart(6)} B  ${key.slice(0, 80)}`,
    );
  }
}

async function runParent(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: "string", default: "switchboard" },
      clients: { type: "string", default: "5000" },
      heap: { type: "boolean", default: false },
      rounds: { type: "string", default: "3" },
    },
  });
  const target = values.target as Target;
  if (!["switchboard", "socketio", "ws"].includes(target))
    throw new Error(`unknown target ${target}`);
  const clients = Number(values.clients);
  const rounds = Math.max(1, Number(values.rounds));
  // A fresh server process per round: a process that already held the
  // connections once keeps those pages and would under-report the next round.
  const results: Record<"rss" | "heapUsed" | "external", number>[] = [];
  for (let round = 0; round < rounds; round++) {
    const child = fork(import.meta.filename, ["--server", target], {
      execArgv: ["--expose-gc", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [ready] = (await once(child, "message")) as [FromChild];
    const port = (ready as { port: number }).port;

    // Warm-up: one-time code paths, caches and pools are not per-connection cost.
    const warm = await connectMany(target, port, 200);
    for (const ws of warm) ws.close();
    await sleep(500);

    const base = await sample(child, values.heap);
    const start = performance.now();
    const sockets = await connectMany(target, port, clients);
    const connectMs = performance.now() - start;
    await sleep(1000);
    const loaded = await sample(child, values.heap);
    const per = (k: "rss" | "heapUsed" | "external") => (loaded[k] - base[k]) / clients / 1024;
    results.push({ rss: per("rss"), heapUsed: per("heapUsed"), external: per("external") });
    console.log(
      `round ${round + 1}: ${clients} connections in ${connectMs.toFixed(0)} ms, ` +
        `rss ${per("rss").toFixed(2)} KB/conn, heapUsed ${per("heapUsed").toFixed(2)} KB/conn, ` +
        `external ${per("external").toFixed(2)} KB/conn (baseline rss ${(base.rss / 2 ** 20).toFixed(1)} MB)`,
    );
    if (base.snapshot && loaded.snapshot) printHeapDiff(base.snapshot, loaded.snapshot, clients);
    for (const ws of sockets) ws.terminate();
    child.send({ cmd: "exit" } satisfies ToChild);
    await once(child, "exit");
  }
  const median = (k: "rss" | "heapUsed" | "external") => {
    const sorted = results.map((r) => r[k]).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  console.log(
    `target ${target}: median of ${rounds} rounds, rss ${median("rss").toFixed(2)} KB/conn, ` +
      `heapUsed ${median("heapUsed").toFixed(2)} KB/conn`,
  );
}

const serverAt = process.argv.indexOf("--server");
if (serverAt !== -1) await runServer(process.argv[serverAt + 1] as Target);
else await runParent();
