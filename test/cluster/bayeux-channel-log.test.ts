/**
 * The Bayeux channel log (option `channelLog`), through `process()` on nodes
 * sharing a broker, a session store, an ack log and the channel log, on
 * memory backends and on the shared Redis: one delivery order on every node,
 * a publish answered once stored (407 when the log refuses it, a resend
 * stored once), and an ack session adopted from a dead owner replaying what
 * was published while no node held it, from its recorded floor, with the
 * reads of a burst of adoptions shared. A node "dies" by stopping its follow
 * of the log and leaving the broker without ending its sessions.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ChannelLog } from "../../src/bayeux/server/channel-log.js";
import { Delivery } from "../../src/bayeux/server/delivery.js";
import type { BayeuxServerOptions } from "../../src/bayeux/server/options.js";
import type { BayeuxServer } from "../../src/bayeux/server/server.js";
import {
  type Broker,
  MemoryBrokerHub,
  type MessageLog,
  type SessionStore,
} from "../../src/cluster/index.js";
import { MemoryMessageLog } from "../../src/cluster/memory-message-log.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import type {
  AppendOnceResult,
  FollowHandlers,
  LogFollower,
  ReadResult,
} from "../../src/cluster/message-log.js";
import { closeRedis, connectRedis } from "../../src/cluster/redis-keys.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import {
  HANDSHAKE,
  LONG_POLLING,
  pollOnce,
  startServer,
  transportFreeServers,
  WsPeer,
} from "../bayeux/helpers.js";
import { describeOnRedisCluster } from "../helpers/redis-cluster.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { connectTestBroker } from "./nodes-backends.js";

type Server = BayeuxServer;
const make = transportFreeServers({ timerResolution: 10 });
/** Brokers of the running test, left after its servers close. */
let brokers: Broker[] = [];
/** Backends of the running test, closed after its brokers. */
let opened: Backends[] = [];
afterEach(async () => {
  for (const broker of brokers) await broker.close().catch(() => {});
  for (const backends of opened) await backends.close();
  brokers = [];
  opened = [];
});

/** A log whose appends fail while `failing` is set (a Redis outage, as the server sees it). */
class RefusingLog implements MessageLog {
  failing = false;
  readonly #log: MessageLog;
  constructor(log: MessageLog) {
    this.#log = log;
  }
  #check(): void {
    if (this.failing) throw new Error("log unavailable");
  }
  async append(stream: string, payload: Uint8Array): Promise<string> {
    this.#check();
    return this.#log.append(stream, payload);
  }
  async appendOnce(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): Promise<AppendOnceResult> {
    this.#check();
    return this.#log.appendOnce(stream, payload, key, window);
  }
  readAfter(stream: string, offset: string | null, limit?: number): Promise<ReadResult> {
    return this.#log.readAfter(stream, offset, limit);
  }
  follow(stream: string, handlers: FollowHandlers): LogFollower {
    return this.#log.follow(stream, handlers);
  }
  compare(a: string, b: string): number | undefined {
    return this.#log.compare(a, b);
  }
  drop(stream: string): Promise<void> {
    return this.#log.drop(stream);
  }
  close(): Promise<void> {
    return this.#log.close();
  }
}

interface Backends {
  broker(i: number): Promise<Broker>;
  store: SessionStore;
  ackLog: MessageLog;
  channelLog(options?: { maxLength?: number }): MessageLog;
  /** A fresh stream namespace per test where the log is shared by the suite. */
  close(): Promise<void>;
}

const poll = pollOnce;

async function client(server: Server, channel: string, ack: boolean): Promise<string> {
  const hs = { ...HANDSHAKE, ...(ack ? { ext: { ack: true } } : {}) };
  const [reply] = (await server.process([hs], LONG_POLLING)).replies;
  const clientId = reply.clientId as string;
  const [sub] = (
    await server.process(
      [{ channel: "/meta/subscribe", clientId, subscription: channel }],
      LONG_POLLING,
    )
  ).replies;
  assert.equal(sub.successful, true, JSON.stringify(sub));
  await poll(server, clientId, ack ? -1 : undefined);
  return clientId;
}

/** A client's publish through `server.process`; returns its reply. */
async function publish(
  server: Server,
  clientId: string,
  channel: string,
  data: unknown,
  id?: string,
) {
  const message: Record<string, unknown> = { channel, clientId, data };
  if (id !== undefined) message.id = id;
  const { replies } = await server.process([message], LONG_POLLING);
  return replies[0];
}

