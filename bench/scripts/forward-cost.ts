// Scratch: the CPU of one forwarded long-polling round trip against a served one.
// Two Engine.IO nodes (a RedisSessionStore on REDIS_URL under a prefix of
// the run, `forward` on), each its own process, so each one's CPU is
// measured apart; the client (this process)
// runs the polling echo of test/cluster/nosticky-latency.test.ts, first to
// the owner, then through the other node.
//   node --import tsx bench/scripts/forward-cost.ts [rounds] [sessions]
// With sessions > 1 (default 1), that many sessions run their echoes at once
// (rounds in all), so the nodes see concurrent requests as under load.
// PROF_DIR=dir writes each node's CPU profile there (owner/, other/).
import { fork } from "node:child_process";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

const ROUNDS = Number(process.argv[2] ?? 3000);
const SESSIONS = Number(process.argv[3] ?? 1);

interface NodeReport {
  port: number;
}

async function runNode(): Promise<void> {
  const { Server } = await import("../../src/engine/index.js");
  const { RedisSessionStore } = await import("../../src/cluster/redis-session-store.js");
  const { connectRedis } = await import("../../src/cluster/redis.js");
  const redis = await connectRedis({ url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
  const sessionStore = new RedisSessionStore(redis, { prefix: process.env.PREFIX ?? "fc:" });
  const http = createServer();
  const engine = new Server({
    sessionStore,
    forward: true,
    pingInterval: 60000,
    nodeId: process.env.NODE_ID,
  });
  engine.attach(http);
  engine.on("connection", (socket) => socket.on("message", (m: string) => socket.send(m)));
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  engine.onListening(http);
  process.send?.({ port: (http.address() as AddressInfo).port } satisfies NodeReport);
  process.on("message", (m: string) => {
    if (m === "cpu") process.send?.({ cpu: process.cpuUsage() });
    if (m === "exit") process.exit(0);
  });
}

function send(agent: Agent, port: number, path: string, method: string, body?: string) {
  return new Promise<string>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const prefix = `fc:${Date.now()}:`;
  const start = (id: string) => {
    const child = fork(import.meta.filename, ["node"], {
      env: { ...process.env, NODE_ID: id, PREFIX: prefix },
      execArgv: [
        "--import",
        "tsx",
        ...(process.env.PROF_DIR
          ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROF_DIR}/${id}`]
          : []),
      ],
    });
    return new Promise<{ child: typeof child; port: number }>((done) =>
      child.once("message", (m) => done({ child, port: (m as NodeReport).port })),
    );
  };
  const owner = await start("owner");
  const other = await start("other");
  const cpu = async (c: typeof owner.child): Promise<number> => {
    c.send("cpu");
    const m = (await new Promise((done) => c.once("message", done))) as {
      cpu: { user: number; system: number };
    };
    return (m.cpu.user + m.cpu.system) / 1000;
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 2 * SESSIONS });
  const paths: string[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const hs = await send(agent, owner.port, "/engine.io/?EIO=4&transport=polling", "GET");
    const sid = JSON.parse(hs.slice(1)).sid as string;
    paths.push(`/engine.io/?EIO=4&transport=polling&sid=${sid}`);
  }
  const echoes = async (port: number, path: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const poll = send(agent, port, path, "GET");
      await send(agent, port, path, "POST", `4m${i}`);
      await poll;
    }
  };
  const rounds = (port: number, n: number) =>
    Promise.all(paths.map((path) => echoes(port, path, Math.ceil(n / SESSIONS))));
  for (const [name, port] of [
    ["direct", owner.port],
    ["forwarded", other.port],
    ["direct", owner.port],
    ["forwarded", other.port],
  ] as const) {
    await rounds(port, 300 * SESSIONS);
    const o0 = await cpu(owner.child);
    const f0 = await cpu(other.child);
    const t0 = performance.now();
    await rounds(port, ROUNDS);
    const ms = performance.now() - t0;
    const o = (await cpu(owner.child)) - o0;
    const f = (await cpu(other.child)) - f0;
    const per = (x: number) => ((1000 * x) / ROUNDS).toFixed(1);
    console.log(
      `${name.padEnd(9)} ${ROUNDS} rounds ${ms.toFixed(0)} ms: owner ${per(o)} µs/round, other ${per(f)} µs/round, sum ${per(o + f)} µs/round`,
    );
  }
  agent.destroy();
  owner.child.send("exit");
  other.child.send("exit");
}

if (process.argv[2] === "node") void runNode();
else void main();
