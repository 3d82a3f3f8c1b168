/**
 * Bayeux fan-out: N websocket subscribers speaking Bayeux over raw `ws`, one
 * publisher, against three servers each in its own process:
 *
 * - `ws`: a bare `ws` server that parses each published message, serialises
 *   the broadcast once and `send`s the same bytes to every socket (the floor);
 * - `switchboard`: our BayeuxServer on the MountRouter;
 * - `faye`: faye 1.4's NodeAdapter.
 *
 * Phases: idle memory (per handshaken, subscribed client), steady (20 msg/s),
 * burst (B messages at once). Reported: server CPU per 100k deliveries,
 * deliveries/s, and idle bytes per client (heap + external after a GC).
 *
 * Run: node --import tsx bench/scripts/bayeux-fanout.ts [--clients 1000]
 *      [--rate 20] [--seconds 5] [--burst 200] [--targets ws,switchboard,faye]
 */
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocket, WebSocketServer } from "ws";

const SELF = fileURLToPath(import.meta.url);
const CHANNEL = "/fan";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

function argList(name: string, fallback: string[]): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1].split(",");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- servers --

async function runServer(kind: string): Promise<void> {
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  if (kind === "ws") {
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    wss.on("connection", (ws) => {
      ws.on("message", (data) => {
        const message = JSON.parse(data.toString());
        const bytes = Buffer.from(JSON.stringify([{ channel: CHANNEL, data: message.data }]));
        for (const client of wss.clients) if (client !== ws) client.send(bytes);
      });
    });
  } else if (kind === "switchboard") {
    const { BayeuxServer, bayeuxMount } = await import("../../src/bayeux/index.js");
    const { MountRouter } = await import("../../src/mount/router.js");
    const bayeux = new BayeuxServer({ timeout: 30000 });
    new MountRouter().add(bayeuxMount(bayeux)).attach(http);
  } else if (kind === "faye") {
    const { createRequire } = await import("node:module");
    const faye = createRequire(import.meta.url)("faye");
    const adapter = new faye.NodeAdapter({ mount: "/bayeux", timeout: 30 });
    adapter.attach(http);
  } else {
    throw new Error(`unknown server ${kind}`);
  }
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const send = process.send!.bind(process);
  send({ port: (http.address() as AddressInfo).port });
  process.on("message", (msg: { cmd: string }) => {
    if (msg.cmd === "cpu") send({ cpu: process.cpuUsage() });
    else if (msg.cmd === "mem") {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const m = process.memoryUsage();
      send({ mem: { heap: m.heapUsed, external: m.external, rss: m.rss } });
    } else if (msg.cmd === "exit") process.exit(0);
  });
}

// ---------------------------------------------------------------- drivers --

interface DriverInit {
  url: string;
  bayeux: boolean;
  count: number;
}

