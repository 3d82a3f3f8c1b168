// Scratch: the CPU per long-polling delivery of bare node:http, next to
// Switchboard's and socket.io's, in one harness: how much of a polling
// fan-out's cost any node:http server pays (parsing the next GET, writing
// the answer, the kernel's loopback write), whatever the library.
//   node --import tsx bench/scripts/polling-floor.ts [receivers] [messages] [rate]
// Each server runs in a child process (its CPU measured alone) and
// broadcasts `messages` at `rate` per second itself; this process runs the
// bench's Engine.IO polling receivers (bench/load/polling-clients.ts).
// `floor` answers just enough Engine.IO for them: a handshake, POSTs
// answered `ok` (the CONNECT `40` queues its reply), a held GET answered with
// one shared body per broadcast, written with one writeHead and one end.
// Needs a build (dist/) for the switchboard server.
import { fork } from "node:child_process";
import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { percentile } from "../lib/stats.js";
import { EioPollingClient, openMany } from "../load/polling-clients.js";

const RECEIVERS = Number(process.argv[2] ?? 500);
const MESSAGES = Number(process.argv[3] ?? 100);
const RATE = Number(process.argv[4] ?? 10);
const TARGETS = ["floor", "switchboard", "socketio"] as const;
type Target = (typeof TARGETS)[number];

type ToServer = { type: "run"; messages: number; rate: number };
type FromServer = { type: "port"; port: number } | { type: "cpu"; ms: number };

const now = (): number => performance.timeOrigin + performance.now();
const BODY = "x".repeat(64);

/** The bare server: per sid a held GET or the bodies waiting for the next; one shared body per broadcast. */
function floorServer(): { port: Promise<number>; broadcast(data: unknown): void } {
  const sessions = new Map<string, { held: ServerResponse | null; queue: (string | Buffer)[] }>();
  let next = 0;
  const text = (res: ServerResponse, body: string | Buffer): void => {
    res.writeHead(200, [
      "Content-Type",
      "text/plain; charset=UTF-8",
      "Content-Length",
      String(Buffer.byteLength(body)),
      "cache-control",
      "no-store",
    ]);
    res.end(body);
  };
  const deliver = (sid: string, body: string | Buffer): void => {
    const session = sessions.get(sid);
    if (session === undefined) return;
    if (session.held === null) session.queue.push(body);
    else {
      const res = session.held;
      session.held = null;
      text(res, body);
    }
  };
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "";
    const at = url.indexOf("&sid=");
    if (at === -1) {
      const sid = `s${next++}`;
      sessions.set(sid, { held: null, queue: [] });
      text(res, `0{"sid":"${sid}","upgrades":[],"pingInterval":600000,"pingTimeout":20000}`);
      return;
    }
    const sid = url.slice(at + 5);
    if (req.method === "POST") {
      req.resume();
      req.on("end", () => {
        text(res, "ok");
        deliver(sid, `40{"sid":"${sid}"}`);
      });
      return;
    }
    const session = sessions.get(sid);
    if (session === undefined) return;
    if (session.queue.length === 0) session.held = res;
    else {
      const bodies = session.queue;
      session.queue = [];
      text(res, bodies.length === 1 ? bodies[0] : bodies.map(String).join("\x1e"));
    }
  });
  const port = new Promise<number>((done) =>
    http.listen(0, "127.0.0.1", () => done((http.address() as AddressInfo).port)),
  );
  return {
    port,
    broadcast(data) {
      const body = Buffer.from(`42${JSON.stringify(["m", data])}`);
      for (const sid of sessions.keys()) deliver(sid, body);
    },
  };
}

interface IoLike {
  on(event: "connection", listener: (socket: { join(room: string): void }) => void): void;
  to(room: string): { emit(event: string, data: unknown): void };
}

async function libraryServer(target: Target): Promise<{
  port: Promise<number>;
  broadcast(data: unknown): void;
}> {
  const entry =
    target === "switchboard"
      ? pathToFileURL(resolve(import.meta.dirname, "../../dist/index.js")).href
      : "socket.io";
  const { Server } = (await import(entry)) as {
    Server: new (http: unknown, options: object) => IoLike;
  };
  const http = createServer();
  const io = new Server(http, { serveClient: false, pingInterval: 600000 });
  io.on("connection", (socket) => socket.join("r"));
  const port = new Promise<number>((done) =>
    http.listen(0, "127.0.0.1", () => done((http.address() as AddressInfo).port)),
  );
  return { port, broadcast: (data) => io.to("r").emit("m", data) };
}

async function runServer(target: Target): Promise<void> {
  const server = target === "floor" ? floorServer() : await libraryServer(target);
  process.send?.({ type: "port", port: await server.port } satisfies FromServer);
  process.on("message", (command: ToServer) => {
    const start = process.cpuUsage();
    let s = 0;
    const begin = now();
    const step = (): void => {
      server.broadcast({ t: now(), s, b: BODY });
      s++;
      if (s < command.messages) {
        setTimeout(step, Math.max(0, begin + (s * 1000) / command.rate - now()));
        return;
      }
      // The last answers and the next polls of the receivers, then the CPU.
      setTimeout(() => {
        const used = process.cpuUsage(start);
        process.send?.({ type: "cpu", ms: (used.user + used.system) / 1000 } satisfies FromServer);
      }, 1000);
    };
    step();
  });
}

async function measure(target: Target): Promise<string> {
  const child = fork(import.meta.filename, [], {
    env: { ...process.env, POLLING_FLOOR_SERVER: target },
    execArgv: ["--import", "tsx"],
  });
  const message = (): Promise<FromServer> =>
    new Promise((done) => child.once("message", (m: FromServer) => done(m)));
  const ready = (await message()) as { port: number };
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const latencies = new Float64Array(RECEIVERS * MESSAGES);
  let count = 0;
  const handlers = {
    event(_name: string, data: unknown): void {
      if (count < latencies.length) latencies[count++] = now() - (data as { t: number }).t;
    },
  };
  const clients = await openMany(
    RECEIVERS,
    50,
    () => new EioPollingClient(agent, ready.port, handlers),
  );
  child.send({ type: "run", messages: MESSAGES, rate: RATE } satisfies ToServer);
  const cpu = (await message()) as { ms: number };
  for (const client of clients) client.close();
  agent.destroy();
  child.kill();
  const per100k = (cpu.ms / 1000 / count) * 100_000;
  return `${target.padEnd(12)} ${per100k.toFixed(3)} s/100k deliveries (${count} of ${RECEIVERS * MESSAGES}), p50 ${percentile(latencies, count, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, count, 0.99).toFixed(2)} ms`;
}

const role = process.env.POLLING_FLOOR_SERVER as Target | undefined;
if (role !== undefined) await runServer(role);
else {
  console.log(`${RECEIVERS} Engine.IO polling receivers, ${MESSAGES} broadcasts at ${RATE}/s`);
  // Three rounds, the order rotated: on a shared machine one round says little.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < TARGETS.length; i++) {
      console.log(await measure(TARGETS[(i + round) % TARGETS.length]));
    }
  }
}
