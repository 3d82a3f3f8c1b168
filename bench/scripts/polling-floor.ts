// Scratch: the CPU per long-polling delivery of bare node:http, next to
// Switchboard's and socket.io's, in one harness: how much of a polling
// fan-out's cost any node:http server pays (parsing the next GET, writing
// the answer, the kernel's loopback write), whatever the library.
//   node --import tsx bench/scripts/polling-floor.ts [receivers] [messages] [rate] [bayeux]
// Each server runs in a child process (its CPU measured alone) and
// broadcasts `messages` at `rate` per second itself; this process runs the
// bench's Engine.IO polling receivers (bench/load/polling-clients.ts).
// `floor` answers just enough Engine.IO for them: a handshake, POSTs
// answered `ok` (the CONNECT `40` queues its reply), a held GET answered with
// one shared body per broadcast, written with one writeHead and one end.
// With `bayeux` as fourth argument: Bayeux long-polling receivers against a
// bare floor (POSTed batches parsed, handshake, subscribe, connects held and
// answered with the delivery's JSON and the connect reply),
// switchboard-bayeux and faye.
// Each result also gives the receivers' own CPU and context switches per
// delivery and how each broadcast's deliveries spread. FLOOR_PIN=<cpu> puts
// the server on that CPU (start this harness under `taskset -c` on another);
// FLOOR_SPIN_MS=<ms> keeps the server's loop turning after each broadcast.
// Needs a build (dist/) for the switchboard servers.
import { execSync, fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Agent, createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BAYEUX_CHANNELS, BAYEUX_PATH } from "../lib/protocol.js";
import { percentile } from "../lib/stats.js";
import {
  BayeuxPollingClient,
  EioPollingClient,
  openMany,
  type PollingClient,
} from "../load/polling-clients.js";

const RECEIVERS = Number(process.argv[2] ?? 500);
const MESSAGES = Number(process.argv[3] ?? 100);
const RATE = Number(process.argv[4] ?? 10);
const BAYEUX = process.argv[5] === "bayeux";
const TARGETS: readonly Target[] =
  (process.env.FLOOR_TARGETS?.split(",") as Target[] | undefined) ??
  (BAYEUX
    ? ["bayeux-floor", "switchboard-bayeux", "faye"]
    : ["floor", "raw", "switchboard", "socketio"]);
type Target =
  | "floor"
  | "raw"
  | "switchboard"
  | "socketio"
  | "bayeux-floor"
  | "switchboard-bayeux"
  | "faye";

type ToServer = { type: "run"; messages: number; rate: number } | { type: "exit" };
type FromServer =
  | { type: "port"; port: number }
  | { type: "cpu"; ms: number; sys: number; switches: number };

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

