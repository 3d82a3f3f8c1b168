/**
 * No sticky sessions, Bayeux side: three Bayeux nodes sharing a broker and
 * a session store behind a round-robin proxy (every request to the next
 * node). A batch naming a clientId another node owns is forwarded there
 * (server option `forward`), so Faye and CometD long-polling clients and a
 * callback-polling (JSONP) client handshake once, never see 402, and get
 * every publish exactly once. Memory backends and the shared Redis.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CometD, type Message } from "cometd";
import { adapt } from "cometd-nodejs-client";
import type { Broker } from "../../src/cluster/index.js";
import { MemoryBrokerHub } from "../../src/cluster/index.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import { closeRedis, connectRedis } from "../../src/cluster/redis-keys.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import type { SessionStore } from "../../src/cluster/session-store.js";
import { type Running, startServer } from "../bayeux/helpers.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { describeOnRedisCluster } from "../helpers/redis-cluster.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { until } from "../socketio/raw-clients.js";
import { connectTestBroker } from "./nodes-backends.js";

adapt();

const T = { timeout: 30_000 };

interface Backend {
  broker(): Broker | Promise<Broker>;
  store: SessionStore;
  close(): Promise<void>;
}

interface Nodes {
  runs: Running[];
  brokers: Broker[];
  proxy: RoundRobinProxy;
  /** The proxy's URL of the Bayeux path. */
  url: string;
}

/** Counts a client's outgoing meta messages and the unsuccessful replies it gets. */
interface Meter {
  handshakes: number;
  connects: number;
  failures: unknown[];
}

let unique = 0;