/** Polls with acks until `count` messages came (or the deadline); returns them. */
async function collect(server: Server, clientId: string, count: number, from = -1) {
  const got: unknown[] = [];
  let batch = from;
  const deadline = Date.now() + 10_000;
  while (got.length < count && Date.now() < deadline) {
    const next = await poll(server, clientId, batch);
    assert.equal(next.reply.successful, true, JSON.stringify(next.reply));
    got.push(...next.data);
    batch = next.batch as number;
    if (next.data.length === 0) await until(() => false, 5).catch(() => {});
  }
  return { got, batch };
}

function suite(name: string, makeBackends: () => Promise<Backends>): void {
  describe(`the Bayeux channel log (${name})`, () => {
    async function nodes(
      n: number,
      options: { maxLength?: number; refusing?: boolean; server?: BayeuxServerOptions } = {},
    ) {
      const backends = await makeBackends();
      opened.push(backends);
      const shared = backends.channelLog({ maxLength: options.maxLength });
      const log = options.refusing ? new RefusingLog(shared) : shared;
      const servers: Server[] = [];
      const mine: Broker[] = [];
      for (let i = 0; i < n; i++) {
        const broker = await backends.broker(i);
        brokers.push(broker);
        mine.push(broker);
        const server = make({
          broker,
          sessionStore: backends.store,
          ackLog: backends.ackLog,
          channelLog: log,
          ...options.server,
        });
        servers.push(server);
      }
      await Promise.all(servers.map((s) => s.channelLog?.ready));
      return {
        servers,
        log,
        backends,
        /** Node i dies: no more deliveries from the log, gone from the broker, sessions kept. */
        async crash(i: number) {
          servers[i].channelLog?.close();
          await mine[i].close();
          await until(
            () => mine.every((b, j) => j === i || !b.nodes().includes(mine[i].nodeId)),
            5000,
            "the others to see it go",
          );
        },
      };
    }

    it("every node delivers in the one order of the log, with the publisher's origin", async () => {
      const { servers } = await nodes(2);
      const [a, b] = servers;
      const onA = await client(a, "/o", false);
      const onB = await client(b, "/o", false);
      // Publishers of their own: a publish reply would carry its publisher's deliveries.
      const pubA = await client(a, "/x", false);
      const pubB = await client(b, "/x", false);
      const heard: Array<[unknown, string | undefined]> = [];
      b.subscribe("/o", (data, _m, origin) => heard.push([data, origin]));
      const sent: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, (_, n) => {
          sent.push(n);
          return publish(n % 2 === 0 ? a : b, n % 2 === 0 ? pubA : pubB, "/o", n);
        }),
      );
      const fromA = await collect(a, onA, 20);
      const fromB = await collect(b, onB, 20);
      assert.equal(fromA.got.length, 20);
      assert.deepEqual(fromA.got, fromB.got, "the same order on both nodes");
      assert.deepEqual(
        [...fromA.got].sort((x, y) => Number(x) - Number(y)),
        sent,
      );
      await until(() => heard.length === 20, 5000, "the listener");
      for (const [data, origin] of heard) {
        assert.equal(origin, Number(data) % 2 === 0 ? a.nodeId : undefined);
      }
      assert.equal(a.channelLog?.stats.appended, 10);
    });

    it("a publish resent with the same id is stored and delivered once", async () => {
      const { servers } = await nodes(2);
      const [a, b] = servers;
      const sub = await client(b, "/d", false);
      const pub = await client(a, "/elsewhere", false);
      const first = await publish(a, pub, "/d", "once", "m1");
      assert.equal(first.successful, true);
      // Its reply lost, the client sends it again: answered as the first, not stored again.
      const resent = await publish(a, pub, "/d", "once", "m1");
      assert.equal(resent.successful, true, JSON.stringify(resent));
      await publish(a, pub, "/d", "after", "m2");
      const { got } = await collect(b, sub, 2);
      assert.deepEqual(got, ["once", "after"]);
      assert.equal(a.channelLog?.stats.duplicates, 1);
    });

    it("the log refuses a publish: 407, nothing delivered; its resend goes through once", async () => {
      const { servers, log } = await nodes(1, { refusing: true });
      const [a] = servers;
      const sub = await client(a, "/r", false);
      const pub = await client(a, "/x", false);
      (log as RefusingLog).failing = true;
      const refused = await publish(a, pub, "/r", "m", "id-1");
      assert.equal(refused.successful, false);
      assert.equal(refused.error, "407:/r:Failed to publish");
      assert.equal(refused.id, "id-1");
      (log as RefusingLog).failing = false;
      const ok = await publish(a, pub, "/r", "m", "id-1");
      assert.equal(ok.successful, true, JSON.stringify(ok));
      const { got } = await collect(a, sub, 1);
      assert.deepEqual(got, ["m"]);
      assert.equal(a.channelLog?.stats.failed, 1);
    });

    it("an adopted ack session gets what was published while no node held it, once, in order", async () => {
      const { servers, crash } = await nodes(3);
      const [a, b, c] = servers;
      const clientId = await client(a, "/h", true);
      const pub = await client(c, "/x", false);
      for (const n of [1, 2]) await publish(c, pub, "/h", n);
      const first = await collect(a, clientId, 2);
      assert.deepEqual(first.got, [1, 2]);
      await publish(c, pub, "/h", 3);
      await until(() => a.getSession(clientId)?.hasPending === true, 5000, "3 queued on a");
      await crash(0);
      // The hole: a is gone, nobody holds the session.
      for (const n of [4, 5, 6]) await publish(c, pub, "/h", n);
      await publish(c, pub, "/other", "not subscribed");
      const adopted = await collect(b, clientId, 4, first.batch);
      assert.deepEqual(adopted.got, [3, 4, 5, 6], "kept, then the hole, each once");
      await publish(c, pub, "/h", 7);
      const live = await collect(b, clientId, 1, adopted.batch);
      assert.deepEqual(live.got, [7]);
      const quiet = await poll(b, clientId, live.batch as number);
      assert.deepEqual(quiet.data, [], "nothing twice");
    });

    it("a burst of adoptions shares its reads of the log", async () => {
      const { servers, crash } = await nodes(2);
      const [a, b] = servers;
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await client(a, "/s", true));
      const pub = await client(b, "/x", false);
      await crash(0);
      for (const n of [1, 2, 3]) await publish(b, pub, "/s", n);
      const before = b.channelLog?.readStats ?? { requests: 0, reads: 0, coalesced: 0 };
      const all = await Promise.all(ids.map((id) => collect(b, id, 3, 0)));
      for (const { got } of all) assert.deepEqual(got, [1, 2, 3]);
      const stats = b.channelLog?.readStats ?? before;
      assert.equal(stats.requests - before.requests, 20, "one read asked per adoption");
      assert.ok(stats.reads - before.reads <= 3, `reads shared: ${JSON.stringify(stats)}`);
    });

    it("a floor trimmed from the log replays what the log still holds after it", async () => {
      const { servers, crash } = await nodes(2, { maxLength: 5 });
      const [a, b] = servers;
      const clientId = await client(a, "/t", true);
      const pub = await client(b, "/x", false);
      await publish(b, pub, "/t", "seen");
      const first = await collect(a, clientId, 1);
      assert.deepEqual(first.got, ["seen"]);
      // The floor's entry goes: more than maxLength publishes elsewhere.
      for (let n = 0; n < 8; n++) await publish(b, pub, "/noise", n);
      await crash(0);
      await publish(b, pub, "/t", "missed");
      const adopted = await collect(b, clientId, 1, first.batch);
      assert.deepEqual(adopted.got, ["missed"]);
    });

    it("an idle ack session's recorded floor follows the log", async () => {
      // A short session lifetime: the record is refreshed every 100 ms of connects.
      const { servers, backends } = await nodes(1, { server: { timeout: 300, sessionGrace: 0 } });
      const [a] = servers;
      const clientId = await client(a, "/i", true);
      const pub = await client(a, "/x", false);
      for (let n = 0; n < 3; n++) await publish(a, pub, "/elsewhere", n);
      await until(() => a.channelLog?.stats.followed === 3, 5000, "followed");
      const position = a.channelLog?.position;
      assert.ok(position);
      await untilAsync(
        async () => {
          await poll(a, clientId, 0);
          const record = await backends.store.get(clientId);
          return (record?.data.ack as { floor?: string } | undefined)?.floor === position;
        },
        5000,
        "the record's floor to reach the position",
      );
    });
  });
}