/** The raw floor: node:net, a minimal HTTP/1.1 reader, one write per answer. */
function rawServer(): { port: Promise<number>; broadcast(data: unknown): void } {
  const sessions = new Map<string, { held: Socket | null; queue: (string | Buffer)[] }>();
  let next = 0;
  const head = (length: number): string =>
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: ${length}\r\ncache-control: no-store\r\nConnection: keep-alive\r\n\r\n`;
  let lastBody: Buffer | null = null;
  let lastWhole: Buffer = Buffer.alloc(0);
  const text = (socket: Socket, body: string | Buffer): void => {
    if (body === lastBody) {
      socket.write(lastWhole);
      return;
    }
    const b = typeof body === "string" ? Buffer.from(body) : body;
    const whole = Buffer.concat([Buffer.from(head(b.length), "latin1"), b]);
    if (typeof body !== "string") {
      lastBody = body;
      lastWhole = whole;
    }
    socket.write(whole);
  };
  const deliver = (sid: string, body: string | Buffer): void => {
    const session = sessions.get(sid);
    if (session === undefined) return;
    if (session.held === null) session.queue.push(body);
    else {
      const s = session.held;
      session.held = null;
      text(s, body);
    }
  };
  const request = (socket: Socket, method: string, url: string, body: Buffer | null): void => {
    const at = url.indexOf("&sid=");
    if (at === -1) {
      const sid = `s${next++}`;
      sessions.set(sid, { held: null, queue: [] });
      text(socket, `0{"sid":"${sid}","upgrades":[],"pingInterval":600000,"pingTimeout":20000}`);
      return;
    }
    const sid = url.slice(at + 5);
    if (method === "POST") {
      void body;
      text(socket, "ok");
      deliver(sid, `40{"sid":"${sid}"}`);
      return;
    }
    const session = sessions.get(sid);
    if (session === undefined) return;
    if (session.queue.length === 0) session.held = socket;
    else {
      const bodies = session.queue;
      session.queue = [];
      text(socket, bodies.length === 1 ? bodies[0] : bodies.map(String).join("\x1e"));
    }
  };
  const server = createNetServer((socket) => {
    let pending: Buffer | null = null;
    socket.on("data", (chunk: Buffer) => {
      let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      pending = null;
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) {
          pending = buf;
          return;
        }
        const headText = buf.toString("latin1", 0, end);
        const sp1 = headText.indexOf(" ");
        const sp2 = headText.indexOf(" ", sp1 + 1);
        const method = headText.slice(0, sp1);
        const url = headText.slice(sp1 + 1, sp2);
        const at = method === "POST" ? headText.indexOf("ength: ") : -1;
        const length = at === -1 ? 0 : Number.parseInt(headText.slice(at + 7, at + 17), 10);
        if (buf.length < end + 4 + length) {
          pending = buf;
          return;
        }
        const body = length === 0 ? null : buf.subarray(end + 4, end + 4 + length);
        buf = buf.subarray(end + 4 + length);
        request(socket, method, url, body);
        if (buf.length === 0) return;
      }
    });
    socket.setNoDelay(true);
    socket.on("error", () => {});
  });
  const port = new Promise<number>((done) =>
    server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port)),
  );
  return {
    port,
    broadcast(data) {
      const body = Buffer.from(`42${JSON.stringify(["m", data])}`);
      for (const sid of sessions.keys()) deliver(sid, body);
    },
  };
}

interface BayeuxMessage {
  channel: string;
  clientId?: string;
  id?: string;
  advice?: { timeout?: number };
  subscription?: string;
}

/** The bare Bayeux server: connects held per clientId, each delivery's JSON made once. */
function bayeuxFloorServer(): { port: Promise<number>; broadcast(data: unknown): void } {
  const sessions = new Map<
    string,
    { held: ServerResponse | null; reply: string; queue: string[] }
  >();
  let next = 0;
  const json = (res: ServerResponse, body: string): void => {
    res.writeHead(200, [
      "Cache-Control",
      "no-cache, no-store",
      "Content-Type",
      "application/json; charset=utf-8",
      "Content-Length",
      String(Buffer.byteLength(body)),
    ]);
    res.end(body);
  };
  const answer = (res: ServerResponse, deliveries: string[], reply: string): void =>
    json(res, `[${deliveries.length === 0 ? reply : `${deliveries.join(",")},${reply}`}]`);
  const advice = { reconnect: "retry", interval: 0, timeout: 30000 };
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const [message] = JSON.parse(Buffer.concat(chunks).toString()) as BayeuxMessage[];
      if (message.channel === "/meta/handshake") {
        const clientId = `c${next++}`;
        sessions.set(clientId, { held: null, reply: "", queue: [] });
        const reply = { channel: message.channel, successful: true, version: "1.0" };
        json(
          res,
          JSON.stringify([
            { ...reply, supportedConnectionTypes: ["long-polling"], clientId, advice },
          ]),
        );
        return;
      }
      const session = sessions.get(message.clientId ?? "");
      if (session === undefined) return;
      if (message.channel === "/meta/subscribe") {
        const { channel, clientId, subscription } = message;
        json(res, JSON.stringify([{ channel, clientId, successful: true, subscription }]));
        return;
      }
      const reply = JSON.stringify({
        channel: message.channel,
        clientId: message.clientId,
        successful: true,
        advice,
      });
      if (message.advice?.timeout === 0 || session.queue.length > 0) {
        const queued = session.queue;
        session.queue = [];
        answer(res, queued, reply);
        return;
      }
      session.held = res;
      session.reply = reply;
    });
  });
  const port = new Promise<number>((done) =>
    http.listen(0, "127.0.0.1", () => done((http.address() as AddressInfo).port)),
  );
  return {
    port,
    broadcast(data) {
      const delivery = JSON.stringify({ channel: BAYEUX_CHANNELS.deliveries, data });
      for (const session of sessions.values()) {
        const res = session.held;
        if (res === null) session.queue.push(delivery);
        else {
          session.held = null;
          answer(res, [delivery], session.reply);
        }
      }
    },
  };
}

async function bayeuxServer(target: Target): Promise<{
  port: Promise<number>;
  broadcast(data: unknown): void;
}> {
  const http = createServer();
  let publish: (data: unknown) => void;
  if (target === "faye") {
    const { createRequire } = await import("node:module");
    const faye = createRequire(import.meta.url)("faye") as {
      NodeAdapter: new (
        options: object,
      ) => {
        attach(http: unknown): void;
        getClient(): { publish(channel: string, data: unknown): void };
      };
    };
    const adapter = new faye.NodeAdapter({ mount: BAYEUX_PATH, timeout: 30 });
    adapter.attach(http);
    const client = adapter.getClient();
    publish = (data) => client.publish(BAYEUX_CHANNELS.deliveries, data);
  } else {
    const dist = (file: string): string =>
      pathToFileURL(resolve(import.meta.dirname, "../../dist", file)).href;
    const { BayeuxServer, bayeuxMount } = (await import(dist("bayeux/index.js"))) as {
      BayeuxServer: new (options: object) => { publish(channel: string, data: unknown): number };
      bayeuxMount(server: unknown): unknown;
    };
    const { MountRouter } = (await import(dist("mount/node.js"))) as {
      MountRouter: new () => { add(mount: unknown): { attach(server: unknown): unknown } };
    };
    const bayeux = new BayeuxServer({ path: BAYEUX_PATH, timeout: 30000 });
    new MountRouter().add(bayeuxMount(bayeux)).attach(http);
    publish = (data) => bayeux.publish(BAYEUX_CHANNELS.deliveries, data);
  }
  const port = new Promise<number>((done) =>
    http.listen(0, "127.0.0.1", () => done((http.address() as AddressInfo).port)),
  );
  return { port, broadcast: publish };
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

/**
 * `FLOOR_SPIN_MS`: after each broadcast the server's loop keeps turning
 * (setImmediate, never blocking in epoll) for that long, so the receivers'
 * next polls find it awake instead of waking it: the experiment that tells
 * how much of a latency gap is the price of an idle server's wake-ups.
 */
const SPIN_MS = Number(process.env.FLOOR_SPIN_MS ?? 0);

function spin(until: number): void {
  if (now() < until) setImmediate(spin, until);
}

async function runServer(target: Target): Promise<void> {
  const server =
    target === "floor"
      ? floorServer()
      : target === "raw"
        ? rawServer()
        : target === "bayeux-floor"
          ? bayeuxFloorServer()
          : target === "switchboard-bayeux" || target === "faye"
            ? await bayeuxServer(target)
            : await libraryServer(target);
  process.send?.({ type: "port", port: await server.port } satisfies FromServer);
  process.on("message", (command: ToServer) => {
    // An exit of its own, so that a --cpu-prof profile gets written.
    if (command.type === "exit") process.exit(0);
    const start = process.cpuUsage();
    const switches = process.resourceUsage().voluntaryContextSwitches;
    let s = 0;
    const begin = now();
    const step = (): void => {
      server.broadcast({ t: now(), s, b: BODY });
      if (SPIN_MS > 0) spin(now() + SPIN_MS);
      s++;
      if (s < command.messages) {
        setTimeout(step, Math.max(0, begin + (s * 1000) / command.rate - now()));
        return;
      }
      // The last answers and the next polls of the receivers, then the CPU.
      setTimeout(() => {
        const used = process.cpuUsage(start);
        process.send?.({
          type: "cpu",
          ms: (used.user + used.system) / 1000,
          sys: used.system / 1000,
          switches: process.resourceUsage().voluntaryContextSwitches - switches,
        } satisfies FromServer);
      }, 1000);
    };
    step();
  });
}

/**
 * How the deliveries of each broadcast spread: when its first and last
 * arrived (ms after the broadcast), the receivers' time per answer (the
 * slope from first to last, µs), and how many broadcasts hold the slowest
 * 1 % of all deliveries (few: the p99 is decided by a handful of bursts).
 */
function burstStats(latencies: Float64Array, seqs: Int32Array, count: number): string {
  const bursts = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const burst = bursts.get(seqs[i]);
    if (burst === undefined) bursts.set(seqs[i], [latencies[i]]);
    else burst.push(latencies[i]);
  }
  const first: number[] = [];
  const last: number[] = [];
  const slope: number[] = [];
  for (const burst of bursts.values()) {
    first.push(burst[0]);
    last.push(burst[burst.length - 1]);
    slope.push(((burst[burst.length - 1] - burst[0]) / Math.max(1, burst.length - 1)) * 1000);
  }
  // percentile() sorts what it is given: copies, so `latencies` keeps its pairing with `seqs`.
  const q = (values: number[], p: number): string =>
    percentile(Float64Array.from(values), values.length, p).toFixed(2);
  const p99 = percentile(latencies.slice(0, count), count, 0.99);
  const slowest = new Set<number>();
  for (let i = 0; i < count; i++) if (latencies[i] >= p99) slowest.add(seqs[i]);
  return `  bursts: first p50 ${q(first, 0.5)} ms; last p50 ${q(last, 0.5)}, p90 ${q(last, 0.9)}, max ${q(last, 1)} ms; µs per answer p50 ${q(slope, 0.5)}, p90 ${q(slope, 0.9)}; ${slowest.size} burst(s) hold the slowest 1 %`;
}

async function measure(target: Target): Promise<string> {
  const child = fork(import.meta.filename, [], {
    env: { ...process.env, POLLING_FLOOR_SERVER: target },
    execArgv: [
      "--import",
      "tsx",
      ...(process.env.FLOOR_NODE_ARGS?.split(" ") ?? []),
      ...(process.env.FLOOR_PROF
        ? ["--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${process.env.FLOOR_PROF}`]
        : []),
    ],
  });
  const message = (): Promise<FromServer> =>
    new Promise((done) => child.once("message", (m: FromServer) => done(m)));
  const ready = (await message()) as { port: number };
  // FLOOR_PIN=<cpu>: the server on that CPU (start this process with `taskset -c` on another).
  if (process.env.FLOOR_PIN) execSync(`taskset -a -p -c ${process.env.FLOOR_PIN} ${child.pid}`);
  if (process.env.FLOOR_PID_FILE) writeFileSync(process.env.FLOOR_PID_FILE, String(child.pid));
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const latencies = new Float64Array(RECEIVERS * MESSAGES);
  let count = 0;
  const seqs = new Int32Array(RECEIVERS * MESSAGES);
  const handlers = {
    event(_name: string, data: unknown): void {
      if (count < latencies.length) {
        seqs[count] = (data as { s: number }).s;
        latencies[count++] = now() - (data as { t: number }).t;
      }
    },
  };
  const clients = await openMany<PollingClient>(RECEIVERS, 50, () =>
    BAYEUX
      ? new BayeuxPollingClient(agent, ready.port, handlers)
      : new EioPollingClient(agent, ready.port, handlers),
  );
  const lStart = process.cpuUsage();
  const lSw = process.resourceUsage();
  child.send({ type: "run", messages: MESSAGES, rate: RATE } satisfies ToServer);
  const cpu = (await message()) as { ms: number; sys: number; switches: number };
  const lUsed = process.cpuUsage(lStart);
  const lSw2 = process.resourceUsage();
  const per = (value: number, digits: number): string => (value / count).toFixed(digits);
  console.log(
    `  receivers' process: user ${per(lUsed.user, 2)} µs, sys ${per(lUsed.system, 2)} µs, voluntary switches ${per(lSw2.voluntaryContextSwitches - lSw.voluntaryContextSwitches, 2)}, involuntary ${per(lSw2.involuntaryContextSwitches - lSw.involuntaryContextSwitches, 3)} per delivery`,
  );
  for (const client of clients) client.close();
  agent.destroy();
  child.send({ type: "exit" } satisfies ToServer);
  console.log(burstStats(latencies, seqs, count));
  const per100k = (cpu.ms / 1000 / count) * 100_000;
  return `${target.padEnd(12)} ${per100k.toFixed(3)} s/100k deliveries (sys ${((cpu.sys / 1000 / count) * 100_000).toFixed(3)}, ${(cpu.switches / count).toFixed(2)} switches/delivery) (${count} of ${RECEIVERS * MESSAGES}), p50 ${percentile(latencies, count, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, count, 0.99).toFixed(2)} ms`;
}

const role = process.env.POLLING_FLOOR_SERVER as Target | undefined;
if (role !== undefined) await runServer(role);
else {
  const kind = BAYEUX ? "Bayeux long-polling" : "Engine.IO polling";
  console.log(`${RECEIVERS} ${kind} receivers, ${MESSAGES} broadcasts at ${RATE}/s`);
  // Three rounds, the order rotated: on a shared machine one round says little.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < TARGETS.length; i++) {
      console.log(await measure(TARGETS[(i + round) % TARGETS.length]));
    }
  }
}
