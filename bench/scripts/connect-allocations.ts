/**
 * What a server allocates to accept connections, garbage included: the
 * allocation volume of a connection storm decides how much of V8's young
 * generation gets touched, which shows in the idle scenario's RSS.
 *
 *   node --import tsx bench/scripts/connect-allocations.ts [--target switchboard|socketio|ws]
 *        [--clients 2000] [--top 40]
 *
 * The server runs in a child process under V8's sampling heap profiler with
 * collected objects kept in the samples; the parent opens `--clients`
 * websocket connections (Engine.IO handshake and Socket.IO CONNECT for the
 * Socket.IO targets) and the child prints bytes per connection by allocating
 * function. The `switchboard` target loads `dist/index.js` (`npm run build`).
 */
import { fork } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { Session } from "node:inspector/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";
import { connectMany } from "../load/clients.js";

type Target = "switchboard" | "socketio" | "ws";

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "switchboard" },
    clients: { type: "string", default: "2000" },
    top: { type: "string", default: "40" },
    child: { type: "boolean", default: false },
  },
});
const target = values.target as Target;
const clients = Number(values.clients);

async function startServer(): Promise<number> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  if (target === "ws") {
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    wss.on("connection", () => {});
  } else {
    const entry =
      target === "socketio"
        ? "socket.io"
        : pathToFileURL(resolve(import.meta.dirname, "../../dist/index.js")).href;
    const { Server } = (await import(entry)) as {
      Server: new (srv: unknown, opts: unknown) => { on(ev: string, fn: () => void): void };
    };
    new Server(http, { serveClient: false }).on("connection", () => {});
  }
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  const address = http.address();
  return typeof address === "object" && address ? address.port : 0;
}

function summarize(root: ProfileNode, count: number, top: number): void {
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode): void => {
    const frame = node.callFrame;
    const where = frame.url.split("/").slice(-2).join("/");
    const key = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk(root);
  const stackOf = process.env.STACK_OF;
  if (stackOf) {
    const trail: string[] = [];
    const find = (node: ProfileNode): void => {
      trail.push(node.callFrame.functionName || "(anonymous)");
      if (node.callFrame.functionName === stackOf && node.selfSize > 0) {
        console.log(`${(node.selfSize / count).toFixed(0)} B  ${trail.slice(-14).join(" < ")}`);
      }
      for (const child of node.children) find(child);
      trail.pop();
    };
    find(root);
  }
  console.log(`${target}: ${(total / count / 1024).toFixed(2)} KB allocated per connection`);
  for (const [key, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(bytes / count).toFixed(0).padStart(7)} B  ${key}`);
  }
}

async function child(): Promise<void> {
  const port = await startServer();
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  process.on("message", async () => {
    const { profile } = (await session.post("HeapProfiler.stopSampling")) as {
      profile: { head: ProfileNode };
    };
    summarize(profile.head, clients, Number(values.top));
    process.exit(0);
  });
  process.send?.({ port });
}

async function parent(): Promise<void> {
  const server = fork(import.meta.filename, [...process.argv.slice(2), "--child"], {
    execArgv: ["--import", "tsx"],
  });
  const [{ port }] = (await once(server, "message")) as [{ port: number }];
  const sockets = await connectMany(target === "ws" ? "ws" : "sio", port, clients, 100, {});
  server.send("stop");
  await once(server, "exit");
  for (const socket of sockets) socket.close();
}

await (values.child ? child() : parent());
