/**
 * The client against a real Faye 1.4 server over long-polling and
 * websocket: handshake, subscribe (wildcards too), publish with reply,
 * receive, unsubscribe, disconnect.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type BayeuxClient,
  BayeuxReplyError,
  type DeliveredMessage,
} from "../../src/bayeux/client/index.js";
import { delay, type FayeServer, nextValue, startFaye, testClient, waitFor } from "./helpers.js";

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`against faye over ${transport}`, { timeout: 20_000 }, () => {
    let server: FayeServer;
    const clients: BayeuxClient[] = [];
    const client = () => {
      const c = testClient(server.url, transport);
      clients.push(c);
      return c;
    };

    before(async () => {
      server = await startFaye();
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.disconnect()));
      await server.close();
    });

    test("handshake connects over the requested transport", async () => {
      const a = client();
      const events: string[] = [];
      a.on("connected", () => events.push("connected"));
      await a.init();
      assert.equal(a.state, "connected");
      assert.equal(a.connectionType, transport);
      assert.equal(typeof a.clientId, "string");
      assert.deepEqual(events, ["connected"]);
      // A second call while connected resolves at once.
      await a.handshake();
    });

    test("publish resolves with the server's reply and subscribers receive it", async () => {
      const a = client();
      const b = client();
      await Promise.all([a.init(), b.init()]);
      const received = nextValue<DeliveredMessage>((cb) => void b.subscribe("/chat/demo", cb));
      await waitFor(() => b.state === "connected");
      await delay(50);
      const reply = await a.publish("/chat/demo", { user: "POE", chat: "POE has joined" });
      assert.equal(reply.successful, true);
      assert.equal(reply.channel, "/chat/demo");
      const message = await received;
      assert.equal(message.channel, "/chat/demo");
      assert.deepEqual(message.data, { user: "POE", chat: "POE has joined" });
    });

    test("subscribe resolves on acknowledgement; wildcards match one or many segments", async () => {
      const a = client();
      const b = client();
      await Promise.all([a.init(), b.init()]);
      const one: string[] = [];
      const many: string[] = [];
      const exact: string[] = [];
      const s1 = await b.subscribe("/w/*", (m) => one.push(m.channel));
      const s2 = await b.subscribe("/w/**", (m) => many.push(m.channel));
      await b.subscribe("/w/x", (m) => exact.push(m.channel));
      assert.equal(s1.active, true);
      assert.equal(s2.channel, "/w/**");
      await a.publish("/w/x", 1);
      await a.publish("/w/x/y", 2);
      await waitFor(() => many.length === 2 && one.length === 1 && exact.length === 1);
      assert.deepEqual(one, ["/w/x"]);
      assert.deepEqual(many.sort(), ["/w/x", "/w/x/y"]);
    });

    test("unsubscribe and cancel stop deliveries", async () => {
      const a = client();
      const b = client();
      await Promise.all([a.init(), b.init()]);
      const got: unknown[] = [];
      const sub = await b.subscribe("/u/one", (m) => got.push(m.data));
      const fn = (m: DeliveredMessage) => got.push(m.data);
      await b.subscribe("/u/two", fn);
      await a.publish("/u/one", "a1");
      await a.publish("/u/two", "a2");
      await waitFor(() => got.length === 2);
      await sub.cancel();
      assert.equal(sub.active, false);
      await b.unsubscribe("/u/two", fn);
      // A marker on a third channel proves later messages would have arrived by now.
      const marker = nextValue<DeliveredMessage>((cb) => void b.subscribe("/u/marker", cb));
      await delay(50);
      await a.publish("/u/one", "late1");
      await a.publish("/u/two", "late2");
      await a.publish("/u/marker", "m");
      await marker;
      assert.deepEqual(got.sort(), ["a1", "a2"]);
    });

    test("a refused publish rejects with the Bayeux error", async () => {
      const a = client();
      await a.init();
      const errors: unknown[] = [];
      a.on("error", (err) => errors.push(err));
      server.adapter.addExtension({
        incoming(message, callback) {
          if (message.channel === "/refused") message.error = "403::Publish denied";
          callback(message);
        },
      });
      const err = await a.publish("/refused", 1).then(
        () => assert.fail("should reject"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof BayeuxReplyError);
      assert.equal(err.code, "ERR_BAYEUX_REPLY");
      assert.equal(err.bayeuxError?.code, 403);
      assert.equal(err.bayeuxError?.message, "Publish denied");
      assert.equal(errors.length, 1);
    });

    test("invalid channels are refused before anything is sent", async () => {
      const a = client();
      await assert.rejects(a.publish("/meta/handshake", 1), { code: "ERR_BAYEUX_CHANNEL_INVALID" });
      await assert.rejects(a.publish("/a/*", 1), { code: "ERR_BAYEUX_CHANNEL_INVALID" });
      await assert.rejects(a.publish("no-slash", 1), { code: "ERR_BAYEUX_CHANNEL_INVALID" });
      await assert.rejects(
        a.subscribe("/a/**/b", () => {}),
        { code: "ERR_BAYEUX_CHANNEL_INVALID" },
      );
      assert.equal(a.state, "disconnected");
    });

    test("disconnect ends the session on the server", async () => {
      const a = client();
      await a.init();
      const clientId = a.clientId as string;
      const closed = nextValue<string>((cb) => server.adapter.on("disconnect", cb));
      await a.disconnect();
      assert.equal(a.state, "disconnected");
      assert.equal(a.clientId, null);
      assert.equal(await closed, clientId);
    });
  });
}
