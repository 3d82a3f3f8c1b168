/**
 * No sticky sessions, Engine.IO side: three Socket.IO nodes sharing a broker
 * and a session store, behind a round-robin proxy that sends every request
 * and every upgrade to the next node. A request for a sid another node owns
 * is forwarded to the owner (engine option `forward`), so real clients over
 * long-polling, polling → websocket upgrade, and websocket only connect once
 * and see events, acks and room broadcasts exactly once. Runs on memory
 * backends and on the shared Redis.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { FORWARDED_HEADER } from "../../src/cluster/forward.js";
import { type Broker, MemoryBrokerHub } from "../../src/cluster/index.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import { closeRedis, connectRedis } from "../../src/cluster/redis-keys.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import type { SessionStore } from "../../src/cluster/session-store.js";
import type { ConnectionErrorEvent } from "../../src/engine/server.js";
import { Server } from "../../src/index.js";
import { rawRequest } from "../engine/helpers.js";
import { describeOnRedisCluster } from "../helpers/redis-cluster.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { until } from "../socketio/raw-clients.js";
import { connectTestBroker } from "./nodes-backends.js";

const T = { timeout: 20_000 };

interface Backend {
  broker(): Broker | Promise<Broker>;
  store(): SessionStore;
  close(): Promise<void>;
}

interface Node {
  io: Server;
  port: number;
  errors: ConnectionErrorEvent[];
  broker: Broker;
}

interface Cluster {
  nodes: Node[];
  proxy: RoundRobinProxy;
  close(): Promise<void>;
}

async function startCluster(backend: Backend, count = 3): Promise<Cluster> {
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const broker = await backend.broker();
    const http = createServer();
    const io = new Server(http, {
      broker,
      sessionStore: backend.store(),
      forward: true,
      pingInterval: 2000,
      pingTimeout: 5000,
    });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const errors: ConnectionErrorEvent[] = [];
    io.engine.on("connection_error", (e: ConnectionErrorEvent) => errors.push(e));
    io.on("connection", (socket) => {
      socket.emit("welcome", i);
      socket.on("double", (n: number, ack: (v: number) => void) => ack(n * 2));
      socket.on("join", (room: string, ack: () => void) => {
        socket.join(room);
        ack();
      });
      socket.on("hello", (tag: string) => io.emit("heard", tag));
    });
    nodes.push({ io, port: (http.address() as AddressInfo).port, errors, broker });
  }
  const proxy = await startRoundRobinProxy(nodes.map((n) => n.port));
  return {
    nodes,
    proxy,
    async close() {
      await proxy.close();
      for (const n of nodes) await n.io.close();
      for (const n of nodes) await n.broker.close();
    },
  };
}

interface Peer {
  client: ClientSocket;
  events: unknown[][];
  connects: number;
  disconnects: number;
  errors: unknown[];
}

function peer(url: string, transports?: ("polling" | "websocket")[]): Peer {
  const client = ioc(url, {
    forceNew: true,
    reconnection: false,
    ...(transports ? { transports } : {}),
  });
  const p: Peer = { client, events: [], connects: 0, disconnects: 0, errors: [] };
  client.onAny((...args: unknown[]) => p.events.push(args));
  client.on("connect", () => p.connects++);
  client.on("disconnect", () => p.disconnects++);
  client.on("connect_error", (err) => p.errors.push(err));
  return p;
}

function count(p: Peer, event: string, arg?: unknown): number {
  return p.events.filter((e) => e[0] === event && (arg === undefined || e[1] === arg)).length;
}

const MODES: { name: string; transports?: ("polling" | "websocket")[] }[] = [
  { name: "polling only", transports: ["polling"] },
  { name: "polling then websocket", transports: undefined },
  { name: "websocket only", transports: ["websocket"] },
];

let unique = 0;

function suite(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`no sticky sessions, Engine.IO (${name})`, () => {
    let backend: Backend;
    before(async () => {
      backend = await makeBackend();
    });
    after(async () => {
      await backend.close();
    });

    for (const mode of MODES) {
      it(`serves ${mode.name} clients through a round-robin proxy`, T, async () => {
        const cluster = await startCluster(backend);
        const peers: Peer[] = [];
        try {
          for (let i = 0; i < 3; i++) peers.push(peer(cluster.proxy.url, mode.transports));
          await until(() => peers.every((p) => p.connects === 1), 8000, "connects");
          if (mode.transports === undefined) {
            await until(
              () => peers.every((p) => p.client.io.engine.transport.name === "websocket"),
              8000,
              "upgrades",
            );
          }
          await until(() => peers.every((p) => count(p, "welcome") === 1), 5000, "welcome");
          // Acks: a round trip through whichever node the proxy picks.
          for (const p of peers) {
            for (let n = 0; n < 5; n++) {
              assert.equal(await p.client.timeout(5000).emitWithAck("double", n), n * 2);
            }
          }
          // A room spanning the nodes, broadcast from each node in turn.
          const room = `room-${++unique}`;
          for (const p of peers) await p.client.timeout(5000).emitWithAck("join", room);
          await Promise.all(cluster.nodes.map((n) => n.io.hub.settled()));
          for (const [i, n] of cluster.nodes.entries()) n.io.to(room).emit("news", i);
          await until(
            () => peers.every((p) => cluster.nodes.every((_, i) => count(p, "news", i) >= 1)),
            5000,
            "room broadcasts",
          );
          // Client → server, then a broadcast back to all: each tag once everywhere.
          for (const [i, p] of peers.entries()) p.client.emit("hello", `tag-${i}`);
          await until(
            () => peers.every((p) => peers.every((_, i) => count(p, "heard", `tag-${i}`) >= 1)),
            5000,
            "heard",
          );
          const fence = `fence-${unique}`;
          cluster.nodes[0].io.emit("fence", fence);
          await until(() => peers.every((p) => count(p, "fence", fence) === 1), 5000, "fence");
          for (const p of peers) {
            for (const i of [0, 1, 2]) assert.equal(count(p, "news", i), 1, "news once");
            for (const i of [0, 1, 2]) assert.equal(count(p, "heard", `tag-${i}`), 1, "heard once");
            assert.equal(count(p, "welcome"), 1);
            assert.equal(p.connects, 1, "connected once");
            assert.equal(p.disconnects, 0, "never disconnected");
            assert.deepEqual(p.errors, []);
          }
          const sessions = cluster.nodes.reduce((sum, n) => sum + n.io.engine.clientsCount, 0);
          assert.equal(sessions, 3, "one session per client in the cluster");
          for (const n of cluster.nodes) {
            assert.deepEqual(
              n.errors.map((e) => e.message),
              [],
              "no connection_error (Session ID unknown) on any node",
            );
          }
          assert.ok(
            cluster.proxy.sent.every((s) => s > 0),
            `every node took requests: ${cluster.proxy.sent}`,
          );
        } finally {
          for (const p of peers) p.client.disconnect();
          await cluster.close();
        }
      });
    }

    it("refuses with 400 when the owner is gone, and never forwards twice", T, async () => {
      const cluster = await startCluster(backend, 2);
      try {
        const [a, b] = cluster.nodes;
        const store = (a.io.engine as unknown as { opts: { sessionStore: SessionStore } }).opts
          .sessionStore;
        const closed = createServer();
        closed.listen(0, "127.0.0.1");
        await once(closed, "listening");
        const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
        closed.close();
        const ghost = `ghost${++unique}`;
        await store.create(ghost, { owner: "gone-node", ttl: 10000, data: { at: dead } });
        const path = (sid: string): string => `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
        const gone = await rawRequest(b.port, path(ghost));
        assert.equal(gone.status, 400);
        assert.deepEqual(JSON.parse(gone.text), { code: 1, message: "Session ID unknown" });
        await store.delete(ghost);

        // A session on a: b forwards a plain request, but not one already forwarded.
        const open = await rawRequest(a.port, "/socket.io/?EIO=4&transport=polling");
        const sid = JSON.parse(open.text.slice(1)).sid as string;
        const forwarded = await rawRequest(b.port, path(sid), { method: "POST", body: "40" });
        assert.equal(forwarded.status, 200);
        assert.equal(forwarded.text, "ok");
        const looped = await rawRequest(b.port, path(sid), {
          method: "POST",
          body: "40",
          headers: { [FORWARDED_HEADER]: "elsewhere" },
        });
        assert.equal(looped.status, 400);
      } finally {
        await cluster.close();
      }
    });
  });
}

suite("memory", async () => {
  const hub = new MemoryBrokerHub();
  const store = new MemorySessionStore();
  return { broker: () => hub.connect(), store: () => store, close: () => store.close() };
});

const skip = await redisSkip("shared");
describe("on the shared Redis", { skip }, () => {
  suite("Redis", async () => {
    const prefix = uniquePrefix("nosticky");
    const redis = await connectRedis({ url: REDIS_URL });
    const store = new RedisSessionStore(redis, { prefix });
    return {
      broker: () => connectTestBroker({ url: REDIS_URL, prefix }),
      store: () => store,
      close: () => closeRedis(redis),
    };
  });
});

await describeOnRedisCluster((servers) => {
  suite("3-master Redis Cluster", async () => {
    const prefix = uniquePrefix("nosticky-cluster");
    const redis = await connectRedis({ rootNodes: servers().rootNodes });
    const store = new RedisSessionStore(redis, { prefix });
    return {
      broker: () => connectTestBroker({ cluster: { rootNodes: servers().nodes }, prefix }),
      store: () => store,
      close: () => closeRedis(redis),
    };
  });
});
