/**
 * Idempotent publish across nodes: a client's publish resent with the same
 * `id` (its reply lost, the batch sent again, to the same node or another
 * one behind a round-robin balancer) is delivered once, and the resend gets
 * the first one's successful reply. Two nodes with forwarding, on memory
 * backends and on the shared Redis (where claims are Redis keys).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { BayeuxServerOptions } from "../../src/bayeux/index.js";
import type { Broker } from "../../src/cluster/index.js";
import { MemoryBrokerHub } from "../../src/cluster/index.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import { closeRedis, connectRedis, type RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisSessionStore } from "../../src/cluster/redis-session-store.js";
import type { SessionStore } from "../../src/cluster/session-store.js";
import { connected, post, type Running, startServer } from "../bayeux/helpers.js";
import { faye, shutdown } from "../helpers/faye.js";
import {
  countKeys,
  eventually,
  REDIS_URL,
  redisSkip,
  uniquePrefix,
} from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";
import { connectTestBroker } from "./nodes-backends.js";

const T = { timeout: 30_000 };

interface Backend {
  broker(): Broker | Promise<Broker>;
  store: SessionStore;
  /** Claims of `clientId` held by the backend, when it can count them. */
  claims?(clientId: string): Promise<number>;
  close(): Promise<void>;
}

let unique = 0;

interface DroppingProxy {
  url: string;
  /** Requests passed to a node. */
  forwarded: number;
  /** Replies dropped. */
  dropped: number;
  close(): Promise<void>;
}

/**
 * A round-robin proxy to `urls` that drops the reply of the first request
 * whose body passes `drop`: the node answered, the client never hears it
 * (as when a connection breaks on the way back), so the client resends.
 */
