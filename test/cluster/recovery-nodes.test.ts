/**
 * Socket.IO connection state recovery across nodes: two Servers sharing a
 * broker, a message log and a session store, a real socket.io-client behind
 * a proxy that sends each connection where the test says. A client whose
 * node went away (cleanly, or without persisting anything, as a killed node)
 * resumes on the other node with its id, rooms and data, and gets every
 * broadcast it missed exactly once, in the one order every client sees.
 * Runs on memory, a single Redis and a 3-master Redis Cluster.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import {
  type Broker,
  MemoryBrokerHub,
  MemoryMessageLog,
  MemorySessionStore,
} from "../../src/cluster/index.js";
import type { MessageLog } from "../../src/cluster/message-log.js";
import { closeRedis, connectRedis, type RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import type { SessionStore } from "../../src/cluster/session-store.js";
import type { Server, Socket } from "../../src/index.js";
import type { ClusterSessionAdapter } from "../../src/socketio/cluster-recovery.js";
import { describeOnRedisCluster } from "../helpers/redis-cluster.js";
import { eventually, REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { type Harness, startServer, waitFor } from "../socketio/helpers.js";
import { until } from "../socketio/raw-clients.js";
import { connectTestBroker } from "./nodes-backends.js";

const T = { timeout: 20_000 };
/** Clients of the reconnect storm. */
const STORM = 40;

/** What one node is made of. */
interface NodeParts {
  broker: Broker;
  messageLog: MessageLog;
  sessionStore: SessionStore;
}

/**
 * The node's view of a shared session store, which `kill()` silences: a
 * killed process writes nothing more (no disconnect state, no deletes).
 */
function crashable(store: SessionStore): SessionStore & { kill(): void } {
  let dead = false;
  const write =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>, idle: R) =>
    (...args: A): Promise<R> =>
      dead ? Promise.resolve(idle) : fn(...args);
  return {
    create: write((id, options) => store.create(id, options), false),
    get: (id) => store.get(id),
    owner: (id) => store.owner(id),
    touch: write((id, ttl) => store.touch(id, ttl), false),
    claim: write((id, options) => store.claim(id, options), false),
    update: write((id, patch) => store.update(id, patch), false),
    delete: write((id, options) => store.delete(id, options), false),
    close: () => store.close(),
    kill: () => {
      dead = true;
    },
  };
}

interface Backend {
  node(): Promise<NodeParts>;
  close(): Promise<void>;
}

type BackendFactory = () => Promise<Backend>;

function memoryBackend(): Promise<Backend> {
  const hub = new MemoryBrokerHub();
  const messageLog = new MemoryMessageLog();
  const sessionStore = new MemorySessionStore();
  return Promise.resolve({
    node: async () => ({ broker: hub.connect(), messageLog, sessionStore }),
    close: async () => {},
  });
}

async function redisBackend(target: { url: string } | { rootNodes: string[] }): Promise<Backend> {
  const prefix = uniquePrefix("sio-recover");
  const connections: RedisConnection[] = [];
  const logs: MessageLog[] = [];
  return {
    async node() {
      // Each node its own connection, as separate processes would have.
      const redis = await connectRedis(target);
      connections.push(redis);
      const messageLog = new RedisMessageLog(redis, { prefix });
      logs.push(messageLog);
      const broker = await connectTestBroker(
        "url" in target
          ? { url: target.url, prefix }
          : { cluster: { rootNodes: target.rootNodes.map((url) => ({ url })) }, prefix },
      );
      return { broker, messageLog, sessionStore: new RedisSessionStore(redis, { prefix }) };
    },
    async close() {
      for (const log of logs) await log.close();
      for (const redis of connections) await closeRedis(redis);
    },
  };
}

interface Node {
  h: Harness;
  io: Server;
  parts: NodeParts;
  kill(): void;
}

async function startNode(backend: Backend, replayCache?: number): Promise<Node> {
  const given = await backend.node();
  const sessionStore = crashable(given.sessionStore);
  const parts = { ...given, sessionStore };
  const h = await startServer(
    {
      broker: parts.broker,
      connectionStateRecovery: {
        messageLog: parts.messageLog,
        sessionStore: parts.sessionStore,
        maxDisconnectionDuration: 30_000,
        ...(replayCache === undefined ? {} : { replayCache }),
      },
    },
    { transports: ["websocket"] },
  );
  return { h, io: h.io, parts, kill: () => sessionStore.kill() };
}

