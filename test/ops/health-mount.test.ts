/**
 * `Health` as a library user mounts it, imported from the package's entry
 * point: on a plain node:http server that also carries a Switchboard server,
 * `/health` answers 200, `/ready` follows the server's listening state and
 * turns 503 once draining while a real Socket.IO client is still served, and
 * every other path reaches the application or Socket.IO untouched.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { Health, type Readiness, Server } from "../../src/index.js";
import { until } from "../socketio/raw-clients.js";

async function get(base: string, path: string) {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

describe("Health mounted next to a Switchboard server", () => {
  it("answers /health, /ready as the server listens and drains, and leaves other paths alone", {
    timeout: 15_000,
  }, async () => {
    const http = createServer((req, res) => {
      if (health.handle(req, res)) return;
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("app");
    });
    const io = new Server(http);
    const health = new Health([{ name: "listening", ok: () => http.listening }]);
    io.on("connection", (socket) => socket.on("ping", (ack: (v: string) => void) => ack("pong")));

    const before: Readiness = health.readiness();
    assert.deepEqual(before, { ready: false, draining: false, checks: { listening: false } });

    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    let client: ClientSocket | undefined;
    try {
      const up = await get(base, "/health");
      assert.equal(up.status, 200);
      assert.match(up.type ?? "", /^application\/json/);
      assert.equal(JSON.parse(up.text).status, "ok");
      const ready = await get(base, "/ready");
      assert.equal(ready.status, 200, ready.text);
      assert.deepEqual(JSON.parse(ready.text), {
        ready: true,
        draining: false,
        checks: { listening: true },
      });
      assert.equal((await get(base, "/other")).text, "app");

      client = connect(base, { transports: ["websocket"], reconnection: false });
      const connected = client;
      await until(() => connected.connected, 5000, "the Socket.IO client to connect");
      assert.equal(await connected.timeout(2000).emitWithAck("ping"), "pong");

      // Graceful shutdown begins: the balancer sees 503 while the client is still served.
      health.drain();
      const draining = await get(base, "/ready");
      assert.equal(draining.status, 503);
      assert.deepEqual(JSON.parse(draining.text), {
        ready: false,
        draining: true,
        checks: { listening: true },
      });
      assert.equal((await get(base, "/health")).status, 200, "the process is still up");
      assert.equal(await connected.timeout(2000).emitWithAck("ping"), "pong");
      assert.equal(io.engine.clientsCount, 1);
    } finally {
      client?.close();
      await io.close();
    }
    assert.equal(http.listening, false, "io.close() closed the HTTP server");
    assert.deepEqual(health.readiness(), {
      ready: false,
      draining: true,
      checks: { listening: false },
    });
  });
});
