/**
 * The client against Switchboard's own Bayeux server (src/bayeux), over
 * long-polling and websocket: the everyday verbs, reconnect(), a session the
 * server ends, and, with the acknowledgement extension, connections cut in
 * the middle of a stream without a message lost or delivered twice.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { BayeuxClient, DeliveredMessage } from "../../src/bayeux/client/index.js";
import {
  delay,
  nextValue,
  type SwitchboardServer,
  startSwitchboard,
  testClient,
  waitFor,
} from "./helpers.js";

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`against switchboard over ${transport}`, { timeout: 30_000 }, () => {
    let server: SwitchboardServer;
    const clients: BayeuxClient[] = [];
    const client = (options = {}) => {
      const c = testClient(server.url, transport, options);
      clients.push(c);
      return c;
    };

    before(async () => {
      server = await startSwitchboard({ timeout: 2000 });
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.disconnect()));
      await server.close();
    });

    test("handshake, subscribe with wildcards, publish with reply, receive, unsubscribe", async () => {
      const a = client();
      const b = client();
      await Promise.all([a.init(), b.init()]);
      assert.equal(b.connectionType, transport);
      assert.equal(b.ackExtension?.enabled, true);
      const got: string[] = [];
      const sub = await b.subscribe("/sb/*", (m) => got.push(`*:${m.channel}`));
      await b.subscribe("/sb/**", (m) => got.push(`**:${m.channel}`));
      const reply = await a.publish("/sb/x", { n: 1 });
      assert.equal(reply.successful, true);
      await a.publish("/sb/x/y", { n: 2 });
      await waitFor(() => got.length === 3);
      assert.deepEqual(got.sort(), ["**:/sb/x", "**:/sb/x/y", "*:/sb/x"]);
      await sub.cancel();
      await b.unsubscribe("/sb/**");
      const marker = nextValue<DeliveredMessage>((cb) => void b.subscribe("/sb-marker", cb));
      await delay(50);
      await a.publish("/sb/x", "late");
      await a.publish("/sb-marker", "m");
      await marker;
      assert.equal(got.length, 3);
    });

    test("a refused subscription rejects with the server's error", async () => {
      const a = client();
      await a.init();
      server.bayeux.addExtension({
        incoming(message) {
          if (message.channel === "/meta/subscribe" && message.subscription === "/sb-denied") {
            message.error = "403::Subscribe denied";
          }
        },
      });
      await assert.rejects(
        a.subscribe("/sb-denied", () => {}),
        (err: unknown) => {
          assert.equal((err as { code: string }).code, "ERR_BAYEUX_REPLY");
          assert.equal((err as { bayeuxError: { code: number } }).bayeuxError.code, 403);
          return true;
        },
      );
    });

    test("reconnect() and a server-ended session both restore subscriptions", async () => {
      const a = client();
      const b = client();
      await Promise.all([a.init(), b.init()]);
      const got: unknown[] = [];
      await b.subscribe("/sb/restore", (m) => got.push(m.data));
      await b.reconnect();
      await delay(50);
      await a.publish("/sb/restore", "after-reconnect");
      await waitFor(() => got.length === 1, 5000, "delivery after reconnect()");
      const before = b.clientId as string;
      const back = nextValue<string>((cb) => b.once("connected", cb), 8000);
      assert.equal(server.bayeux.disconnectClient(before), true);
      assert.notEqual(await back, before);
      await delay(50);
      await a.publish("/sb/restore", "after-402");
      await waitFor(() => got.length === 2, 5000, "delivery after rehandshake");
      assert.deepEqual(got, ["after-reconnect", "after-402"]);
    });

    test("connections cut mid-stream: with acks nothing is lost or delivered twice", async () => {
      const publisher = client();
      const b = client();
      await Promise.all([publisher.init(), b.init()]);
      assert.equal(b.ackExtension?.enabled, true);
      const received: number[] = [];
      let drops = 0;
      b.on("disconnected", () => drops++);
      await b.subscribe("/sb/stream", (m) => received.push(m.data as number));
      const total = 150;
      const replies: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        replies.push(publisher.publish("/sb/stream", i));
        if (i === 50 || i === 100) server.cutConnections();
        if (i % 10 === 0) await delay(5);
      }
      await Promise.all(replies);
      await waitFor(() => received.length >= total, 15_000, `${total} deliveries`);
      await delay(200);
      assert.ok(drops >= 1, "the subscriber lost its connection");
      assert.equal(received.length, total, "no duplicates");
      assert.deepEqual(
        [...received].sort((x, y) => x - y),
        Array.from({ length: total }, (_, i) => i),
        "every message exactly once",
      );
    });
  });
}