suite("memory", async () => {
  const hub = new MemoryBrokerHub();
  let unique = 0;
  return {
    broker: async (i) => hub.connect(`mem-${i}-${unique++}`),
    store: new MemorySessionStore(),
    ackLog: new MemoryMessageLog(),
    channelLog: (options = {}) => new MemoryMessageLog(options),
    close: async () => {},
  };
});

describe("the channel log's follow never starts (the log unreachable since start-up)", () => {
  it("a publish fails with ERR_BAYEUX_CHANNEL_LOG after the wait instead of hanging", async () => {
    const inner = new MemoryMessageLog();
    const never: MessageLog = Object.assign(Object.create(inner), {
      follow: (): LogFollower => ({ ready: new Promise(() => {}), position: "", close() {} }),
    });
    const log = new ChannelLog({
      log: never,
      nodeId: "n",
      dedupeWindow: 0,
      deliver() {},
      startWait: 50,
    });
    const started = Date.now();
    await assert.rejects(
      log.append(Delivery.encoded({ channel: "/a", data: 1 })),
      (err: Error & { code?: string }) => err.code === "ERR_BAYEUX_CHANNEL_LOG",
    );
    assert.ok(Date.now() - started < 2000);
    log.close();
    await inner.close();
  });
});

/** A memory log whose appends are stored at once but answered only on `release()` (a slow store). */
class HeldLog extends RefusingLog {
  /** Appends issued (stored) so far. */
  issued = 0;
  #answers: Array<() => void> = [];
  #released = false;
  override async appendOnce(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): Promise<AppendOnceResult> {
    const stored = super.appendOnce(stream, payload, key, window);
    await this.#answer();
    return stored;
  }
  override async append(stream: string, payload: Uint8Array): Promise<string> {
    const stored = super.append(stream, payload);
    await this.#answer();
    return stored;
  }
  /** Answers every append held, and later ones at once. */
  release(): void {
    this.#released = true;
    for (const answer of this.#answers.splice(0)) answer();
  }
  #answer(): Promise<void> {
    this.issued++;
    if (this.#released) return Promise.resolve();
    return new Promise((resolve) => this.#answers.push(resolve));
  }
}

describe("publishing over one websocket through a slow channel log", () => {
  it("pipelines: the publishes of one connection wait for the store together, replies in order", async () => {
    const inner = new MemoryMessageLog();
    const held = new HeldLog(inner);
    const run = await startServer({ channelLog: held });
    const peer = await new WsPeer(run.wsUrl).open();
    try {
      peer.send([{ ...HANDSHAKE, supportedConnectionTypes: ["websocket"] }]);
      const hs = await peer.next((m) => m.channel === "/meta/handshake");
      const clientId = hs.clientId as string;
      peer.send([{ channel: "/meta/subscribe", clientId, subscription: "/p" }]);
      await peer.next((m) => m.channel === "/meta/subscribe");
      peer.send([{ channel: "/meta/connect", clientId, connectionType: "websocket" }]);
      await peer.next((m) => m.channel === "/meta/connect");
      for (let n = 0; n < 10; n++) {
        peer.send([{ channel: "/p", clientId, data: n, id: `p${n}` }]);
      }
      // One after another, the second would be issued only once the first is answered.
      await until(() => held.issued === 10, 5000, "all 10 appends issued, none answered yet");
      const isReply = (m: BayeuxMessage) => m.channel === "/p" && m.successful !== undefined;
      assert.equal(peer.received.filter(isReply).length, 0, "no reply before the store answers");
      held.release();
      const replies: unknown[] = [];
      for (let n = 0; n < 10; n++) replies.push((await peer.next(isReply)).id);
      assert.deepEqual(
        replies,
        Array.from({ length: 10 }, (_, n) => `p${n}`),
        "in frame order",
      );
      const data: unknown[] = [];
      for (let n = 0; n < 10; n++) {
        data.push((await peer.next((m) => m.channel === "/p" && m.data !== undefined)).data);
      }
      assert.deepEqual(
        data,
        Array.from({ length: 10 }, (_, n) => n),
        "delivered in order",
      );
    } finally {
      await peer.close();
      await run.close();
      await run.bayeux.close();
      await inner.close();
    }
  });
});

/** Backends on a Redis (`url`) or a Redis Cluster (`rootNodes`), under a prefix of their own. */
async function redisBackends(target: { url: string } | { rootNodes: string[] }): Promise<Backends> {
  const prefix = uniquePrefix("bayeux-chlog");
  const redis = await connectRedis(target);
  const logs: MessageLog[] = [];
  const logged = (log: MessageLog) => {
    logs.push(log);
    return log;
  };
  return {
    broker: () =>
      connectTestBroker(
        "url" in target
          ? { url: target.url, prefix }
          : { cluster: { rootNodes: target.rootNodes.map((url) => ({ url })) }, prefix },
      ),
    store: new RedisSessionStore(redis, { prefix }),
    ackLog: logged(new RedisMessageLog(redis, { prefix })),
    channelLog: (options = {}) => logged(new RedisMessageLog(redis, { prefix, ...options })),
    async close() {
      for (const log of logs) await log.close();
      await closeRedis(redis);
    },
  };
}

describe("on a single Redis", { skip: await redisSkip("shared") }, () => {
  suite("single Redis", () => redisBackends({ url: REDIS_URL }));
});

await describeOnRedisCluster((servers) => {
  suite("3-master Redis Cluster", () => redisBackends({ rootNodes: servers().rootNodes }));
});
