/**
 * `maxBufferedBytes`: a client that stops reading is dropped once the bytes
 * waiting for it cross the limit, over websocket (ws `bufferedAmount`) and
 * long-polling (packets queued while no GET is held), and never before.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket as NetSocket } from "node:net";
import { describe, test } from "node:test";
import { WebSocket } from "ws";
import type { Socket } from "../../src/engine/index.js";
import { DEFAULTS, resolveOptions } from "../../src/engine/options.js";
import { handshake, next, rawRequest, startEngine } from "./helpers.js";

type CloseArgs = [reason: string, description?: unknown];

/** Opens a websocket session over a raw TCP socket, then stops reading from it. */
async function stalledWebSocket(port: number): Promise<NetSocket> {
  const tcp = connect(port, "127.0.0.1");
  await once(tcp, "connect");
  tcp.write(
    "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
      `Host: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  const [head] = (await once(tcp, "data")) as [Buffer];
  assert.match(head.toString("latin1"), /^HTTP\/1\.1 101/);
  // From now on nothing is read: node stops pulling from the kernel, the
  // kernel buffers fill, and the server's writes pile up in its own queue.
  tcp.pause();
  return tcp;
}

describe("maxBufferedBytes", { timeout: 30000 }, () => {
  test("defaults to 16 MiB, accepts Infinity, refuses negative values", () => {
    assert.equal(DEFAULTS.maxBufferedBytes, 16 * 1024 * 1024);
    assert.equal(resolveOptions({}).maxBufferedBytes, 16 * 1024 * 1024);
    assert.equal(resolveOptions({ maxBufferedBytes: Infinity }).maxBufferedBytes, Infinity);
    assert.throws(() => resolveOptions({ maxBufferedBytes: -1 }), TypeError);
  });

  test("websocket: a client that stops reading is closed on the send that crosses the limit", async () => {
    const limit = 256 * 1024;
    const t = await startEngine({ maxBufferedBytes: limit, transports: ["websocket"] });
    let tcp: NetSocket | undefined;
    try {
      const connected = next<[Socket]>(t.engine, "connection");
      tcp = await stalledWebSocket(t.port);
      const [socket] = await connected;
      const closed = next<CloseArgs>(socket, "close", 20000);
      const ws = (socket.transport as unknown as { socket: WebSocket }).socket;
      const chunk = "x".repeat(16 * 1024);
      let sent = 0;
      let before = 0;
      let lastOpen = 0;
      // Keep sending (yielding to the event loop so the kernel can take what
      // it will) until the session drops; the cap only guards the test.
      while (socket.readyState === "open" && sent < 512 * 1024 * 1024) {
        before = ws.bufferedAmount;
        socket.send(chunk);
        sent += chunk.length;
        if (socket.readyState === "open") {
          lastOpen = ws.bufferedAmount;
          assert.ok(lastOpen <= limit, `still open with ${lastOpen} bytes buffered`);
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [reason, description] = await closed;
      assert.equal(reason, "transport error");
      assert.equal(description, "outgoing buffer full");
      // The edge: under the limit before the last send, over it because of it.
      assert.ok(before <= limit, `was already over the limit (${before})`);
      assert.ok(before + chunk.length + 10 > limit, `closed too early (${before})`);
      assert.equal(t.engine.clientsCount, 0);
      // The server keeps serving others.
      const other = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [open] = await next<[Buffer]>(other, "message");
      assert.match(open.toString(), /^0\{"sid"/);
      other.close();
    } finally {
      tcp?.destroy();
      await t.close();
    }
  });

  test("websocket: a reading client under the limit stays open", async () => {
    const t = await startEngine({ maxBufferedBytes: 64 * 1024, transports: ["websocket"] });
    try {
      const connected = next<[Socket]>(t.engine, "connection");
      const client = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [socket] = await connected;
      await next(client, "message");
      let received = 0;
      const all = new Promise<void>((resolve) => {
        client.on("message", () => {
          if (++received === 100) resolve();
        });
      });
      // 100 × 1 KiB, one per turn of the event loop: never 64 KiB behind.
      for (let i = 0; i < 100; i++) {
        socket.send("y".repeat(1024));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await all;
      assert.equal(socket.readyState, "open");
      client.close();
      await next(socket, "close");
    } finally {
      await t.close();
    }
  });

  test("polling: packets queued with no GET held are bounded, exactly at the limit", async () => {
    const limit = 1000;
    const t = await startEngine({ maxBufferedBytes: limit, transports: ["polling"] });
    try {
      const connected = next<[Socket]>(t.engine, "connection");
      const { sid } = await handshake(t.port);
      const [socket] = await connected;
      const closes: CloseArgs[] = [];
      socket.on("close", (...args: CloseArgs) => closes.push(args));

      // Each packet counts its data bytes plus its type: 2 × (1 + 499) = 1000.
      socket.send("a".repeat(499));
      socket.send("b".repeat(499));
      assert.equal(socket.readyState, "open");
      assert.equal(socket.writeBuffer.length, 2);

      // A GET takes the queue and resets the count.
      const poll = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(poll.text, `4${"a".repeat(499)}\x1e4${"b".repeat(499)}`);
      socket.send(Buffer.alloc(999));
      assert.equal(socket.readyState, "open");

      // One byte more than the limit: the session drops, the queue is freed.
      socket.send("c");
      assert.equal(socket.readyState, "closed");
      assert.deepEqual(closes, [["transport error", "outgoing buffer full"]]);
      assert.equal(socket.writeBuffer.length, 0);
      assert.equal(t.engine.clientsCount, 0);

      // The client learns of it on its next GET: as after any session end but
      // an orderly close (engine.io's rule), the sid is unknown at once.
      const after = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(after.status, 400);
      assert.deepEqual(JSON.parse(after.text), { code: 1, message: "Session ID unknown" });
    } finally {
      await t.close();
    }
  });

  test("polling: text is counted in UTF-8 bytes", async () => {
    const t = await startEngine({ maxBufferedBytes: 1000, transports: ["polling"] });
    try {
      const connected = next<[Socket]>(t.engine, "connection");
      await handshake(t.port);
      const [socket] = await connected;
      const closed = next<CloseArgs>(socket, "close");
      socket.send("é".repeat(499)); // 1 + 998 bytes
      assert.equal(socket.readyState, "open");
      socket.send("é"); // + 3 bytes
      assert.deepEqual(await closed, ["transport error", "outgoing buffer full"]);
    } finally {
      await t.close();
    }
  });
});
