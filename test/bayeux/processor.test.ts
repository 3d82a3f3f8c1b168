/** The processor without any transport: `server.process(messages, context) -> replies`. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BayeuxExtension, BayeuxServer } from "../../src/bayeux/index.js";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { until } from "../socketio/raw-clients.js";
import { HANDSHAKE, LONG_POLLING, transportFreeServers } from "./helpers.js";

const LP = LONG_POLLING;
const make = transportFreeServers({ timerResolution: 10 });

async function replies(server: BayeuxServer, messages: unknown[]): Promise<BayeuxMessage[]> {
  const result = await server.process(messages, LP);
  return result.replies;
}

async function client(server: BayeuxServer, ext?: Record<string, unknown>): Promise<string> {
  const [reply] = await replies(server, [{ ...HANDSHAKE, ext }]);
  assert.equal(reply.successful, true, JSON.stringify(reply));
  const clientId = reply.clientId!;
  await replies(server, [{ channel: "/meta/connect", clientId, connectionType: "long-polling" }]);
  return clientId;
}

function connectMessage(clientId: string, extra: Record<string, unknown> = {}) {
  return { channel: "/meta/connect", clientId, connectionType: "long-polling", id: "c", ...extra };
}

describe("bayeux processor: /meta/handshake", () => {
  it("answers with version, connection types, a clientId and advice", async () => {
    const server = make({ timeout: 1234 });
    const [reply] = await replies(server, [HANDSHAKE]);
    assert.equal(reply.channel, "/meta/handshake");
    assert.equal(reply.id, "h1");
    assert.equal(reply.successful, true);
    assert.equal(reply.version, "1.0");
    assert.equal(reply.minimumVersion, "1.0");
    assert.deepEqual(reply.supportedConnectionTypes, [
      "long-polling",
      "callback-polling",
      "websocket",
    ]);
    assert.deepEqual(reply.advice, { reconnect: "retry", interval: 0, timeout: 1234 });
    assert.match(reply.clientId!, /^[A-Za-z0-9]{24}$/);
    assert.equal(server.sessionCount, 1);
  });

  it("gives each client a different id", async () => {
    const server = make();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await replies(server, [HANDSHAKE]))[0].clientId!);
    assert.equal(ids.size, 20);
  });

  for (const [name, message, error] of [
    [
      "missing version",
      { ...HANDSHAKE, version: undefined },
      "402:version:Missing required parameter",
    ],
    ["bad version", { ...HANDSHAKE, version: "one" }, "300:1.0:Version mismatch"],
    [
      "missing connection types",
      { ...HANDSHAKE, supportedConnectionTypes: undefined },
      "402:supportedConnectionTypes:Missing required parameter",
    ],
    [
      "no common connection type",
      { ...HANDSHAKE, supportedConnectionTypes: ["iframe"] },
      "301:long-polling,callback-polling,websocket:Connection types not supported",
    ],
  ] as const) {
    it(`refuses a handshake with ${name}`, async () => {
      const server = make();
      const [reply] = await replies(server, [message]);
      assert.equal(reply.successful, false);
      assert.equal(reply.error, error);
      assert.equal(reply.advice?.reconnect, "handshake");
      assert.equal(server.sessionCount, 0);
    });
  }

  it("applies the handshake policy, with a default or custom error", async () => {
    const server = make({
      policy: {
        canHandshake: async (m) =>
          m.ext?.token === "ok" ? true : m.ext?.token ? "Bad token" : false,
      },
    });
    const [denied] = await replies(server, [HANDSHAKE]);
    assert.equal(denied.error, "403::Handshake denied");
    assert.equal(denied.advice?.reconnect, "none");
    const [custom] = await replies(server, [{ ...HANDSHAKE, ext: { token: "no" } }]);
    assert.equal(custom.error, "403::Bad token");
    const [ok] = await replies(server, [{ ...HANDSHAKE, ext: { token: "ok" } }]);
    assert.equal(ok.successful, true);
  });

  it("refuses handshakes past maxSessions", async () => {
    const server = make({ maxSessions: 2 });
    await replies(server, [HANDSHAKE]);
    await replies(server, [HANDSHAKE]);
    const [third] = await replies(server, [HANDSHAKE]);
    assert.equal(third.error, "503::Server busy");
    assert.equal(server.sessionCount, 2);
  });
});

describe("bayeux processor: /meta/connect", () => {
  it("answers 402 with handshake advice for an unknown client", async () => {
    const server = make();
    const [reply] = await replies(server, [connectMessage("nope")]);
    assert.equal(reply.successful, false);
    assert.equal(reply.error, "402:nope:Unknown client");
    assert.deepEqual(reply.advice, { reconnect: "handshake", interval: 0 });
    const [missing] = await replies(server, [
      { channel: "/meta/connect", connectionType: "long-polling" },
    ]);
    assert.equal(missing.error, "402::Unknown client");
  });

  it("requires a supported connectionType", async () => {
    const server = make({ connectionTypes: ["long-polling", "websocket"] });
    const [hs] = await replies(server, [HANDSHAKE]);
    const [missing] = await replies(server, [{ channel: "/meta/connect", clientId: hs.clientId }]);
    assert.equal(missing.error, "402:connectionType:Missing required parameter");
    const [bad] = await replies(server, [
      connectMessage(hs.clientId!, { connectionType: "callback-polling" }),
    ]);
    assert.match(bad.error!, /^301:callback-polling:/);
  });

  it("answers the first connect at once, then holds until the timeout", async () => {
    const server = make({ timeout: 120 });
    const [hs] = await replies(server, [HANDSHAKE]);
    const first = await server.process([connectMessage(hs.clientId!)], LP);
    assert.equal(first.held, null);
    assert.equal(first.replies[0].successful, true);
    assert.deepEqual(first.replies[0].advice, { reconnect: "retry", interval: 0, timeout: 120 });
    const started = Date.now();
    const second = await server.process([connectMessage(hs.clientId!)], LP);
    assert.deepEqual(second.replies, []);
    assert.ok(second.held);
    const released = await second.held;
    assert.ok(Date.now() - started >= 110, "held for about the timeout");
    assert.equal(released.reply?.successful, true);
    assert.deepEqual(released.deliveries, []);
  });

  it("schedules a held connect to end within the timeout, wheel rounding included", async () => {
    // Clients give up soon after the advised timeout (Faye at 1.2×): a hold
    // rounded up past it would make them abort and retry every connect.
    const server = transportFreeServers({ timerResolution: 100 })({ timeout: 400 });
    const clientId = await client(server);
    const delays: number[] = [];
    const schedule = server.wheel.schedule.bind(server.wheel);
    server.wheel.schedule = (entry, delay) => {
      delays.push(delay);
      schedule(entry, delay);
    };
    const pending = await server.process([connectMessage(clientId)], LP);
    assert.ok(pending.held);
    const hold = delays.at(-1) ?? Number.POSITIVE_INFINITY;
    // The wheel fires at the first tick at or after the delay: at most one resolution later.
    assert.ok(hold + server.wheel.resolution <= 400, `hold scheduled at ${hold} ms`);
    await server.close();
  });

  it("honours a shorter timeout the client asks for", async () => {
    const server = make({ timeout: 5000 });
    const clientId = await client(server);
    const result = await server.process([connectMessage(clientId, { advice: { timeout: 0 } })], LP);
    assert.equal(result.held, null);
    assert.equal(result.replies[0].successful, true);
  });

  it("releases a held connect when a message arrives, carrying it", async () => {
    const server = make({ timeout: 5000 });
    const clientId = await client(server);
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/news" }]);
    const pending = await server.process([connectMessage(clientId)], LP);
    assert.ok(pending.held);
    server.publish("/news", { headline: 1 });
    const released = await pending.held;
    assert.deepEqual(
      released.deliveries.map((d) => d.message),
      [{ channel: "/news", data: { headline: 1 } }],
    );
  });

  it("answers a superseded connect empty and gives the deliveries to the newer one", async () => {
    const server = make({ timeout: 5000 });
    const clientId = await client(server);
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/x" }]);
    const older = await server.process([connectMessage(clientId)], LP);
    const newer = await server.process([connectMessage(clientId)], LP);
    assert.deepEqual((await older.held)?.deliveries, []);
    server.publish("/x", 1);
    assert.equal((await newer.held)?.deliveries.length, 1);
  });

  it("keeps deliveries of an abandoned connect for the next one", async () => {
    const server = make({ timeout: 5000 });
    const clientId = await client(server);
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/x" }]);
    const lost = await server.process([connectMessage(clientId)], LP);
    lost.abandon?.();
    assert.deepEqual((await lost.held)?.deliveries, []);
    server.publish("/x", "kept");
    const next = await server.process([connectMessage(clientId)], LP);
    assert.equal(next.held, null);
    assert.deepEqual(
      next.deliveries.map((d) => d.message.data),
      ["kept"],
    );
  });
});

describe("bayeux processor: subscriptions and publishing", () => {
  it("echoes the subscription, string or array", async () => {
    const server = make();
    const clientId = await client(server);
    const [one] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: "/a", id: 7 },
    ]);
    assert.deepEqual(one, {
      channel: "/meta/subscribe",
      id: 7,
      clientId,
      successful: true,
      subscription: "/a",
    });
    const [many] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: ["/b", "/c/*"] },
    ]);
    assert.deepEqual(many.subscription, ["/b", "/c/*"]);
    assert.equal(many.successful, true);
    const [off] = await replies(server, [
      { channel: "/meta/unsubscribe", clientId, subscription: ["/b"] },
    ]);
    assert.equal(off.successful, true);
    assert.deepEqual(off.subscription, ["/b"]);
    assert.equal(server.router.count(server.getSession(clientId)!), 2);
  });

  for (const [subscription, error] of [
    [undefined, "402:subscription:Missing required parameter"],
    [[], "402:subscription:Missing required parameter"],
    ["no-slash", "405:no-slash:Invalid channel"],
    [["/ok", "/bad/*/x"], "405:/bad/*/x:Invalid channel"],
    ["/meta/connect", "403:/meta/connect:Forbidden channel"],
    ["/meta/**", "403:/meta/**:Forbidden channel"],
  ] as const) {
    it(`refuses subscription ${JSON.stringify(subscription)}`, async () => {
      const server = make();
      const clientId = await client(server);
      const [reply] = await replies(server, [
        { channel: "/meta/subscribe", clientId, subscription },
      ]);
      assert.equal(reply.successful, false);
      assert.equal(reply.error, error);
      assert.equal(server.router.count(server.getSession(clientId)!), 0, "nothing subscribed");
    });
  }

  it("accepts /service subscriptions as a no-op", async () => {
    const server = make();
    const clientId = await client(server);
    const [reply] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: "/service/**" },
    ]);
    assert.equal(reply.successful, true);
    assert.equal(server.router.count(server.getSession(clientId)!), 0);
  });

  it("limits subscriptions per client at maxSubscriptionsPerClient", async () => {
    const server = make({ maxSubscriptionsPerClient: 2 });
    const clientId = await client(server);
    const [ok] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: ["/a", "/b"] },
    ]);
    assert.equal(ok.successful, true);
    const [again] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: "/a" },
    ]);
    assert.equal(again.successful, true, "re-subscribing counts nothing");
    const [over] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: "/c" },
    ]);
    assert.equal(over.error, "403:2:Too many subscriptions");
  });

  it("answers a publish with {channel, id, successful} and delivers to exact and wildcard subscribers once", async () => {
    const server = make();
    const a = await client(server);
    const b = await client(server);
    await replies(server, [
      { channel: "/meta/subscribe", clientId: a, subscription: ["/x/y", "/x/*", "/**"] },
    ]);
    await replies(server, [{ channel: "/meta/subscribe", clientId: b, subscription: "/x/**" }]);
    const result = await server.process(
      [{ channel: "/x/y", clientId: a, data: { n: 1 }, id: "p" }],
      LP,
    );
    assert.deepEqual(result.replies, [{ channel: "/x/y", id: "p", successful: true }]);
    // The publisher is subscribed, so its own reply carries the delivery.
    assert.deepEqual(
      result.deliveries.map((d) => d.message),
      [{ channel: "/x/y", data: { n: 1 }, id: "p" }],
    );
    const forB = await server.process([connectMessage(b)], LP);
    assert.equal(forB.deliveries.length, 1);
    assert.equal(
      forB.deliveries[0],
      result.deliveries[0],
      "one Delivery object shared by recipients",
    );
  });

  for (const [name, message, error] of [
    ["a wildcard channel", { channel: "/a/*", data: 1 }, "405:/a/*:Invalid channel"],
    ["a bad channel", { channel: "a b", data: 1 }, "405:a b:Invalid channel"],
    ["a meta channel", { channel: "/meta/foo", data: 1 }, "403:/meta/foo:Forbidden channel"],
    ["no data", { channel: "/a" }, "402:data:Missing required parameter"],
  ] as const) {
    it(`refuses a publish to ${name}`, async () => {
      const server = make();
      const clientId = await client(server);
      const [reply] = await replies(server, [{ ...message, clientId }]);
      assert.equal(reply.successful, false);
      assert.equal(reply.error, error);
    });
  }

  it("refuses a publish from an unknown client", async () => {
    const server = make();
    const [reply] = await replies(server, [{ channel: "/a", data: 1, clientId: "ghost" }]);
    assert.equal(reply.error, "402:ghost:Unknown client");
    assert.equal(reply.advice?.reconnect, "handshake");
  });

  it("routes /service messages to handlers only, never to /** subscribers", async () => {
    const server = make();
    const clientId = await client(server);
    const seen: unknown[] = [];
    server.subscribe("/**", (data) => seen.push(data));
    server.service("/service/echo", (message, session) => {
      server.deliver(session.id, "/service/echo", { echo: message.data });
    });
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/**" }]);
    const result = await server.process(
      [{ channel: "/service/echo", clientId, data: "hi", id: 1 }],
      LP,
    );
    assert.deepEqual(result.replies, [{ channel: "/service/echo", id: 1, successful: true }]);
    assert.deepEqual(
      result.deliveries.map((d) => d.message),
      [{ channel: "/service/echo", data: { echo: "hi" } }],
    );
    assert.deepEqual(seen, []);
  });

  it("answers 407 when a service handler throws", async () => {
    const server = make();
    const clientId = await client(server);
    server.service("/service/**", () => {
      throw new Error("boom");
    });
    const [reply] = await replies(server, [{ channel: "/service/x", clientId, data: 1 }]);
    assert.equal(reply.error, "407:/service/x:Failed to publish");
  });

  it("applies subscribe and publish policies", async () => {
    const server = make({
      policy: {
        canSubscribe: (_s, channel) => channel !== "/secret",
        canPublish: (_s, channel) => (channel === "/readonly" ? "Read only" : true),
      },
    });
    const clientId = await client(server);
    const [sub] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: "/secret" },
    ]);
    assert.equal(sub.error, "403:/secret:Subscribe denied");
    const [pub] = await replies(server, [{ channel: "/readonly", clientId, data: 1 }]);
    assert.equal(pub.error, "403:/readonly:Read only");
  });

  it("answers bad messages in a batch one by one", async () => {
    const server = make();
    const clientId = await client(server);
    const result = await replies(server, [
      42,
      { id: "x" },
      { channel: "/a", clientId, data: 1, id: "ok" },
    ]);
    assert.equal(result.length, 3);
    assert.match(result[0].error!, /^400:/);
    assert.equal(result[1].error, "402:channel:Missing required parameter");
    assert.equal(result[1].id, "x");
    assert.equal(result[2].successful, true);
  });
});

describe("bayeux processor: disconnect, expiry, limits", () => {
  it("ends a session on /meta/disconnect and answers a held connect", async () => {
    const server = make();
    const clientId = await client(server);
    const events: unknown[] = [];
    server.on("disconnect", (id, reason) => events.push([id, reason]));
    const held = await server.process([connectMessage(clientId)], LP);
    const [reply] = await replies(server, [{ channel: "/meta/disconnect", clientId, id: "d" }]);
    assert.deepEqual(reply, { channel: "/meta/disconnect", id: "d", clientId, successful: true });
    assert.equal((await held.held)?.reply?.successful, true);
    assert.deepEqual(events, [[clientId, "client disconnect"]]);
    const [after] = await replies(server, [connectMessage(clientId)]);
    assert.equal(after.error, `402:${clientId}:Unknown client`);
  });

  it("disconnectClient ends a session so its next message gets 402", async () => {
    const server = make();
    const clientId = await client(server);
    assert.equal(server.disconnectClient(clientId), true);
    assert.equal(server.disconnectClient(clientId), false);
    const [reply] = await replies(server, [connectMessage(clientId)]);
    assert.equal(reply.advice?.reconnect, "handshake");
  });

  it("expires a session that stops connecting after timeout + interval + grace", async () => {
    // Margins for a loaded machine: the deadline is 1.2 s.
    const server = make({ timeout: 600, interval: 0, sessionGrace: 600 });
    const reasons: string[] = [];
    let expiredAt = 0;
    server.on("disconnect", (_id, reason) => {
      reasons.push(reason);
      expiredAt = Date.now();
    });
    const started = Date.now();
    const clientId = await client(server);
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/x" }]);
    assert.equal(server.sessionCount, 1, "alive after subscribing");
    await until(() => server.sessionCount === 0, 10_000, "the session to expire");
    // Still alive before the deadline: it ended no earlier than it.
    assert.ok(expiredAt - started >= 1200, "never before the deadline");
    assert.equal(server.sessionCount, 0);
    assert.deepEqual(reasons, ["expired"]);
    assert.equal(server.router.topics.topics.size, 0, "subscriptions removed");
  });

  it("a connecting client does not expire", async () => {
    const server = make({ timeout: 30, sessionGrace: 30 });
    const clientId = await client(server);
    for (let i = 0; i < 6; i++) {
      const result = await server.process([connectMessage(clientId)], LP);
      await result.held;
    }
    assert.equal(server.sessionCount, 1);
  });

  it("drops the oldest deliveries past maxQueuedMessages", async () => {
    const server = make({ maxQueuedMessages: 3 });
    const clientId = await client(server);
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/q" }]);
    for (let i = 0; i < 5; i++) server.publish("/q", i);
    const session = server.getSession(clientId)!;
    assert.equal(session.queued, 3);
    assert.equal(session.dropped, 2);
    const result = await server.process([connectMessage(clientId)], LP);
    assert.deepEqual(
      result.deliveries.map((d) => d.message.data),
      [2, 3, 4],
    );
  });

  it("emits handshake, subscribe, unsubscribe and publish events", async () => {
    const server = make();
    const events: unknown[][] = [];
    server.on("handshake", (id) => events.push(["handshake", typeof id]));
    server.on("subscribe", (_id, channel) => events.push(["subscribe", channel]));
    server.on("unsubscribe", (_id, channel) => events.push(["unsubscribe", channel]));
    server.on("publish", (id, channel, data) => events.push(["publish", typeof id, channel, data]));
    const clientId = await client(server);
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/e" }]);
    await replies(server, [{ channel: "/e", clientId, data: 1 }]);
    await replies(server, [{ channel: "/meta/unsubscribe", clientId, subscription: "/e" }]);
    server.publish("/e", 2);
    assert.deepEqual(events, [
      ["handshake", "string"],
      ["subscribe", "/e"],
      ["publish", "string", "/e", 1],
      ["unsubscribe", "/e"],
      ["publish", "object", "/e", 2],
    ]);
  });
});

describe("bayeux processor: server-side API", () => {
  it("subscribe listens with wildcards and returns an unsubscribe", async () => {
    const server = make();
    const seen: unknown[] = [];
    const stop = server.subscribe("/chat/*", (data, message) => seen.push([message.channel, data]));
    assert.equal(server.publish("/chat/a", 1), 1);
    server.publish("/chat/a/b", 2);
    stop();
    assert.equal(server.publish("/chat/a", 3), 0);
    assert.deepEqual(seen, [["/chat/a", 1]]);
  });

  it("refuses bad channels in the API", () => {
    const server = make();
    assert.throws(() => server.publish("/a/*", 1), { code: "ERR_BAYEUX_CHANNEL_INVALID" });
    assert.throws(() => server.publish("/meta/x", 1), { code: "ERR_BAYEUX_CHANNEL_FORBIDDEN" });
    assert.throws(() => server.subscribe("/service/x", () => {}), {
      code: "ERR_BAYEUX_CHANNEL_FORBIDDEN",
    });
    assert.throws(() => server.service("/other", () => {}), { code: "ERR_BAYEUX_CHANNEL_INVALID" });
  });

  it("close ends every session and refuses later publishes", async () => {
    const server = make();
    const clientId = await client(server);
    const held = await server.process([connectMessage(clientId)], LP);
    await server.close();
    assert.equal(server.sessionCount, 0);
    assert.equal((await held.held)?.reply?.successful, true);
    assert.throws(() => server.publish("/a", 1), { code: "ERR_BAYEUX_CLOSED" });
    const [reply] = await replies(server, [HANDSHAKE]);
    assert.equal(reply.error, "503::Server busy");
  });
});

describe("bayeux processor: extensions", () => {
  it("lets incoming extensions rewrite and reject, outgoing ones decorate", async () => {
    const server = make();
    server.addExtension({
      incoming(message, _request, callback) {
        if (message.channel === "/meta/subscribe" && message.subscription === "/private") {
          message.error = "403::Private";
        }
        if (message.channel === "/rename") message.channel = "/renamed";
        callback(message);
      },
    });
    server.addExtension({
      outgoing(message) {
        message.ext = { ...message.ext, stamped: true };
      },
    });
    const clientId = await client(server);
    const [denied] = await replies(server, [
      { channel: "/meta/subscribe", clientId, subscription: "/private" },
    ]);
    assert.equal(denied.successful, false);
    assert.equal(denied.error, "403::Private");
    assert.deepEqual(denied.ext, { stamped: true });
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/renamed" }]);
    const result = await server.process(
      [{ channel: "/rename", clientId, data: 1, ext: { from: "c" } }],
      LP,
    );
    assert.deepEqual(result.deliveries[0].message, {
      channel: "/renamed",
      data: 1,
      ext: { from: "c", stamped: true },
    });
  });

  it("drops a message an extension nulls, and survives a throwing one", async () => {
    const server = make();
    const clientId = await client(server);
    // Faye's two-parameter JavaScript form, (message, callback).
    const drop = {
      incoming: (m: BayeuxMessage, cb: (m: BayeuxMessage | null) => void) =>
        cb(m.channel === "/drop" ? null : m),
    } as unknown as BayeuxExtension;
    server.addExtension(drop);
    assert.deepEqual(await replies(server, [{ channel: "/drop", clientId, data: 1 }]), []);
    server.removeExtension(drop);
    server.addExtension({
      incoming: async (m: BayeuxMessage) => {
        if (m.channel === "/boom") throw new Error("boom");
        return m;
      },
    });
    const [reply] = await replies(server, [{ channel: "/boom", clientId, data: 1 }]);
    assert.equal(reply.error, "500::Internal server error");
    const [fine] = await replies(server, [{ channel: "/fine", clientId, data: 1 }]);
    assert.equal(fine.successful, true);
  });
});

describe("bayeux processor: acknowledgement extension", () => {
  it("resends unacknowledged deliveries on the next connect, exactly once", async () => {
    const server = make({ timeout: 5000 });
    const [hs] = await replies(server, [{ ...HANDSHAKE, ext: { ack: true } }]);
    assert.deepEqual(hs.ext, { ack: true });
    const clientId = hs.clientId!;
    await replies(server, [{ channel: "/meta/subscribe", clientId, subscription: "/q" }]);
    const first = await server.process([connectMessage(clientId, { ext: { ack: -1 } })], LP);
    assert.equal(first.replies[0].ext?.ack, 0);

    server.publish("/q", "a");
    // Acks ride on connects only: a publish reply carries nothing.
    const pub = await server.process([{ channel: "/other", clientId, data: 0 }], LP);
    assert.deepEqual(pub.deliveries, []);
    const batch1 = await server.process([connectMessage(clientId, { ext: { ack: 0 } })], LP);
    assert.deepEqual(
      batch1.deliveries.map((d) => d.message.data),
      ["a"],
    );
    assert.equal(batch1.replies[0].ext?.ack, 1);

    // The reply of batch 1 is lost: the client still acks 0, so "a" comes back with "b".
    server.publish("/q", "b");
    const batch2 = await server.process([connectMessage(clientId, { ext: { ack: 0 } })], LP);
    assert.deepEqual(
      batch2.deliveries.map((d) => d.message.data),
      ["a", "b"],
    );
    assert.equal(batch2.replies[0].ext?.ack, 2);

    // Acking batch 2 clears it: the next connect waits and brings only new messages.
    const batch3 = await server.process([connectMessage(clientId, { ext: { ack: 2 } })], LP);
    assert.ok(batch3.held);
    server.publish("/q", "c");
    const released = await batch3.held;
    assert.deepEqual(
      released.deliveries.map((d) => d.message.data),
      ["c"],
    );
    assert.equal(released.reply?.ext?.ack, 3);
  });

  it("stays off unless the client asks, and when disabled by option", async () => {
    const server = make({ ackExtension: false });
    const [hs] = await replies(server, [{ ...HANDSHAKE, ext: { ack: true } }]);
    assert.equal(hs.ext, undefined);
    const plain = make();
    const [hs2] = await replies(plain, [HANDSHAKE]);
    assert.equal(hs2.ext, undefined);
  });
});

describe("bayeux channel router: pattern bookkeeping", () => {
  it("delivers to patterns after others came and went (unsubscribe, unsubscribeAll)", async () => {
    const { ChannelRouter } = await import("../../src/bayeux/server/channels.js");
    const { Delivery } = await import("../../src/bayeux/server/delivery.js");
    const router = new ChannelRouter();
    const got: string[] = [];
    const a = { deliver: (d: InstanceType<typeof Delivery>) => got.push(`a${d.message.channel}`) };
    const b = { deliver: (d: InstanceType<typeof Delivery>) => got.push(`b${d.message.channel}`) };
    router.subscribe(a, "/p/*");
    router.subscribe(a, "/p/**");
    router.subscribe(b, "/p/**");
    router.unsubscribeAll(a);
    assert.equal(router.publish(new Delivery({ channel: "/p/x", data: 1 })), 1);
    router.unsubscribe(b, "/p/**");
    assert.equal(router.publish(new Delivery({ channel: "/p/x", data: 2 })), 0);
    router.subscribe(a, "/p/x");
    router.subscribe(b, "/**");
    assert.equal(router.publish(new Delivery({ channel: "/p/x", data: 3 })), 2);
    assert.deepEqual(got.sort(), ["a/p/x", "b/p/x", "b/p/x"]);
  });
});