async function startDroppingProxy(
  urls: string[],
  drop: (body: string) => boolean,
): Promise<DroppingProxy> {
  let next = 0;
  const state = { forwarded: 0, dropped: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString();
      const target = urls[next++ % urls.length];
      state.forwarded++;
      const answer = await fetch(target, {
        method: req.method,
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        body: req.method === "POST" ? body : undefined,
      }).catch(() => null);
      const text = answer ? await answer.text() : "";
      if (answer === null || (state.dropped === 0 && drop(body))) {
        if (answer !== null) state.dropped++;
        res.destroy();
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(text);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${new URL(urls[0]).pathname}`,
    get forwarded() {
      return state.forwarded;
    },
    get dropped() {
      return state.dropped;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function suite(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`idempotent publish on two nodes (${name})`, () => {
    let backend: Backend;
    const runs: Running[] = [];
    const brokers: Broker[] = [];

    async function start(options: BayeuxServerOptions = {}): Promise<[Running, Running]> {
      const pair: Running[] = [];
      for (let i = 0; i < 2; i++) {
        const broker = await backend.broker();
        brokers.push(broker);
        const run = await startServer({
          broker,
          sessionStore: backend.store,
          forward: true,
          ...options,
        });
        runs.push(run);
        pair.push(run);
      }
      return pair as [Running, Running];
    }

    before(async () => {
      backend = await makeBackend();
    });

    after(async () => {
      for (const [i, run] of runs.entries()) {
        await run.bayeux.close();
        await run.close();
        await brokers[i].close();
      }
      await backend.close();
    });

    /** Listeners on both nodes; what each heard. */
    async function listen(pair: Running[], channel: string): Promise<unknown[][]> {
      const heard = pair.map(() => [] as unknown[]);
      for (const [i, run] of pair.entries()) {
        run.bayeux.subscribe(channel, (data) => heard[i].push(data));
      }
      await Promise.all(pair.map((run) => run.bayeux.hub.settled()));
      return heard;
    }

    /**
     * A server publish from each node after the client's: once every node
     * heard both, nothing published before is still coming (each node's
     * messages arrive in order). Returns what each node heard, sorted, fences out.
     */
    async function fence(
      pair: Running[],
      channel: string,
      heard: unknown[][],
    ): Promise<string[][]> {
      for (const [i, run] of pair.entries()) run.bayeux.publish(channel, `fence${i}`);
      await until(
        () => heard.every((h) => pair.every((_, i) => h.includes(`fence${i}`))),
        10_000,
        "fence",
      );
      return heard.map((h) =>
        h
          .filter((d) => !String(d).startsWith("fence"))
          .map((d) => JSON.stringify(d))
          .sort(),
      );
    }

    it(
      "delivers a publish resent with the same id once, on its node and on another",
      T,
      async () => {
        const pair = await start();
        const [a, b] = pair;
        const channel = `/dedupe/c${++unique}`;
        const heard = await listen(pair, channel);
        const clientId = await connected(a.url);
        const publish = { channel, clientId, id: "p1", data: { n: 1 } };
        const first = await post(a.url, [publish]);
        const again = await post(a.url, [publish]);
        const elsewhere = await post(b.url, [publish]);
        assert.deepEqual(first.json(), [{ channel, id: "p1", successful: true }]);
        assert.deepEqual(again.json(), first.json(), "the resend's reply is the first one's");
        assert.deepEqual(elsewhere.json(), first.json(), "also from another node");
        // Another id of the same client, and the same id of another client, are new.
        await post(b.url, [{ ...publish, id: "p2", data: { n: 2 } }]);
        const other = await connected(b.url);
        await post(b.url, [{ ...publish, clientId: other, data: { n: 3 } }]);
        for (const h of await fence(pair, channel, heard)) {
          assert.deepEqual(h, ['{"n":1}', '{"n":2}', '{"n":3}']);
        }
      },
    );

    it(
      "a Faye client whose publish reply is lost resends it; it is delivered once",
      T,
      async () => {
        const pair = await start();
        const channel = `/dedupe/faye${++unique}`;
        const heard = await listen(pair, channel);
        const proxy = await startDroppingProxy(
          pair.map((r) => r.url),
          (body) => body.includes(`"channel":"${channel}"`) && body.includes('"data"'),
        );
        const client = new faye.Client(proxy.url, { retry: 0.1, timeout: 5 });
        client.disable("websocket");
        let publishes = 0;
        client.addExtension({
          outgoing(m: { channel: string }, cb: (m: unknown) => void) {
            if (m.channel === channel) publishes++;
            cb(m);
          },
        });
        try {
          await client.publish(channel, { n: 1 });
          assert.equal(proxy.dropped, 1, "the first reply was dropped");
          assert.ok(proxy.forwarded >= 2, "the publish went out again");
          for (const h of await fence(pair, channel, heard)) assert.deepEqual(h, ['{"n":1}']);
          assert.equal(publishes, 1, "one publish (Faye resends the same message)");
        } finally {
          await shutdown(client);
          await proxy.close();
        }
      },
    );

    it("a publish that failed can be resent and then goes through", T, async () => {
      let deny = true;
      const pair = await start({ policy: { canPublish: () => !deny } });
      const channel = `/dedupe/c${++unique}`;
      const heard = await listen(pair, channel);
      const clientId = await connected(pair[0].url);
      const publish = { channel, clientId, id: "p1", data: "x" };
      const [denied] = (await post(pair[0].url, [publish])).json();
      assert.equal(denied.successful, false);
      deny = false;
      const [allowed] = (await post(pair[1].url, [publish])).json();
      assert.equal(allowed.successful, true);
      for (const h of await fence(pair, channel, heard)) assert.deepEqual(h, ['"x"']);
    });

    it("publishDedupeWindow 0 delivers every resend", T, async () => {
      const pair = await start({ publishDedupeWindow: 0 });
      const channel = `/dedupe/c${++unique}`;
      const heard = await listen(pair, channel);
      const clientId = await connected(pair[0].url);
      const publish = { channel, clientId, id: "p1", data: "x" };
      await post(pair[0].url, [publish]);
      await post(pair[1].url, [publish]);
      for (const h of await fence(pair, channel, heard)) assert.deepEqual(h, ['"x"', '"x"']);
    });

    if (name === "Redis") {
      it("keeps each claim in Redis for the window only", T, async () => {
        const pair = await start({ publishDedupeWindow: 300 });
        const channel = `/dedupe/c${++unique}`;
        const heard = await listen(pair, channel);
        const clientId = await connected(pair[0].url);
        const publish = { channel, clientId, id: "short", data: "x" };
        await post(pair[0].url, [publish]);
        assert.equal(await backend.claims?.(clientId), 1, "one claim key");
        await eventually(async () => (await backend.claims?.(clientId)) === 0, "expiry", 3000);
        await post(pair[1].url, [publish]);
        for (const h of await fence(pair, channel, heard)) {
          assert.deepEqual(h, ['"x"', '"x"'], "claimable again");
        }
      });
    }
  });
}

suite("memory", async () => {
  const hub = new MemoryBrokerHub();
  const store = new MemorySessionStore();
  return { broker: () => hub.connect(), store, close: () => store.close() };
});

describe("on the shared Redis", { skip: await redisSkip("shared") }, () => {
  suite("Redis", async () => {
    const prefix = uniquePrefix("bayeux-dedupe");
    const redis: RedisConnection = await connectRedis({ url: REDIS_URL });
    return {
      broker: () => connectTestBroker({ url: REDIS_URL, prefix }),
      store: new RedisSessionStore(redis, { prefix }),
      claims: (clientId) => countKeys([REDIS_URL], `${prefix}pub:{${clientId}}:`),
      close: () => closeRedis(redis),
    };
  });
});
