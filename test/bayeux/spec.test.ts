/**
 * Raw checks against the Bayeux 1.0 specification and what Faye and CometD
 * servers answer: the error codes table, advice on handshake and connect,
 * `/meta/connect` over websocket, `/meta/subscribe` reply fields, and
 * `successful: false` publish replies.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BAYEUX_ERRORS, parseBayeuxError } from "../../src/codec/bayeux/index.js";
import { HANDSHAKE, handshake, post, type Running, startServer, WsPeer } from "./helpers.js";

describe("bayeux spec: error codes table", () => {
  it("uses the Bayeux codes Faye and CometD use (402 for an unknown client, as the spec's example)", () => {
    const expected: Record<string, number> = {
      versionMismatch: 300,
      conntypeMismatch: 301,
      extMismatch: 302,
      badRequest: 400,
      clientUnknown: 402,
      parameterMissing: 402,
      channelForbidden: 403,
      channelUnknown: 404,
      channelInvalid: 405,
      extUnknown: 406,
      publishFailed: 407,
      serverError: 500,
    };
    for (const [name, code] of Object.entries(expected)) {
      assert.equal(BAYEUX_ERRORS[name as keyof typeof BAYEUX_ERRORS].code, code, name);
    }
    for (const entry of Object.values(BAYEUX_ERRORS)) {
      assert.ok(entry.code >= 300 && entry.code <= 599, "three digits");
      assert.match(entry.message, /^[A-Za-z0-9 ]+$/, "text fits the error grammar");
    }
  });
});

describe("bayeux spec: raw replies", { timeout: 20000 }, () => {
  let s: Running;
  before(async () => {
    s = await startServer({ timeout: 300, interval: 0 });
  });
  after(() => s.close());

  it("hands out clientIds of the grammar 1*alphanum (section 2.1), at least 128 bits, all distinct", async () => {
    const ids = new Set<string>();
    const batch = Array.from({ length: 50 }, (_, i) => ({ ...HANDSHAKE, id: String(i) }));
    for (let round = 0; round < 4; round++) {
      for (const reply of (await post(s.url, batch)).json()) {
        const id = reply.clientId as string;
        assert.match(id, /^[A-Za-z0-9]+$/, `clientId ${id}`);
        // log2(62) ≈ 5.954 bits a character.
        assert.ok(id.length * Math.log2(62) >= 128, `clientId ${id} is too short`);
        ids.add(id);
      }
    }
    assert.equal(ids.size, 200);
  });

  it("advises retry/interval/timeout on a successful handshake and connect", async () => {
    const [hs] = (await post(s.url, [HANDSHAKE])).json();
    assert.deepEqual(hs.advice, { reconnect: "retry", interval: 0, timeout: 300 });
    assert.equal(hs.version, "1.0");
    assert.deepEqual(hs.supportedConnectionTypes, [
      "long-polling",
      "callback-polling",
      "websocket",
    ]);
    const [connect] = (
      await post(s.url, [
        {
          channel: "/meta/connect",
          clientId: hs.clientId,
          connectionType: "long-polling",
          id: "c",
        },
      ])
    ).json();
    assert.deepEqual(connect, {
      channel: "/meta/connect",
      id: "c",
      clientId: hs.clientId,
      successful: true,
      advice: { reconnect: "retry", interval: 0, timeout: 300 },
    });
  });

  it("advises a new handshake on a failed connect (as Faye does), with the error", async () => {
    const clientId = await handshake(s.url);
    const [noType] = (await post(s.url, [{ channel: "/meta/connect", clientId, id: "n" }])).json();
    assert.equal(noType.successful, false);
    assert.equal(noType.error, "402:connectionType:Missing required parameter");
    assert.deepEqual(noType.advice, { reconnect: "handshake", interval: 0 });
    const [unknown] = (
      await post(s.url, [
        { channel: "/meta/connect", clientId: "nobody", connectionType: "long-polling", id: "u" },
      ])
    ).json();
    assert.equal(unknown.error, "402:nobody:Unknown client");
    assert.deepEqual(unknown.advice, { reconnect: "handshake", interval: 0 });
  });

  it("echoes subscription, clientId and id in every /meta/subscribe and /meta/unsubscribe reply", async () => {
    const clientId = await handshake(s.url);
    const replies = (
      await post(s.url, [
        { channel: "/meta/subscribe", clientId, subscription: "/one", id: "1" },
        { channel: "/meta/subscribe", clientId, subscription: ["/two", "/three/**"], id: "2" },
        { channel: "/meta/subscribe", clientId, subscription: "/meta/connect", id: "3" },
        { channel: "/meta/subscribe", clientId: "nobody", subscription: "/x", id: "4" },
        { channel: "/meta/subscribe", clientId, id: "5" },
        { channel: "/meta/unsubscribe", clientId: "nobody", subscription: ["/x"], id: "6" },
      ])
    ).json();
    assert.deepEqual(replies[0], {
      channel: "/meta/subscribe",
      id: "1",
      clientId,
      successful: true,
      subscription: "/one",
    });
    assert.deepEqual(replies[1].subscription, ["/two", "/three/**"]);
    assert.equal(replies[1].successful, true);
    assert.deepEqual(replies[2], {
      channel: "/meta/subscribe",
      id: "3",
      clientId,
      successful: false,
      error: "403:/meta/connect:Forbidden channel",
      subscription: "/meta/connect",
    });
    assert.deepEqual(replies[3], {
      channel: "/meta/subscribe",
      id: "4",
      clientId: "nobody",
      successful: false,
      error: "402:nobody:Unknown client",
      advice: { reconnect: "handshake", interval: 0 },
      subscription: "/x",
    });
    assert.equal(replies[4].error, "402:subscription:Missing required parameter");
    assert.deepEqual(replies[4].subscription, []);
    assert.equal(replies[5].channel, "/meta/unsubscribe");
    assert.deepEqual(replies[5].subscription, ["/x"]);
    assert.equal(replies[5].error, "402:nobody:Unknown client");
  });

  it("answers a publish to an invalid or forbidden channel with successful:false, id and channel", async () => {
    const clientId = await handshake(s.url);
    const cases: [string, string][] = [
      ["/a b", "405:/a b:Invalid channel"],
      ["/wild/*", "405:/wild/*:Invalid channel"],
      ["/wild/**", "405:/wild/**:Invalid channel"],
      ["/a//b", "405:/a//b:Invalid channel"],
      ["no-slash", "405:no-slash:Invalid channel"],
      ["/meta/custom", "403:/meta/custom:Forbidden channel"],
    ];
    const replies = (
      await post(
        s.url,
        cases.map(([channel], i) => ({ channel, clientId, data: "x", id: `p${i}` })),
      )
    ).json();
    assert.equal(replies.length, cases.length);
    cases.forEach(([channel, error], i) => {
      const reply = replies[i];
      assert.equal(reply.channel, channel);
      assert.equal(reply.id, `p${i}`);
      assert.equal(reply.successful, false);
      assert.equal(reply.error, error);
      assert.equal(reply.data, undefined, "never mistaken for a delivery");
      assert.ok(parseBayeuxError(reply.error!), "error follows code:args:message");
    });
    // A valid publish answers {channel, id, successful} only.
    const [ok] = (await post(s.url, [{ channel: "/fine", clientId, data: "x", id: "ok" }])).json();
    assert.deepEqual(ok, { channel: "/fine", id: "ok", successful: true });
  });

  it("holds /meta/connect over websocket like long-polling, first connect at once", async () => {
    const peer = await new WsPeer(s.wsUrl).open();
    try {
      peer.send([HANDSHAKE]);
      const hs = await peer.next((m) => m.channel === "/meta/handshake");
      const clientId = hs.clientId!;
      const connect = (id: string) =>
        peer.send([{ channel: "/meta/connect", clientId, connectionType: "websocket", id }]);
      let started = Date.now();
      connect("first");
      const first = await peer.next((m) => m.id === "first");
      assert.ok(Date.now() - started < 250, "first connect is answered at once");
      assert.deepEqual(first.advice, { reconnect: "retry", interval: 0, timeout: 300 });
      started = Date.now();
      connect("held");
      const held = await peer.next((m) => m.id === "held", 3000);
      const took = Date.now() - started;
      // Held for the advised 300 ms, less at most one timer resolution (100 ms): a
      // hold ends within the timeout, never after it.
      assert.ok(took >= 195, `held for the advised timeout (${took} ms)`);
      assert.equal(held.successful, true);
      assert.deepEqual(held.advice, { reconnect: "retry", interval: 0, timeout: 300 });
      // A delivery while a connect is held goes out at once, in its own frame.
      peer.send([{ channel: "/meta/subscribe", clientId, subscription: "/live", id: "s" }]);
      await peer.next((m) => m.id === "s");
      connect("again");
      s.bayeux.publish("/live", 1);
      const delivered = await peer.next((m) => m.channel === "/live", 200);
      assert.deepEqual(delivered, { channel: "/live", data: 1 });
      await peer.next((m) => m.id === "again", 3000);
    } finally {
      await peer.close();
    }
  });
});
