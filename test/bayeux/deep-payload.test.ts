/**
 * Over-deep and unencodable Bayeux messages: a 100,000-deep publish over
 * long-polling and over a websocket frame is refused as unreadable input,
 * the sender and a bystander keep working, server code publishing a value
 * that cannot be encoded gets a typed error, a reply an extension made
 * unencodable becomes an error reply, and the Bayeux client drops (and
 * reports) a message deeper than its limit. If any of these threw past the
 * server, this test process would die with it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { BayeuxClient, DeliveredMessage } from "../../src/bayeux/client/index.js";
import { BayeuxEncodeError } from "../../src/bayeux/index.js";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { testClient, waitFor } from "../bayeux-client/helpers.js";
import { circular, deepArray, deepObject, nested } from "../helpers/unencodable.js";
import { connected, HANDSHAKE, post, type Running, startServer, WsPeer } from "./helpers.js";

const DEPTH = 100_000;
const TOO_DEEP = "400::Message nested too deeply";

async function wsClient(s: Running): Promise<{ peer: WsPeer; clientId: string }> {
  const peer = await new WsPeer(s.wsUrl).open();
  peer.send([HANDSHAKE]);
  const hs = await peer.next((m) => m.channel === "/meta/handshake");
  assert.equal(hs.successful, true);
  peer.send([
    { channel: "/meta/connect", clientId: hs.clientId, connectionType: "websocket", id: "c0" },
  ]);
  await peer.next((m) => m.id === "c0");
  return { peer, clientId: hs.clientId as string };
}

describe("deep Bayeux messages", { timeout: 30_000 }, () => {
  let s: Running;
  let bystander: { peer: WsPeer; clientId: string };
  const peers: WsPeer[] = [];

  before(async () => {
    s = await startServer({ timeout: 1000 });
    bystander = await wsClient(s);
    peers.push(bystander.peer);
    bystander.peer.send([
      {
        channel: "/meta/subscribe",
        clientId: bystander.clientId,
        subscription: "/deep/**",
        id: "s",
      },
    ]);
    assert.equal((await bystander.peer.next((m) => m.id === "s")).successful, true);
  });
  after(async () => {
    for (const peer of peers) await peer.close();
    await s.close();
  });

  /** The bystander still receives what is published on `/deep/ok`. */
  async function bystanderReceives(data: unknown): Promise<void> {
    const delivery = await bystander.peer.next(
      (m) => m.channel === "/deep/ok" && JSON.stringify(m.data) === JSON.stringify(data),
    );
    assert.deepEqual(delivery.data, data);
  }

  for (const [shape, json] of [
    ["array", deepArray(DEPTH)],
    ["object", deepObject(DEPTH)],
  ] as const) {
    it(`refuses a ${DEPTH}-deep ${shape} published over long-polling`, async () => {
      const clientId = await connected(s.url);
      const res = await post(
        s.url,
        `[{"channel":"/deep/x","clientId":"${clientId}","id":"p1","data":${json}}]`,
      );
      assert.equal(res.status, 400);
      assert.deepEqual(res.json(), [{ successful: false, error: TOO_DEEP }]);
      const ok = await post(s.url, [
        { channel: "/deep/ok", clientId, id: "p2", data: { shape, via: "http" } },
      ]);
      assert.equal(ok.json()[0].successful, true);
      await bystanderReceives({ shape, via: "http" });
    });

    it(`refuses a ${DEPTH}-deep ${shape} published in a websocket frame`, async () => {
      const { peer, clientId } = await wsClient(s);
      peers.push(peer);
      peer.send(`[{"channel":"/deep/x","clientId":"${clientId}","id":"p1","data":${json}}]`);
      const refusal = await peer.next((m) => m.successful === false);
      assert.deepEqual(refusal, { successful: false, error: TOO_DEEP });
      peer.send([{ channel: "/deep/ok", clientId, id: "p2", data: { shape, via: "ws" } }]);
      assert.equal((await peer.next((m) => m.id === "p2")).successful, true);
      await bystanderReceives({ shape, via: "ws" });
    });
  }

  it("refuses a deep ext in a handshake, and a deep message alone (no batch array)", async () => {
    const hs = await post(
      s.url,
      `[{"channel":"/meta/handshake","version":"1.0","ext":${deepObject(DEPTH)}}]`,
    );
    assert.deepEqual(hs.json(), [{ successful: false, error: TOO_DEEP }]);
    const single = await post(s.url, `{"channel":"/deep/x","data":${deepArray(DEPTH)}}`);
    assert.deepEqual(single.json(), [{ successful: false, error: TOO_DEEP }]);
  });

  it("refuses deep text that also takes the __proto__ reviver", async () => {
    const res = await post(
      s.url,
      `[{"channel":"/deep/x","__proto__":{},"data":${deepArray(DEPTH)}}]`,
    );
    assert.deepEqual(res.json(), [{ successful: false, error: TOO_DEEP }]);
  });

  it("delivers data right at the limit (message 1 level, data 63) and refuses one more", async () => {
    const clientId = await connected(s.url);
    const atLimit = await post(s.url, [
      { channel: "/deep/ok", clientId, id: "a", data: nested(63) },
    ]);
    assert.equal(atLimit.json()[0].successful, true);
    await bystanderReceives(nested(63));
    const over = await post(s.url, [{ channel: "/deep/ok", clientId, id: "b", data: nested(64) }]);
    assert.deepEqual(over.json(), [{ successful: false, error: TOO_DEEP }]);
  });

  it("server code publishing an unencodable value gets a BayeuxEncodeError; nothing is sent", async () => {
    for (const value of [circular(), 7n, nested(DEPTH)]) {
      assert.throws(() => s.bayeux.publish("/deep/x", value), BayeuxEncodeError);
      assert.throws(
        () => s.bayeux.deliver(bystander.clientId, "/deep/x", value),
        BayeuxEncodeError,
      );
    }
    s.bayeux.publish("/deep/ok", "after");
    await bystanderReceives("after");
    assert.equal(
      bystander.peer.received.some((m) => m.channel === "/deep/x"),
      false,
    );
  });
});

