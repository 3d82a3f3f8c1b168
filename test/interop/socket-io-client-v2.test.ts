/**
 * socket.io-client 2.5 (Engine.IO v3, Socket.IO v4 protocol) against
 * `allowEIO3: true`: the main namespace is joined without a CONNECT, a
 * namespace carries its query string, errors are plain payloads.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type { Socket } from "../../src/index.js";
import { startServer, waitFor } from "../socketio/helpers.js";

const T = { timeout: 10_000 };

interface V2Socket {
  id: string;
  connected: boolean;
  on(ev: string, fn: (...args: never[]) => void): V2Socket;
  once(ev: string, fn: (...args: never[]) => void): V2Socket;
  emit(ev: string, ...args: unknown[]): V2Socket;
  close(): void;
}

// The v2 client ships no types; it is loaded through require.
const connectV2 = createRequire(import.meta.url)("socket.io-client-v2") as (
  url: string,
  opts: Record<string, unknown>,
) => V2Socket;

for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
  describe(`socket.io-client v2 over ${transports.join("+")}`, () => {
    it("connects, emits, acknowledges and carries binary", T, async () => {
      const h = await startServer({ allowEIO3: true });
      const serverSocket = waitFor<[Socket]>(h.io, "connection");
      const client = connectV2(`${h.url}`, { forceNew: true, reconnection: false, transports });
      const [socket] = await serverSocket;
      await waitFor(client, "connect");
      assert.equal(socket.conn.protocol, 3);
      assert.equal(socket.id, socket.conn.id, "v2: socket id is the engine id on /");
      const hello = waitFor(socket, "hello");
      client.emit("hello", "v2", { n: 1 });
      assert.deepEqual(await hello, ["v2", { n: 1 }]);
      socket.on("sum", (a: number, b: number, ack: (r: number) => void) => ack(a + b));
      const sum = await new Promise((resolve) => client.emit("sum", 1, 2, resolve));
      assert.equal(sum, 3);
      client.on("ask", ((q: string, ack: (r: string) => void) => ack(`re:${q}`)) as never);
      assert.equal(await socket.timeout(2000).emitWithAck("ask", "q"), "re:q");
      const bin = waitFor(socket, "bin");
      client.emit("bin", { file: Buffer.from([1, 2, 3]) });
      const [payload] = (await bin) as [{ file: Buffer }];
      assert.deepEqual([...payload.file], [1, 2, 3]);
      const down = waitFor(client, "down");
      socket.emit("down", Buffer.from("xyz"), [Buffer.from([4])]);
      const [b1, b2] = (await down) as [Buffer, Buffer[]];
      assert.equal(Buffer.from(b1).toString(), "xyz");
      assert.deepEqual([...Buffer.from(b2[0])], [4]);
      const left = waitFor(socket, "disconnect");
      client.close();
      assert.ok(
        ["client namespace disconnect", "transport close"].includes((await left)[0] as string),
      );
      await h.close();
    });
  });
}

describe("socket.io-client v2 namespaces", () => {
  it("reads the namespace query as auth and gets middleware errors as payloads", T, async () => {
    const h = await startServer({ allowEIO3: true });
    const admin = h.io.of("/admin");
    admin.use((socket, next) => {
      if (socket.handshake.auth.token === "good") return next();
      next(Object.assign(new Error("denied"), { data: { reason: "token" } }));
    });
    admin.on("connection", (s) => s.emit("welcome", s.handshake.auth.token, s.id));
    const good = connectV2(`${h.url}/admin?token=good`, { forceNew: true, reconnection: false });
    const [token, id] = (await waitFor(good, "welcome")) as [string, string];
    assert.equal(token, "good");
    assert.match(id, /^\/admin#/);
    const bad = connectV2(`${h.url}/admin?token=bad`, { forceNew: true, reconnection: false });
    const [err] = (await waitFor(bad, "error")) as [unknown];
    assert.deepEqual(err, { reason: "token" });
    const none = connectV2(`${h.url}/missing`, { forceNew: true, reconnection: false });
    assert.deepEqual(await waitFor(none, "error"), ["Invalid namespace"]);
    for (const c of [good, bad, none]) c.close();
    await h.close();
  });
});
