/** Raw Bayeux over websocket on loopback. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import type { BayeuxSocket } from "../../src/bayeux/index.js";
import { HANDSHAKE, handshake, post, type Running, startServer, WsPeer } from "./helpers.js";

async function wsClient(
  s: Running,
  ext?: Record<string, unknown>,
): Promise<{ peer: WsPeer; clientId: string }> {
  const peer = await new WsPeer(s.wsUrl).open();
  peer.send([{ ...HANDSHAKE, ext }]);
  const hs = await peer.next((m) => m.channel === "/meta/handshake");
  assert.equal(hs.successful, true);
  peer.send([
    { channel: "/meta/connect", clientId: hs.clientId, connectionType: "websocket", id: "c0" },
  ]);
  await peer.next((m) => m.id === "c0");
  return { peer, clientId: hs.clientId! };
}

describe("bayeux websocket", { timeout: 20000 }, () => {
  let s: Running;
  const peers: WsPeer[] = [];
  before(async () => {
    s = await startServer({ timeout: 400, maxMessageSize: 4096, maxBatchLength: 4 });
  });
  after(async () => {
    for (const peer of peers) await peer.close();
    await s.close();
  });

  it("handshakes, holds a connect, and pushes deliveries as they happen", async () => {
    const { peer, clientId } = await wsClient(s);
    peers.push(peer);
    peer.send([{ channel: "/meta/subscribe", clientId, subscription: "/ws/**", id: "s" }]);
    assert.equal((await peer.next((m) => m.id === "s")).successful, true);
    peer.send([{ channel: "/meta/connect", clientId, connectionType: "websocket", id: "c1" }]);
    await new Promise((r) => setTimeout(r, 30));
    s.bayeux.publish("/ws/a/b", { n: 1 });
    const delivery = await peer.next((m) => m.channel === "/ws/a/b");
    assert.deepEqual(delivery, { channel: "/ws/a/b", data: { n: 1 } });
    assert.equal(
      peer.received.some((m) => m.id === "c1"),
      false,
      "connect still held",
    );
    const connect = await peer.next((m) => m.id === "c1");
    assert.equal(connect.successful, true);
    assert.equal(s.bayeux.getSession(clientId)?.connectionType, "websocket");
  });

  /**
   * Two websocket clients subscribed to `subscription`, and the frames the
   * server writes to either of them, in the order written.
   */
  async function twoSubscribersWithFrameSpy(subscription: string) {
    const a = await wsClient(s);
    const b = await wsClient(s);
    peers.push(a.peer, b.peer);
    for (const { peer, clientId } of [a, b]) {
      peer.send([{ channel: "/meta/subscribe", clientId, subscription, id: "s" }]);
      await peer.next((m) => m.id === "s");
    }
    const sent: Buffer[] = [];
    const encoded: (readonly Buffer[])[] = [];
    for (const { clientId } of [a, b]) {
      const socket = s.bayeux.getSession(clientId)!.socket! as BayeuxSocket;
      const original = socket.sendFrame.bind(socket);
      socket.sendFrame = (payload: Buffer, frames: readonly Buffer[]) => {
        sent.push(payload);
        encoded.push(frames);
        original(payload, frames);
      };
    }
    return { a, b, sent, encoded };
  }

  it("sends the same frame bytes to every websocket recipient", async () => {
    const { a, b, sent, encoded } = await twoSubscribersWithFrameSpy("/same");
    s.bayeux.publish("/same", { big: "x".repeat(100) });
    await a.peer.next((m) => m.channel === "/same");
    await b.peer.next((m) => m.channel === "/same");
    assert.equal(sent.length, 2);
    assert.equal(sent[0], sent[1], "one Buffer shared");
    assert.equal(encoded[0], encoded[1], "one encoded websocket frame shared");
    assert.equal(a.peer.frames.at(-1), b.peer.frames.at(-1));
  });

  it("batches one tick's deliveries into one shared frame, in order", async () => {
    const { a, b, sent, encoded } = await twoSubscribersWithFrameSpy("/tick/*");
    const framesBefore = a.peer.frames.length;
    s.bayeux.publish("/tick/one", { n: 1 });
    s.bayeux.publish("/tick/two", "é ✓");
    s.bayeux.publish("/tick/one", { n: 3 });
    for (const { peer } of [a, b]) {
      assert.deepEqual(await peer.next((m) => m.channel === "/tick/one"), {
        channel: "/tick/one",
        data: { n: 1 },
      });
      assert.deepEqual(await peer.next((m) => m.channel === "/tick/two"), {
        channel: "/tick/two",
        data: "é ✓",
      });
      assert.deepEqual(await peer.next((m) => m.channel === "/tick/one"), {
        channel: "/tick/one",
        data: { n: 3 },
      });
    }
    assert.equal(sent.length, 2, "one frame per recipient");
    assert.equal(sent[0], sent[1], "one Buffer shared");
    assert.equal(encoded[0], encoded[1], "one encoded batch frame shared");
    assert.equal(a.peer.frames.length, framesBefore + 1);
    assert.equal(
      a.peer.frames.at(-1),
      '[{"channel":"/tick/one","data":{"n":1}},{"channel":"/tick/two","data":"é ✓"},{"channel":"/tick/one","data":{"n":3}}]',
    );
  });

  it("splits a long burst into batch frames of at most 64 KiB", async () => {
    const { peer, clientId } = await wsClient(s);
    peers.push(peer);
    peer.send([{ channel: "/meta/subscribe", clientId, subscription: "/big", id: "s" }]);
    await peer.next((m) => m.id === "s");
    const framesBefore = peer.frames.length;
    const body = "x".repeat(30000);
    for (let n = 0; n < 3; n++) s.bayeux.publish("/big", { n, body });
    for (let n = 0; n < 3; n++) {
      const got = await peer.next((m) => m.channel === "/big");
      assert.equal((got.data as { n: number }).n, n);
    }
    const frames = peer.frames.slice(framesBefore);
    assert.deepEqual(
      frames.map((f) => (JSON.parse(f) as unknown[]).length),
      [2, 1],
    );
    for (const frame of frames) assert.ok(Buffer.byteLength(frame) <= 64 * 1024);
  });

  it("publishes from one websocket client to another and to a long-polling client", async () => {
    const a = await wsClient(s);
    const b = await wsClient(s);
    peers.push(a.peer, b.peer);
    b.peer.send([
      { channel: "/meta/subscribe", clientId: b.clientId, subscription: "/mix", id: "s" },
    ]);
    await b.peer.next((m) => m.id === "s");
    const lp = await handshake(s.url);
    await post(s.url, [{ channel: "/meta/connect", clientId: lp, connectionType: "long-polling" }]);
    await post(s.url, [{ channel: "/meta/subscribe", clientId: lp, subscription: "/mix" }]);
    const poll = post(s.url, [
      { channel: "/meta/connect", clientId: lp, connectionType: "long-polling" },
    ]);
    a.peer.send([{ channel: "/mix", clientId: a.clientId, data: "hello", id: "p" }]);
    assert.deepEqual(await a.peer.next((m) => m.id === "p"), {
      channel: "/mix",
      id: "p",
      successful: true,
    });
    assert.equal(
      (await b.peer.next((m) => m.channel === "/mix" && m.data !== undefined)).data,
      "hello",
    );
    assert.equal((await poll).json()[0].data, "hello");
  });

  it("answers bad JSON with an error and keeps the connection", async () => {
    const peer = await new WsPeer(s.wsUrl).open();
    peers.push(peer);
    peer.send("{oops");
    const reply = await peer.next((m) => m.successful === false);
    assert.equal(reply.error, "400::Bad request");
    peer.send([{ ...HANDSHAKE, id: "after" }]);
    assert.equal((await peer.next((m) => m.id === "after")).successful, true);
  });

  it("refuses a batch past maxBatchLength", async () => {
    const peer = await new WsPeer(s.wsUrl).open();
    peers.push(peer);
    peer.send(Array.from({ length: 5 }, (_, i) => ({ ...HANDSHAKE, id: `b${i}` })));
    for (let i = 0; i < 5; i++) {
      const reply = await peer.next((m) => m.id === `b${i}`);
      assert.equal(reply.channel, "/meta/handshake");
      assert.equal(reply.successful, false);
      assert.equal(reply.error, "400:4:Too many messages");
    }
    assert.equal(peer.frames.length, 1, "all in one frame");
    // Exactly at the limit is processed.
    peer.send(Array.from({ length: 4 }, (_, i) => ({ ...HANDSHAKE, id: `ok${i}` })));
    assert.equal((await peer.next((m) => m.id === "ok3")).successful, true);
  });

  it("ignores an empty batch (Faye's keep-alive)", async () => {
    const peer = await new WsPeer(s.wsUrl).open();
    peers.push(peer);
    peer.send("[]");
    peer.send([{ ...HANDSHAKE, id: "next" }]);
    await peer.next((m) => m.id === "next");
    assert.equal(peer.frames.length, 1);
  });

  it("closes with 1003 on a binary frame and 1009 past maxMessageSize", async () => {
    const binary = new WebSocket(s.wsUrl);
    await once(binary, "open");
    binary.send(Buffer.from("[]"), { binary: true });
    const [code] = (await once(binary, "close")) as [number];
    assert.equal(code, 1003);
    const big = new WebSocket(s.wsUrl);
    await once(big, "open");
    big.send(JSON.stringify([{ ...HANDSHAKE, ext: { pad: "x".repeat(5000) } }]));
    const [bigCode] = (await once(big, "close")) as [number];
    assert.equal(bigCode, 1009);
  });

  it("keeps deliveries for the next connect when the socket drops (ack extension)", async () => {
    const { peer, clientId } = await wsClient(s, { ack: true });
    peer.send([{ channel: "/meta/subscribe", clientId, subscription: "/acked", id: "s" }]);
    await peer.next((m) => m.id === "s");
    await peer.close();
    s.bayeux.publish("/acked", "while away");
    const again = await new WsPeer(s.wsUrl).open();
    peers.push(again);
    again.send([
      { channel: "/meta/connect", clientId, connectionType: "websocket", id: "c", ext: { ack: 0 } },
    ]);
    assert.equal((await again.next((m) => m.channel === "/acked")).data, "while away");
    const reply = await again.next((m) => m.id === "c");
    assert.equal(reply.ext?.ack, 1);
  });

  it("refuses an upgrade to anything but websocket with 400", async () => {
    const { port } = new URL(s.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.end("GET /bayeux HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk;
    });
    await once(socket, "close");
    assert.match(text, /^HTTP\/1\.1 400 /);
  });
});
