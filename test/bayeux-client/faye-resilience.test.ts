/**
 * Resilience against a real Faye 1.4 server, over long-polling and
 * websocket: reconnect() restoring subscriptions, a session ended inside
 * Faye's engine (unknown client, advice "handshake"), cut connections, a
 * server restart with publishes queued meanwhile, the offline queue's limit,
 * and backoff delays.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import {
  BayeuxClient,
  type DeliveredMessage,
  OfflineQueueFullError,
} from "../../src/bayeux/client/index.js";
import { delay, nextValue, startFaye, testClient, waitFor } from "./helpers.js";

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`resilience against faye over ${transport}`, { timeout: 30_000 }, () => {
    test("reconnect() gets a new session and restores subscriptions", async () => {
      const server = await startFaye();
      const a = testClient(server.url, transport);
      const b = testClient(server.url, transport);
      try {
        await Promise.all([a.init(), b.init()]);
        const got: unknown[] = [];
        await b.subscribe("/r/x", (m) => got.push(m.data));
        const before = b.clientId;
        await b.reconnect();
        assert.equal(b.state, "connected");
        assert.notEqual(b.clientId, before);
        await waitFor(() => b.clientId !== null);
        // The subscription is back on the server once its acknowledgement came.
        await delay(100);
        await a.publish("/r/x", "after");
        await waitFor(() => got.length === 1, 5000, "delivery after reconnect");
        assert.deepEqual(got, ["after"]);
      } finally {
        await Promise.all([a.disconnect(), b.disconnect()]);
        await server.close();
      }
    });

    test("a session ended by the server leads to a new handshake with subscriptions restored", async () => {
      const server = await startFaye({ timeout: 1 });
      const a = testClient(server.url, transport);
      const b = testClient(server.url, transport);
      try {
        await Promise.all([a.init(), b.init()]);
        const got: unknown[] = [];
        await b.subscribe("/s/**", (m) => got.push(m.data));
        const first = b.clientId as string;
        const connected = nextValue<string>((cb) => b.once("connected", cb), 8000);
        server.destroyClient(first);
        const second = await connected;
        assert.notEqual(second, first);
        await delay(100);
        await a.publish("/s/t/u", "restored");
        await waitFor(() => got.length === 1, 5000, "delivery after rehandshake");
        assert.deepEqual(got, ["restored"]);
      } finally {
        await Promise.all([a.disconnect(), b.disconnect()]);
        await server.close();
      }
    });

    test("cut connections: the client reconnects and keeps receiving", async () => {
      const server = await startFaye();
      const a = testClient(server.url, transport);
      const b = testClient(server.url, transport);
      try {
        await Promise.all([a.init(), b.init()]);
        const got: unknown[] = [];
        await b.subscribe("/c", (m) => got.push(m.data));
        const events: string[] = [];
        b.on("disconnected", () => events.push("disconnected"));
        b.on("reconnecting", () => events.push("reconnecting"));
        const back = nextValue<string>((cb) => b.once("connected", cb), 8000);
        server.cutConnections();
        await back;
        assert.ok(events.includes("disconnected"));
        assert.ok(events.includes("reconnecting"));
        await waitFor(() => a.state === "connected");
        await a.publish("/c", "after-cut");
        await waitFor(() => got.includes("after-cut"), 5000, "delivery after cut");
      } finally {
        await Promise.all([a.disconnect(), b.disconnect()]);
        await server.close();
      }
    });

    test("publishes made while the server is down are queued and delivered after a restart", async () => {
      const first = await startFaye();
      const port = Number(new URL(first.url).port);
      const b = testClient(first.url, transport);
      // The publisher comes back well after the subscriber, whose
      // subscription must be restored before the queued messages arrive
      // (a Bayeux server keeps no messages for channels nobody holds).
      const publisher = testClient(first.url, transport, {
        backoff: { initialDelay: 1000, maxDelay: 1000 },
        random: () => 0.999,
      });
      let second: Awaited<ReturnType<typeof startFaye>> | null = null;
      try {
        await Promise.all([b.init(), publisher.init()]);
        const got: unknown[] = [];
        await b.subscribe("/q", (m: DeliveredMessage) => got.push(m.data));
        const lost = nextValue<Error | null>((cb) => publisher.once("disconnected", cb), 8000);
        await first.close();
        await lost;
        assert.notEqual(publisher.state, "connected");
        const replies = [publisher.publish("/q", 1), publisher.publish("/q", 2)];
        await delay(50);
        assert.equal(publisher.queuedPublishes, 2);
        second = await startFaye({ port });
        // The new server does not know either client: both handshake again,
        // b resubscribes, then the queued publishes go out.
        const results = await Promise.all(replies);
        assert.ok(results.every((r) => r.successful === true));
        await waitFor(() => got.length === 2, 8000, "queued publishes delivered");
        assert.deepEqual(got, [1, 2]);
      } finally {
        await Promise.all([b.disconnect(), publisher.disconnect()]);
        await second?.close();
      }
    });
  });
}

describe("offline queue and backoff", { timeout: 20_000 }, () => {
  test("publishes before init are queued; past the limit they are refused", async () => {
    const server = await startFaye();
    const failed: unknown[] = [];
    const a = testClient(server.url, "long-polling", {
      offlineQueueLimit: 2,
      errorCallback: (message) => failed.push(message.data),
    });
    const b = testClient(server.url, "long-polling");
    try {
      await b.init();
      const got: unknown[] = [];
      await b.subscribe("/oq", (m) => got.push(m.data));
      const p1 = a.publish("/oq", "one");
      const p2 = a.publish("/oq", "two");
      await assert.rejects(a.publish("/oq", "three"), (err: unknown) => {
        assert.ok(err instanceof OfflineQueueFullError);
        assert.equal(err.code, "ERR_LIMIT_EXCEEDED");
        assert.equal(err.max, 2);
        return true;
      });
      assert.deepEqual(failed, ["three"]);
      assert.equal(a.queuedPublishes, 2);
      await a.init();
      await Promise.all([p1, p2]);
      await waitFor(() => got.length === 2);
      assert.deepEqual(got, ["one", "two"]);
      assert.equal(a.queuedPublishes, 0);
    } finally {
      await Promise.all([a.disconnect(), b.disconnect()]);
      await server.close();
    }
  });

  test("disconnect() rejects queued publishes", async () => {
    const a = new BayeuxClient("http://127.0.0.1:9/bayeux");
    const pending = a.publish("/x", 1);
    await a.disconnect();
    await assert.rejects(pending, { code: "ERR_BAYEUX_DISCONNECTED" });
  });

  test("an unreachable server is retried with exponential backoff and full jitter", async () => {
    // A port that refuses connections: listen, note it, close.
    const probe = createServer();
    probe.listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await once(probe, "close");

    const a = new BayeuxClient(`http://127.0.0.1:${port}/bayeux`, {
      transports: ["websocket", "long-polling"],
      backoff: { initialDelay: 40, maxDelay: 160, factor: 2 },
      random: () => 0.999,
    });
    const delays: number[] = [];
    const attempts: number[] = [];
    const stamps: number[] = [];
    a.on("reconnecting", (ms, attempt) => {
      delays.push(ms);
      attempts.push(attempt);
      stamps.push(Date.now());
    });
    const connecting = a.init().catch((err: Error) => err);
    await waitFor(() => delays.length >= 5, 8000, "five retries");
    await a.disconnect();
    assert.equal(((await connecting) as Error).name, "BayeuxDisconnectedError");
    // Each round tries websocket then long-polling at once, then waits
    // floor(0.999 * min(160, 40 * 2^n)).
    assert.deepEqual(delays.slice(0, 5), [39, 79, 159, 159, 159]);
    assert.deepEqual(attempts.slice(0, 5), [1, 2, 3, 4, 5]);
    for (let i = 1; i < 5; i++) {
      assert.ok(stamps[i] - stamps[i - 1] >= delays[i - 1] - 5, `gap ${i} honours the delay`);
    }
  });
});