function suite(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`no sticky sessions, Bayeux (${name})`, () => {
    let backend: Backend;
    let nodes: Nodes;

    before(async () => {
      backend = await makeBackend();
      const runs: Running[] = [];
      const brokers: Broker[] = [];
      for (let i = 0; i < 3; i++) {
        const broker = await backend.broker();
        brokers.push(broker);
        // A short long-poll: connects cycle through every node many times.
        runs.push(
          await startServer({ broker, sessionStore: backend.store, forward: true, timeout: 400 }),
        );
      }
      const ports = runs.map((r) => Number(new URL(r.url).port));
      const proxy = await startRoundRobinProxy(ports);
      nodes = { runs, brokers, proxy, url: `${proxy.url}${new URL(runs[0].url).pathname}` };
    });

    after(async () => {
      await nodes.proxy.close();
      for (const [i, run] of nodes.runs.entries()) {
        await run.bayeux.close();
        await run.close();
        await nodes.brokers[i].close();
      }
      await backend.close();
    });

    for (const websocket of [false, true]) {
      const mode = websocket ? "long-polling handshake, then websocket" : "long-polling";
      it(`serves Faye clients (${mode}): one handshake, each publish once`, T, async () => {
        const channel = `/nosticky/faye${++unique}`;
        const clients: FayeClient[] = [];
        const meters: Meter[] = [];
        const got: unknown[][] = [];
        try {
          for (let i = 0; i < 3; i++) {
            const client = new faye.Client(nodes.url, { timeout: 5, retry: 1 });
            if (!websocket) client.disable("websocket");
            const meter: Meter = { handshakes: 0, connects: 0, failures: [] };
            client.addExtension({
              outgoing(m: { channel: string }, cb: (m: unknown) => void) {
                if (m.channel === "/meta/handshake") meter.handshakes++;
                if (m.channel === "/meta/connect") meter.connects++;
                cb(m);
              },
              incoming(m: { successful?: boolean; error?: string }, cb: (m: unknown) => void) {
                if (m.successful === false) meter.failures.push(m.error);
                cb(m);
              },
            });
            const mine: unknown[] = [];
            got.push(mine);
            await client.subscribe(channel, (data) => mine.push(data));
            clients.push(client);
            meters.push(meter);
          }
          await Promise.all(nodes.runs.map((r) => r.bayeux.hub.settled()));
          // Each delivery answers the held connects; the next connects reach other nodes.
          const rounds = 6;
          for (let n = 0; n < rounds; n++) {
            nodes.runs[n % 3].bayeux.publish(channel, { from: `server-${n}` });
            await until(() => got.every((g) => g.length === n + 1), 10_000, `publish ${n}`);
          }
          for (const [i, client] of clients.entries()) await client.publish(channel, { from: i });
          await until(() => got.every((g) => g.length >= rounds + 3), 10_000, "client publishes");
          nodes.runs[0].bayeux.publish(channel, { from: "fence" });
          await until(() => got.every((g) => g.length >= rounds + 4), 10_000, "fence");
          const expected = [
            ...Array.from({ length: rounds }, (_, n) => `server-${n}`),
            0,
            1,
            2,
            "fence",
          ].map(String);
          for (const [i, g] of got.entries()) {
            assert.deepEqual(
              g.map((d) => String((d as { from: unknown }).from)).sort(),
              expected.sort(),
              `client ${i} got each publish once`,
            );
            assert.equal(meters[i].handshakes, 1, "one handshake");
            assert.deepEqual(meters[i].failures, [], "no 402 nor any failure");
            // Over long-polling each delivery ends a connect (over a websocket it is pushed).
            if (!websocket)
              assert.ok(meters[i].connects >= rounds, `connects ${meters[i].connects}`);
          }
          assert.ok(
            nodes.proxy.sent.every((s) => s > 3),
            `spread: ${nodes.proxy.sent}`,
          );
        } finally {
          await Promise.all(clients.map(shutdown));
        }
      });
    }

    it("serves a CometD long-polling client", T, async () => {
      const channel = `/nosticky/cometd${++unique}`;
      const cometd = new CometD();
      cometd.unregisterTransport("websocket");
      const meter: Meter = { handshakes: 0, connects: 0, failures: [] };
      cometd.registerExtension("meter", {
        outgoing(m: Message) {
          if (m.channel === "/meta/handshake") meter.handshakes++;
          if (m.channel === "/meta/connect") meter.connects++;
          return m;
        },
        incoming(m: Message) {
          if (m.successful === false) meter.failures.push(m.error);
          return m;
        },
      });
      cometd.configure({ url: nodes.url, logLevel: "warn" });
      const got: unknown[] = [];
      try {
        await new Promise<void>((resolve, reject) =>
          cometd.handshake((reply) => (reply.successful ? resolve() : reject(reply))),
        );
        await new Promise<void>((resolve, reject) =>
          cometd.subscribe(
            channel,
            (m) => got.push(m.data),
            (reply) => (reply.successful ? resolve() : reject(reply)),
          ),
        );
        await Promise.all(nodes.runs.map((r) => r.bayeux.hub.settled()));
        for (const [n, run] of nodes.runs.entries()) {
          run.bayeux.publish(channel, { n });
          await until(() => got.length === n + 1, 10_000, `publish ${n}`);
        }
        cometd.publish(channel, { n: "client" });
        await until(() => got.length >= 4, 10_000, "every publish");
        await until(() => meter.connects >= 8, 10_000, "connect cycles");
        nodes.runs[2].bayeux.publish(channel, { n: "fence" });
        await until(() => got.length >= 5, 10_000, "fence");
        assert.deepEqual(
          got.map((d) => String((d as { n: unknown }).n)),
          ["0", "1", "2", "client", "fence"],
          "each publish once",
        );
        assert.equal(meter.handshakes, 1);
        assert.deepEqual(meter.failures, []);
      } finally {
        // A disconnect the node never answers must not hang the suite: wait for it, bounded.
        let disconnected = false;
        cometd.disconnect(() => {
          disconnected = true;
        });
        await until(() => disconnected, 3000, "CometD disconnect").catch(() => {});
      }
    });

    it("serves callback-polling (JSONP) requests on any node", T, async () => {
      const base = nodes.runs.map((r) => r.url);
      const jsonp = async (url: string, message: object): Promise<Message[]> => {
        const q = new URLSearchParams({ message: JSON.stringify([message]), jsonp: "cb" });
        const res = await fetch(`${url}?${q}`);
        const text = await res.text();
        assert.equal(res.status, 200, text);
        const match = /^\/\*\*\/cb\((.*)\);$/s.exec(text);
        assert.ok(match, text);
        return JSON.parse(match[1]) as Message[];
      };
      const [hs] = await jsonp(base[0], {
        channel: "/meta/handshake",
        version: "1.0",
        supportedConnectionTypes: ["callback-polling"],
      });
      assert.equal(hs.successful, true);
      const clientId = hs.clientId as string;
      for (const url of [base[1], base[2], base[0], base[1]]) {
        const replies = await jsonp(url, {
          channel: "/meta/connect",
          clientId,
          connectionType: "callback-polling",
        });
        const connect = replies.find((m) => m.channel === "/meta/connect");
        assert.equal(connect?.successful, true, JSON.stringify(replies));
      }
      assert.ok(nodes.runs[0].bayeux.findSession(clientId), "held by the node it was made on");
      assert.equal(nodes.runs[1].bayeux.findSession(clientId), undefined);
    });
  });
}

suite("memory", async () => {
  const hub = new MemoryBrokerHub();
  const store = new MemorySessionStore();
  return { broker: () => hub.connect(), store, close: () => store.close() };
});

const skip = await redisSkip("shared");
describe("on the shared Redis", { skip }, () => {
  suite("Redis", async () => {
    const prefix = uniquePrefix("nosticky-bayeux");
    const redis = await connectRedis({ url: REDIS_URL });
    return {
      broker: () => connectTestBroker({ url: REDIS_URL, prefix }),
      store: new RedisSessionStore(redis, { prefix }),
      close: () => closeRedis(redis),
    };
  });
});

await describeOnRedisCluster((servers) => {
  suite("3-master Redis Cluster", async () => {
    const prefix = uniquePrefix("nosticky-bayeux-cluster");
    const redis = await connectRedis({ rootNodes: servers().rootNodes });
    return {
      broker: () => connectTestBroker({ cluster: { rootNodes: servers().nodes }, prefix }),
      store: new RedisSessionStore(redis, { prefix }),
      close: () => closeRedis(redis),
    };
  });
});