describe("replies an extension made unencodable", { timeout: 30_000 }, () => {
  let s: Running;
  let poison = false;
  before(async () => {
    s = await startServer({ timeout: 300 });
    s.bayeux.addExtension({
      outgoing(message: BayeuxMessage, _request: unknown, callback: (m: BayeuxMessage) => void) {
        if (poison && message.channel === "/meta/connect") message.ext = { big: 1n };
        callback(message);
      },
    });
  });
  after(() => s.close());

  it("a websocket client gets a 500 error reply, for an immediate and for a held connect", async () => {
    const { peer, clientId } = await wsClient(s);
    try {
      poison = true;
      peer.send([{ channel: "/meta/connect", clientId, connectionType: "websocket", id: "c1" }]);
      // The first connect after the handshake one is held for `timeout`,
      // then released through the path that used to throw unhandled.
      const failed = await peer.next((m) => m.successful === false);
      assert.equal(failed.error, "500::Internal server error");
      poison = false;
      peer.send([{ channel: "/meta/connect", clientId, connectionType: "websocket", id: "c2" }]);
      assert.equal((await peer.next((m) => m.id === "c2")).successful, true);
    } finally {
      poison = false;
      await peer.close();
    }
  });

  it("a long-polling client gets a 500 error reply", async () => {
    const clientId = await connected(s.url);
    poison = true;
    try {
      const res = await post(s.url, [
        { channel: "/meta/connect", clientId, connectionType: "long-polling" },
      ]);
      assert.equal(res.status, 500);
      assert.equal(res.json()[0].error, "500::Internal server error");
    } finally {
      poison = false;
    }
  });
});

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`the Bayeux client receiving a message deeper than its limit (${transport})`, {
    timeout: 30_000,
  }, () => {
    let s: Running;
    let client: BayeuxClient;
    before(async () => {
      s = await startServer({ timeout: 1000 });
      client = testClient(s.url, transport, { maxPayloadDepth: 8 });
    });
    after(async () => {
      await client.disconnect();
      await s.close();
    });

    it("drops it, reports ERR_BAYEUX_TOO_DEEP, and keeps receiving", async () => {
      const errors: Error[] = [];
      client.on("error", (err) => errors.push(err));
      await client.init();
      const got: DeliveredMessage[] = [];
      await client.subscribe("/deep/*", (m) => got.push(m));
      // The message object is level 1: data 7 deep is at the limit, 8 is over.
      s.bayeux.publish("/deep/over", nested(8));
      s.bayeux.publish("/deep/ok", nested(7));
      await waitFor(() => got.length === 1 && errors.length >= 1, 10_000, "delivery and error");
      assert.equal(got[0].channel, "/deep/ok");
      assert.deepEqual(got[0].data, nested(7));
      assert.equal((errors[0] as { code?: string }).code, "ERR_BAYEUX_TOO_DEEP");
    });
  });
}
