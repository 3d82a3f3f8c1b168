/**
 * A server close that falls in the middle of an upgrade, step by step with
 * raw clients (HTTP for long-polling, `ws` for the probe), as engine.io 6
 * ends it. Once the client has read `3probe` it pauses polling: it sends no
 * more GET, and engine.io-client never resumes polling if the probe then
 * fails (it stays "upgrading" with its packets buffered). So a close that
 * comes while the client is paused must keep the probe open until the
 * client's `5`, then close the websocket ("forced close"), or answer a GET
 * that does come with the close packet. No client packet sent before the
 * close may be lost, nor one sent right after `5`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import { Socket as ClientSocket } from "engine.io-client";
import { WebSocket } from "ws";
import type { Socket } from "../../src/engine/index.js";
import {
  type Emitterish,
  handshake,
  next,
  rawRequest,
  startEngine,
  type TestEngine,
} from "./helpers.js";

/** Resolves once `check()` holds, polling each turn of the event loop; rejects after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Probe {
  sid: string;
  socket: Socket;
  ws: WebSocket;
  /** Text frames the server sent on the probe websocket. */
  frames: string[];
  /** Resolves when the probe websocket has closed. */
  closed: Promise<void>;
  isClosed(): boolean;
}

describe("server close during an upgrade", () => {
  let t: TestEngine;
  before(async () => {
    t = await startEngine({ pingInterval: 20_000, pingTimeout: 20_000 });
  });
  after(() => t.close());

  const path = (sid: string) => `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
  const poll = (sid: string) => rawRequest(t.port, path(sid));
  const post = (sid: string, body: string) =>
    rawRequest(t.port, path(sid), { method: "POST", body });

  /** Opens a websocket for the upgrade of `sid`, recording its frames and its close. */
  async function openProbe(sid: string) {
    const ws = new WebSocket(
      `ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    const frames: string[] = [];
    ws.on("message", (data) => frames.push(data.toString()));
    let isClosed = false;
    const closed = new Promise<void>((resolve) =>
      ws.once("close", () => {
        isClosed = true;
        resolve();
      }),
    );
    await once(ws, "open");
    return { ws, frames, closed, isClosed: () => isClosed };
  }

  /**
   * Takes a session to where engine.io-client pauses: a GET held, the probe
   * answered (`3probe`), and that GET released with a noop. From here the
   * client sends no GET; its next word is `5` on the websocket.
   */
  async function paused(): Promise<Probe> {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const held = poll(sid);
    await until(() => socket.transport.writable);
    const probe = await openProbe(sid);
    probe.ws.send("2probe");
    await until(() => probe.frames.includes("3probe"));
    assert.equal((await held).text, "6", "the held poll is released for the upgrade");
    return { sid, socket, ...probe };
  }

  /**
   * Whether the probe is still open as the client sees it, after everything
   * the server did so far: a ping's pong comes back only on an open
   * websocket (a close frame written before it arrives first).
   */
  async function probeStillOpen(p: Probe): Promise<boolean> {
    if (p.isClosed()) return false;
    p.ws.ping();
    const outcome = await Promise.race([
      once(p.ws, "pong").then(() => "pong"),
      p.closed.then(() => "closed"),
    ]);
    return outcome === "pong" && p.ws.readyState === WebSocket.OPEN;
  }

  test("close while the client is paused: the probe stays open, 5 upgrades, then the websocket closes", async () => {
    const p = await paused();
    const closed = next<[string]>(p.socket, "close");
    p.socket.close();
    assert.ok(await probeStillOpen(p), "the probe must stay open: the client polls no more");
    p.ws.send("5");
    await p.closed;
    assert.equal((await closed)[0], "forced close");
    assert.equal(p.socket.transport.name, "websocket");
  });

  test("close with packets buffered while paused: they go out on the websocket after 5, then it closes", async () => {
    const p = await paused();
    const closed = next<[string]>(p.socket, "close");
    p.socket.send("bye");
    p.socket.close();
    assert.ok(await probeStillOpen(p));
    p.ws.send("5");
    await p.closed;
    assert.equal((await closed)[0], "forced close");
    assert.deepEqual(p.frames, ["3probe", "4bye"]);
  });

  test("a packet POSTed after the probe is delivered; a close from its handler ends over the websocket", async () => {
    const p = await paused();
    const got: string[] = [];
    p.socket.on("message", (data) => {
      got.push(String(data));
      p.socket.close();
    });
    const closed = next<[string]>(p.socket, "close");
    const res = await post(p.sid, "4hello");
    assert.equal(res.text, "ok");
    assert.deepEqual(got, ["hello"]);
    assert.ok(await probeStillOpen(p));
    p.ws.send("5");
    await p.closed;
    assert.equal((await closed)[0], "forced close");
  });

  test("a GET that comes instead of 5 gets the close packet, and the probe is closed", async () => {
    const p = await paused();
    const closed = next<[string]>(p.socket, "close");
    p.socket.close();
    assert.ok(await probeStillOpen(p));
    assert.equal((await poll(p.sid)).text, "1");
    assert.equal((await closed)[0], "forced close");
    await p.closed;
  });

  test("the probe ends while the close waits for it: the session ends, the next GET gets 6 then 1", async () => {
    const p = await paused();
    const closed = next<[string]>(p.socket, "close");
    p.socket.close();
    assert.ok(await probeStillOpen(p));
    p.ws.terminate();
    assert.equal((await closed)[0], "forced close");
    assert.equal((await poll(p.sid)).text, "6\u001e1");
  });

  test("close before the probe is answered: the websocket closes and the next GET gets 6 then 1", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const probe = await openProbe(sid);
    await until(() => socket.upgrading);
    const closed = next<[string]>(socket, "close");
    socket.close();
    assert.equal((await closed)[0], "forced close");
    await probe.closed;
    assert.equal((await poll(sid)).text, "6\u001e1");
  });

  test("close while a GET is held during the probe: the GET gets 1", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const held = poll(sid);
    await until(() => socket.transport.writable);
    const probe = await openProbe(sid);
    await until(() => socket.upgrading);
    const closed = next<[string]>(socket, "close");
    socket.close();
    assert.equal((await held).text, "1");
    assert.equal((await closed)[0], "forced close");
    await probe.closed;
  });

  test("packets sent on the websocket right after 5 are all delivered", async () => {
    const p = await paused();
    const got: string[] = [];
    p.socket.on("message", (data) => got.push(String(data)));
    p.ws.send("5");
    p.ws.send("4a");
    p.ws.send("4b");
    await until(() => got.length === 2);
    assert.deepEqual(got, ["a", "b"]);
    assert.equal(p.socket.transport.name, "websocket");
    const closed = next<[string]>(p.socket, "close");
    p.socket.close();
    await p.closed;
    assert.equal((await closed)[0], "forced close");
  });

  // The same with engine.io-client, which pauses its polling for the upgrade:
  // wherever the server's close falls, the client must learn of it (close
  // event) long before its heartbeat would (pingInterval + pingTimeout: 40 s).
  const moments: [string, (socket: Socket, close: () => void) => void][] = [
    ["as the probe is answered", (socket, close) => socket.once("upgrading", close)],
    [
      "a turn after the probe is answered",
      (socket, close) => socket.once("upgrading", () => setImmediate(close)),
    ],
    [
      "once the client's poll after the probe was released",
      (socket, close) =>
        socket.once("upgrading", () => until(() => !socket.transport.writable).then(close)),
    ],
    ["on the upgrade", (socket, close) => socket.once("upgrade", close)],
  ];
  for (const [when, hook] of moments) {
    test(`engine.io-client learns of a server close ${when}`, async () => {
      for (let i = 0; i < 5; i++) {
        const connection = next<[Socket]>(t.engine, "connection");
        const client = new ClientSocket(`http://127.0.0.1:${t.port}`, { path: "/engine.io/" });
        const clientClosed = next<[string]>(client as unknown as Emitterish, "close", 5000);
        const [socket] = await connection;
        const serverClosed = next<[string]>(socket, "close", 5000);
        hook(socket, () => socket.close());
        assert.equal((await serverClosed)[0], "forced close");
        assert.equal((await clientClosed)[0], "transport close");
      }
    });
  }
});
