/**
 * The owner of a session dies while messages flow, and its client carries
 * on with the same clientId on another node: three Bayeux nodes behind a
 * round-robin proxy (forwarding on), sharing a broker, a session store and
 * an ack log, on memory backends and on the shared Redis. The owner is
 * killed abruptly: every connection it holds (websockets too) is dropped at
 * once, so forwards to it are refused, and it leaves the broker (on Redis
 * without a goodbye: its Redis connections are dropped, as a crash would).
 * A CometD client with its AckExtension and Switchboard's own client with
 * acks, each over long-polling and over websocket, then get every message
 * published while the session was owned exactly once and in order, without
 * a new handshake, and what is published after the adoption too.
 *
 * The owner's writes are let reach the backend before it dies (they are
 * not waited for, and a crash loses those still on their way). Without a
 * channel log, messages published between the death and the adoption may be
 * lost (see docs/bayeux-server.md); with one (option `channelLog`, the
 * "channel log" suites), messages are also published in that hole, from a
 * live node, and the client must get them too, once each and in order.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { setImmediate } from "node:timers/promises";
import { AckExtension, CometD, type Message } from "cometd";
import { adapt } from "cometd-nodejs-client";
import { BayeuxClient } from "../../src/bayeux/client/index.js";
import type { Broker, MessageLog, SessionStore } from "../../src/cluster/index.js";
import { MemoryBrokerHub } from "../../src/cluster/index.js";
import { MemoryMessageLog } from "../../src/cluster/memory-message-log.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import type { RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import { type Running, startServer } from "../bayeux/helpers.js";
import { call } from "../helpers/cometd.js";
import { CLIENT_V6, dropClient, type TestClient, testClient } from "../helpers/redis-clients.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { until } from "../socketio/raw-clients.js";
import { connectTestBroker } from "./nodes-backends.js";

adapt();

const T = { timeout: 40_000 };

/** One node's backends, and how it dies. */
interface NodeBackends {
  broker: Broker;
  store: SessionStore;
  ackLog: MessageLog;
  /** The cluster's channel log, in the channel-log suites. */
  channelLog?: MessageLog;
  /**
   * Resolves once the node's writes so far reached the backend (they are
   * not waited for: a crash loses those still on their way).
   */
  written(): Promise<void>;
  /** Leaves the cluster as a crashed process would. */
  crash(): Promise<void>;
  close(): Promise<void>;
}

interface Backend {
  node(i: number): Promise<NodeBackends>;
  close(): Promise<void>;
}

interface Node {
  run: Running;
  backends: NodeBackends;
  dead: boolean;
  /** Every TCP connection the node accepted, websockets included. */
  sockets: Set<Socket>;
}

/** A client under test: its clientId, what it received, how many handshakes it made. */
interface Subject {
  clientId(): string | null;
  received: unknown[];
  handshakes(): number;
  duplicatesDropped(): number;
  stop(): Promise<void>;
}

let unique = 0;