async function stopNode(node: Node): Promise<void> {
  await node.h.close();
  await node.parts.broker.close();
}

/** A client's view: every `m` event's payload, in arrival order. */
interface Watcher {
  client: ClientSocket;
  got: unknown[];
}

function watch(proxy: RoundRobinProxy, together = false): Watcher {
  const client = ioc(`${proxy.url}/`, {
    forceNew: true,
    transports: ["websocket"],
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    // A storm: every client comes back at the same moment.
    ...(together ? { randomizationFactor: 0 } : {}),
  });
  const got: unknown[] = [];
  client.on("m", (payload: unknown) => got.push(payload));
  return { client, got };
}

function recoverySuite(name: string, makeBackend: BackendFactory): void {
  describe(`recovery across nodes (${name})`, () => {
    let backend: Backend;
    before(async () => {
      backend = await makeBackend();
    });
    after(async () => {
      await backend?.close();
    });

    for (const crash of [false, true]) {
      const how = crash ? "its node dies without a word" : "its connection to its node is cut";
      it(
        `a client resumes on another node when ${how}: every packet once, in order`,
        T,
        async () => {
          const a = await startNode(backend);
          const b = await startNode(backend);
          let target = 0;
          const proxy = await startRoundRobinProxy([a.h.port, b.h.port], () => target);
          const watchers: Watcher[] = [];
          try {
            for (const node of [a, b]) {
              node.io.on("connection", (socket: Socket) => {
                if (socket.recovered) return;
                socket.data = { name: `user-${socket.id}` };
                socket.join("r");
              });
            }
            const moving = watch(proxy);
            watchers.push(moving);
            await waitFor(moving.client, "connect");
            target = 1;
            const staying = watch(proxy);
            watchers.push(staying);
            await waitFor(staying.client, "connect");
            const firstId = moving.client.id;
            const onA = a.io.of("/").sockets.get(firstId as string);
            assert.ok(onA, "the moving client is on node a");
            onA.join("late");

            // Broadcasts from the live nodes, interleaved, to the room and to "late".
            let n = 0;
            let live = [a, b];
            const publish = async (count: number) => {
              for (let i = 0; i < count; i++) {
                const from = live[n % live.length];
                await from.io.to(n % 3 === 0 ? "late" : "r").publish("m", n);
                n++;
              }
            };
            await publish(10);
            await until(() => moving.got.length === 10, 10_000, "the first ten");

            // Node a goes: cleanly (its sockets persist their state) or as if killed.
            if (crash) {
              // What node a wrote while alive stands: the join of "late" included.
              const pid = (onA as unknown as { _pid: string })._pid;
              await eventually(async () => {
                const record = await a.parts.sessionStore.get(`sio:${pid}`);
                return ((record?.data.rooms as string[]) ?? []).includes("late");
              }, "the record has the late room");
              a.kill();
              live = [b];
            }
            const dropped = waitFor(moving.client, "disconnect");
            onA.conn.close();
            await dropped;
            await publish(20);
            await until(
              () => moving.client.connected && moving.client.id === firstId,
              10_000,
              "resumed",
            );
            assert.equal(moving.client.recovered, true, "recovered on node b");
            const onB = b.io.of("/").sockets.get(firstId as string);
            assert.ok(onB, "the same socket id on node b");
            assert.deepEqual(onB.data, { name: `user-${firstId}` });
            assert.ok(onB.rooms.has("r") && onB.rooms.has("late"), "rooms restored");
            await publish(10);
            const all = Array.from({ length: 40 }, (_, i) => i);
            await until(() => moving.got.length >= 40, 10_000, "every packet");
            const inRoom = all.filter((i) => i % 3 !== 0);
            await until(
              () => staying.got.length >= inRoom.length,
              10_000,
              "the staying client's packets",
            );
            assert.deepEqual(moving.got, all, "the moving client: each once, in publish order");
            assert.deepEqual(
              staying.got,
              inRoom,
              "the staying client: the room's packets, once, in order",
            );
          } finally {
            for (const w of watchers) w.client.disconnect();
            await proxy.close();
            await stopNode(b);
            await stopNode(a).catch(() => {});
          }
        },
      );
    }

    for (const cache of [true, false]) {
      const what = cache
        ? "is replayed from the entries each node keeps: no log read"
        : "past those entries shares its log reads";
      it(`a reconnect storm after a node dies ${what}`, T, async () => {
        const a = await startNode(backend, cache ? undefined : 0);
        const b = await startNode(backend, cache ? undefined : 0);
        let target = 0;
        const proxy = await startRoundRobinProxy([a.h.port, b.h.port], () => target);
        const watchers: Watcher[] = [];
        try {
          for (let i = 0; i < STORM; i++) watchers.push(watch(proxy, true));
          await until(() => watchers.every((w) => w.client.connected), 10_000, "all connected");
          await a.io.publish("m", 0);
          await until(() => watchers.every((w) => w.got.length === 1), 10_000, "first packet");
          target = 1;
          a.kill();
          const dropped = watchers.map((w) => waitFor(w.client, "disconnect"));
          for (const socket of a.io.of("/").sockets.values()) socket.conn.close();
          await Promise.all(dropped);
          for (let i = 1; i <= 20; i++) await b.io.publish("m", i);
          await until(
            () => watchers.every((w) => w.client.connected && w.got.length === 21),
            15_000,
            "every client resumed with every packet",
          );
          const all = Array.from({ length: 21 }, (_, i) => i);
          for (const w of watchers) {
            assert.equal(w.client.recovered, true);
            assert.deepEqual(w.got, all);
          }
          const adapter = b.io.of("/").adapter as unknown as ClusterSessionAdapter;
          assert.equal(adapter.recoveryStats.restored, STORM);
          const { reads } = adapter.readStats;
          if (cache) assert.equal(reads, 0, "no log read");
          // The memory log answers at once: there is no read to share.
          else if (name !== "memory") {
            assert.ok(reads <= STORM / 4, `${reads} log reads for ${STORM} restores`);
          }
        } finally {
          for (const w of watchers) w.client.disconnect();
          await proxy.close();
          await stopNode(b);
          await stopNode(a);
        }
      });
    }

    it(
      "a retried publish with the same id is delivered once, whichever node takes it",
      T,
      async () => {
        const a = await startNode(backend);
        const b = await startNode(backend);
        const proxy = await startRoundRobinProxy([a.h.port, b.h.port], () => 0);
        const w = watch(proxy);
        try {
          await waitFor(w.client, "connect");
          const first = await a.io.withId("order-1").publish("m", "once");
          const again = await b.io.withId("order-1").publish("m", "once");
          assert.equal(first.duplicate, false);
          assert.equal(again.duplicate, true);
          assert.equal(again.offset, first.offset, "the retry learns the first one's offset");
          await b.io.publish("m", "fence");
          await until(() => w.got.includes("fence"), 10_000, "fence");
          assert.deepEqual(w.got, ["once", "fence"]);
        } finally {
          w.client.disconnect();
          await proxy.close();
          await stopNode(a);
          await stopNode(b);
        }
      },
    );

    it("a client whose offset the log lost gets a fresh session, not a gap", T, async () => {
      const a = await startNode(backend);
      const proxy = await startRoundRobinProxy([a.h.port], () => 0);
      const w = watch(proxy);
      try {
        await waitFor(w.client, "connect");
        await a.io.publish("m", 1);
        await until(() => w.got.length === 1, 10_000, "first");
        const id = w.client.id as string;
        const socket = a.io.of("/").sockets.get(id) as Socket;
        const dropped = waitFor(w.client, "disconnect");
        socket.conn.close();
        await dropped;
        await a.parts.messageLog.drop("sio/recovery/");
        // The next append starts a new epoch, which the node's follower notices.
        await a.io.publish("m", 2);
        await until(() => w.client.connected && w.client.id !== id, 10_000, "reconnected");
        assert.equal(w.client.recovered, false);
      } finally {
        w.client.disconnect();
        await proxy.close();
        await stopNode(a);
      }
    });
  });
}

recoverySuite("memory", memoryBackend);

describe("on a single Redis", { skip: await redisSkip("shared") }, () => {
  recoverySuite("single Redis", () => redisBackend({ url: REDIS_URL }));
});

await describeOnRedisCluster((servers) => {
  recoverySuite("3-master Redis Cluster", () => redisBackend({ rootNodes: servers().rootNodes }));
});