/** A driver process holding a share of the subscribers; counts deliveries. */
async function runDriver(init: DriverInit): Promise<void> {
  const send = process.send!.bind(process);
  let received = 0;
  let failed = 0;
  const sockets: WebSocket[] = [];
  const countIn = (text: string) => {
    let at = text.indexOf(`"channel":"${CHANNEL}"`);
    while (at !== -1) {
      received++;
      at = text.indexOf(`"channel":"${CHANNEL}"`, at + 10);
    }
  };
  const open = async () => {
    const ws = new WebSocket(init.url, { perMessageDeflate: false });
    sockets.push(ws);
    await once(ws, "open");
    if (!init.bayeux) {
      ws.on("message", (data) => countIn(data.toString()));
      return;
    }
    let clientId = "";
    let ready: () => void = () => {};
    const subscribed = new Promise<void>((r) => {
      ready = r;
    });
    ws.on("message", (data) => {
      const text = data.toString();
      if (!text.includes('"/meta/')) {
        countIn(text);
        return;
      }
      for (const m of JSON.parse(text) as Record<string, unknown>[]) {
        if (m.channel === "/meta/handshake") {
          clientId = m.clientId as string;
          ws.send(
            JSON.stringify([
              { channel: "/meta/connect", clientId, connectionType: "websocket" },
              { channel: "/meta/subscribe", clientId, subscription: CHANNEL },
            ]),
          );
        } else if (m.channel === "/meta/subscribe") {
          ready();
        } else if (m.channel === "/meta/connect" && ws.readyState === 1) {
          // A client keeps one connect outstanding, as Faye and CometD do.
          ws.send(
            JSON.stringify([{ channel: "/meta/connect", clientId, connectionType: "websocket" }]),
          );
        } else if (m.channel === CHANNEL) {
          received++;
        }
      }
    });
    ws.send(
      JSON.stringify([
        {
          channel: "/meta/handshake",
          version: "1.0",
          supportedConnectionTypes: ["websocket", "long-polling"],
        },
      ]),
    );
    // A server that never answers must not stall the run: give up on this
    // client after 20 s (reported as `failed`).
    const ok = await Promise.race([subscribed.then(() => true), sleep(20000).then(() => false)]);
    if (!ok) failed++;
  };
  for (let i = 0; i < init.count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, init.count - i) }, open));
  }
  send({ ready: true, failed });
  process.on("message", (msg: { cmd: string }) => {
    if (msg.cmd === "count") send({ received });
    else if (msg.cmd === "close") {
      for (const ws of sockets) ws.terminate();
      send({ closed: true });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

// ---------------------------------------------------------------- harness --

function ask<T>(child: ChildProcess, cmd: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (msg: Record<string, unknown>) => {
      if (key in msg) {
        child.off("message", on);
        resolve(msg[key] as T);
      }
    };
    child.on("message", on);
    child.send({ cmd });
  });
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

interface Result {
  target: string;
  idleBytesPerClient: number;
  idleRssPerClient: number;
  steadyCpuPer100k: number;
  steadyDeliveriesPerSec: number;
  burstCpuPer100k: number;
  burstDeliveriesPerSec: number;
  lost: number;
}

async function measure(target: string): Promise<Result> {
  const clients = arg("clients", 1000);
  const rate = arg("rate", 20);
  const seconds = arg("seconds", 5);
  const burst = arg("burst", 200);
  const threads = arg("drivers", 2);
  const child = fork(SELF, ["--server", target], {
    execArgv: [
      "--import",
      "tsx",
      "--expose-gc",
      // BAYEUX_PROF=<dir> writes a CPU profile of each server process there.
      ...(process.env.BAYEUX_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BAYEUX_PROF}`]
        : []),
    ],
  });
  const { port } = (await once(child, "message"))[0] as { port: number };
  const url = `ws://127.0.0.1:${port}/bayeux`;
  const bayeux = target !== "ws";
  await sleep(200);
  const before = await ask<{ heap: number; external: number; rss: number }>(child, "mem", "mem");

  const workers: ChildProcess[] = [];
  for (let t = 0; t < threads; t++) {
    const count = Math.floor(clients / threads) + (t < clients % threads ? 1 : 0);
    const init: DriverInit = { url, bayeux, count };
    workers.push(fork(SELF, ["--driver", JSON.stringify(init)], { execArgv: ["--import", "tsx"] }));
  }
  await Promise.all(workers.map((w) => once(w, "message")));
  await sleep(500);
  const idle = await ask<{ heap: number; external: number; rss: number }>(child, "mem", "mem");

  // The publisher: a Bayeux client that handshakes but does not subscribe.
  const pub = new WebSocket(url, { perMessageDeflate: false });
  await once(pub, "open");
  let clientId = "";
  if (bayeux) {
    pub.send(
      JSON.stringify([
        { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket"] },
      ]),
    );
    const [data] = (await once(pub, "message")) as [Buffer];
    clientId = (JSON.parse(data.toString()) as { clientId: string }[])[0].clientId;
  }
  let seq = 0;
  const body = "x".repeat(64);
  const publish = () => {
    seq++;
    pub.send(
      JSON.stringify([{ channel: CHANNEL, clientId, data: { n: seq, body }, id: String(seq) }]),
    );
  };
  const total = async () => {
    const counts = await Promise.all(workers.map((w) => ask<number>(w, "count", "received")));
    return counts.reduce((a, b) => a + b, 0);
  };
  const waitFor = async (expected: number, limitMs: number) => {
    const deadline = Date.now() + limitMs;
    let got = await total();
    while (got < expected && Date.now() < deadline) {
      await sleep(20);
      got = await total();
    }
    return got;
  };

  // Steady: `rate` messages a second for `seconds`.
  const steadyMessages = rate * seconds;
  let cpu0 = await ask<NodeJS.CpuUsage>(child, "cpu", "cpu");
  let t0 = performance.now();
  for (let i = 0; i < steadyMessages; i++) {
    publish();
    await sleep(1000 / rate);
  }
  let got = await waitFor(steadyMessages * clients, 10000);
  let cpu1 = await ask<NodeJS.CpuUsage>(child, "cpu", "cpu");
  const steadyMs = performance.now() - t0;
  const steadyCpu = cpuMs(cpu1) - cpuMs(cpu0);
  const steadyDelivered = got;
  let lost = steadyMessages * clients - got;

  // Burst: `burst` messages at once.
  await sleep(300);
  const base = await total();
  cpu0 = await ask<NodeJS.CpuUsage>(child, "cpu", "cpu");
  t0 = performance.now();
  for (let i = 0; i < burst; i++) publish();
  got = (await waitFor(base + burst * clients, 60000)) - base;
  const burstMs = performance.now() - t0;
  cpu1 = await ask<NodeJS.CpuUsage>(child, "cpu", "cpu");
  const burstCpu = cpuMs(cpu1) - cpuMs(cpu0);
  lost += burst * clients - got;

  pub.terminate();
  await Promise.all(workers.map((w) => ask(w, "close", "closed")));
  child.send({ cmd: "exit" });
  await once(child, "exit");

  return {
    target,
    idleBytesPerClient: (idle.heap + idle.external - before.heap - before.external) / clients,
    idleRssPerClient: (idle.rss - before.rss) / clients,
    steadyCpuPer100k: (steadyCpu / steadyDelivered) * 100000,
    steadyDeliveriesPerSec: steadyDelivered / (steadyMs / 1000),
    burstCpuPer100k: (burstCpu / got) * 100000,
    burstDeliveriesPerSec: got / (burstMs / 1000),
    lost,
  };
}

async function main(): Promise<void> {
  const targets = argList("targets", ["ws", "switchboard", "faye"]);
  const results: Result[] = [];
  for (const target of targets) {
    const result = await measure(target);
    results.push(result);
    console.error(`${target} done`);
  }
  const kb = (b: number) => (b / 1024).toFixed(1);
  console.log(
    "| target | idle heap+ext KB/client | idle RSS KB/client | steady CPU ms/100k | steady deliveries/s | burst CPU ms/100k | burst deliveries/s | lost |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.target} | ${kb(r.idleBytesPerClient)} | ${kb(r.idleRssPerClient)} | ${r.steadyCpuPer100k.toFixed(0)} | ${r.steadyDeliveriesPerSec.toFixed(0)} | ${r.burstCpuPer100k.toFixed(0)} | ${r.burstDeliveriesPerSec.toFixed(0)} | ${r.lost} |`,
    );
  }
}

if (process.argv.includes("--driver")) {
  await runDriver(JSON.parse(process.argv[process.argv.indexOf("--driver") + 1]) as DriverInit);
} else if (process.argv.includes("--server")) {
  await runServer(process.argv[process.argv.indexOf("--server") + 1]);
} else {
  await main();
}