function suite(name: string, makeBackend: () => Promise<Backend>): void {
  const logged = name.includes("channel log");
  describe(`adoption of a dead owner's session behind round robin (${name})`, () => {
    let backend: Backend;
    let nodes: Node[] = [];
    let proxy: RoundRobinProxy;
    let proxyUrl: string;

    before(async () => {
      backend = await makeBackend();
    });
    after(async () => {
      await backend.close();
    });

    async function start(): Promise<void> {
      nodes = [];
      for (let i = 0; i < 3; i++) {
        const backends = await backend.node(i);
        const run = await startServer({
          broker: backends.broker,
          sessionStore: backends.store,
          ackLog: backends.ackLog,
          ...(backends.channelLog ? { channelLog: backends.channelLog } : {}),
          forward: true,
          timeout: 500,
        });
        const sockets = new Set<Socket>();
        run.http.on("connection", (socket: Socket) => {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
        });
        nodes.push({ run, backends, dead: false, sockets });
      }
      proxy = await startRoundRobinProxy(nodes.map((n) => Number(new URL(n.run.url).port)));
      proxyUrl = `${proxy.url}${new URL(nodes[0].run.url).pathname}`;
    }

    afterEach(async () => {
      await proxy?.close();
      for (const node of nodes) {
        await node.run.bayeux.close();
        if (!node.dead) await node.run.close();
        await node.backends.close();
      }
    });

    /** Kills node i: every connection (websockets too) dropped at once, no goodbye. */
    async function kill(node: Node): Promise<void> {
      await node.backends.written();
      node.dead = true;
      node.run.http.close();
      for (const socket of node.sockets) socket.destroy();
      // Its follow of the channel log stops with it (its own connection on Redis).
      node.run.bayeux.channelLog?.close();
      await node.backends.crash();
    }

    /**
     * Publishes from the owner while the client long-polls, kills the owner
     * mid-stream, waits for a live node to adopt the session, publishes
     * again; then checks what the client got.
     */
    async function scenario(subject: Subject, channel: string): Promise<void> {
      const clientId = subject.clientId();
      assert.ok(clientId);
      await Promise.all(nodes.map((n) => n.run.bayeux.hub.settled()));
      const owner = nodes.find((n) => n.run.bayeux.getSession(clientId) !== undefined);
      assert.ok(owner, "one node owns the session");
      const adopted: string[] = [];
      for (const n of nodes) {
        n.run.bayeux.on("adopt", (id) => {
          if (id === clientId) adopted.push(n.run.url);
        });
      }
      // Published on the owner, so each reaches the session before it dies.
      const before: number[] = [];
      for (let n = 0; n < 30; n++) {
        owner.run.bayeux.publish(channel, { n });
        before.push(n);
        if (n === 10) await until(() => subject.received.length > 0, 10_000, "flow");
        // Spread over event-loop turns, so some are in flight when the owner dies.
        if (n % 3 === 0) await setImmediate();
      }
      await kill(owner);
      // In the hole: no node holds the session (only a channel log keeps these for it).
      const hole: number[] = [];
      if (logged) {
        const live = nodes.find((n) => !n.dead) as Node;
        for (let n = 50; n < 60; n++) {
          live.run.bayeux.publish(channel, { n });
          hole.push(n);
        }
      }
      await until(() => adopted.length > 0, 15_000, "a live node to adopt the session");
      assert.equal(adopted.length, 1, "adopted once");
      const adopter = nodes.find((n) => n.run.url === adopted[0]) as Node;
      await adopter.run.bayeux.hub.settled();
      // Published from another live node, after the adoption: through the broker.
      const publisher = nodes.find((n) => !n.dead && n !== adopter) as Node;
      await publisher.run.bayeux.hub.settled();
      const afterwards = [100, 101, 102];
      for (const n of afterwards) publisher.run.bayeux.publish(channel, { n });
      const expected = [...before, ...hole, ...afterwards];
      await until(
        () => subject.received.length >= expected.length,
        15_000,
        () =>
          `every message (got ${subject.received.length} of ${expected.length}: ${subject.received
            .map((d) => (d as { n: number }).n)
            .join(",")})`,
      );
      await until(() => false, 300, "late duplicates").catch(() => {});
      assert.deepEqual(
        subject.received.map((d) => (d as { n: number }).n),
        expected,
        "each message once, in order",
      );
      assert.equal(subject.clientId(), clientId, "the same clientId");
      assert.equal(subject.handshakes(), 1, "no new handshake");
      assert.equal(subject.duplicatesDropped(), 0, "no duplicate reached the client");
    }

    for (const transport of ["long-polling", "websocket"] as const) {
      it(`a CometD client over ${transport} with AckExtension`, T, async () => {
        await start();
        const channel = `/adopt/cometd${++unique}`;
        const cometd = new CometD();
        if (transport === "long-polling") cometd.unregisterTransport("websocket");
        cometd.registerExtension("ack", new AckExtension());
        let handshakes = 0;
        cometd.registerExtension("meter", {
          outgoing(m: Message) {
            if (m.channel === "/meta/handshake") handshakes++;
            return m;
          },
        });
        cometd.configure({
          url: proxyUrl,
          logLevel: "warn",
          maxBackoff: 200,
          backoffIncrement: 50,
        });
        const received: unknown[] = [];
        const hs = await call((cb) => cometd.handshake(cb), 10_000);
        assert.equal(hs.successful, true, JSON.stringify(hs));
        const sub = await call(
          (cb) => cometd.subscribe(channel, (m) => received.push(m.data), cb),
          10_000,
        );
        assert.equal(sub.successful, true, JSON.stringify(sub));
        try {
          await scenario(
            {
              clientId: () => cometd.getClientId() ?? null,
              received,
              handshakes: () => handshakes,
              duplicatesDropped: () => 0,
              stop: async () => {},
            },
            channel,
          );
        } finally {
          let disconnected = false;
          cometd.disconnect(() => {
            disconnected = true;
          });
          await until(() => disconnected, 3000, "CometD disconnect").catch(() => {});
        }
      });
    }

    for (const transport of ["long-polling", "websocket"] as const) {
      it(`Switchboard's client over ${transport} with acks`, T, async () => {
        await start();
        const channel = `/adopt/sb${++unique}`;
        const client = new BayeuxClient(proxyUrl, {
          transports: [transport],
          maxNetworkDelay: 3000,
          backoff: { initialDelay: 50, maxDelay: 200 },
        });
        let handshakes = 0;
        client.addExtension({
          outgoing(message) {
            if (message.channel === "/meta/handshake") handshakes++;
            return message;
          },
        });
        const received: unknown[] = [];
        try {
          await client.init();
          assert.equal(client.ackExtension?.enabled, true);
          await client.subscribe(channel, (m) => received.push(m.data));
          await scenario(
            {
              clientId: () => client.clientId,
              received,
              handshakes: () => handshakes,
              duplicatesDropped: () => client.ackExtension?.duplicatesDropped ?? 0,
              stop: () => client.disconnect(),
            },
            channel,
          );
        } finally {
          await Promise.race([client.disconnect(), until(() => false, 3000).catch(() => {})]);
        }
      });
    }
  });
}

for (const name of ["memory", "memory, channel log"]) {
  suite(name, async () => {
    const hub = new MemoryBrokerHub();
    const store = new MemorySessionStore();
    const ackLog = new MemoryMessageLog();
    const channelLog = name.includes("channel log") ? new MemoryMessageLog() : undefined;
    return {
      async node(i) {
        const broker = hub.connect(`mem-${i}-${unique}`);
        return {
          broker,
          store,
          ackLog,
          channelLog,
          written: async () => {},
          crash: () => broker.close(),
          close: () => broker.close(),
        };
      },
      close: () => store.close(),
    };
  });
}

describe("on the shared Redis", { skip: await redisSkip("shared") }, () => {
  for (const name of ["Redis", "Redis, channel log"])
    suite(name, async () => {
      const prefix = uniquePrefix("bayeux-adopt");
      return {
        async node() {
          // Every connection of the node its own, so a crash can drop them all.
          const connect = () => testClient(CLIENT_V6, REDIS_URL, { disableOfflineQueue: true });
          const [client, subscriber, data] = await Promise.all([connect(), connect(), connect()]);
          const broker = await connectTestBroker({ url: REDIS_URL, prefix, client, subscriber });
          const redis = data as unknown as RedisConnection;
          const clients: TestClient[] = [client, subscriber, data];
          let crashed = false;
          return {
            broker,
            store: new RedisSessionStore(redis, { prefix }),
            ackLog: new RedisMessageLog(redis, { prefix }),
            ...(name.includes("channel log")
              ? { channelLog: new RedisMessageLog(redis, { prefix }) }
              : {}),
            async written() {
              // One connection answers in order: its PING's reply follows every earlier write.
              await (
                redis as unknown as { sendCommand(args: string[]): Promise<unknown> }
              ).sendCommand(["PING"]);
            },
            async crash() {
              crashed = true;
              for (const c of clients) await dropClient(c);
            },
            async close() {
              if (!crashed) await broker.close();
              if (!crashed) for (const c of clients) await dropClient(c);
            },
          };
        },
        close: async () => {},
      };
    });
});
