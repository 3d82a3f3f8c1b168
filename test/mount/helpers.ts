/**
 * Shared pieces of the adapter tests: a Socket.IO echo handler for the server
 * side, a real `socket.io-client` round trip over one transport, the round-trip
 * tests every adapter passes, and listening/closing on loopback.
 */
import assert from "node:assert/strict";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { io as connect } from "socket.io-client";
import type { Server } from "../../src/index.js";

export type TransportName = "polling" | "websocket";

/** Answers `echo` with the payload and the transport the server sees. */
export function installEcho(io: Server): void {
  io.on("connection", (socket) => {
    socket.on("echo", (payload: unknown, ack: (reply: unknown) => void) => {
      ack({ payload, transport: socket.conn.transport.name });
    });
  });
}

/** `http://127.0.0.1:<port>` of a listening server. */
export function baseUrl(server: { address(): AddressInfo | string | null }): string {
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Connects with only `transport` (or, for "upgrade", starts on polling and
 * waits for the upgrade to websocket), emits `echo` with an ack and checks the
 * reply came back over the expected transport on both sides. Always closes
 * the client.
 */
export async function assertRoundTrip(
  url: string,
  mode: TransportName | "upgrade",
  path = "/socket.io",
): Promise<void> {
  const transport: TransportName = mode === "upgrade" ? "websocket" : mode;
  const client = connect(url, {
    path,
    transports: mode === "upgrade" ? ["polling", "websocket"] : [mode],
    forceNew: true,
    reconnection: false,
    timeout: 5000,
  });
  // Over loopback the upgrade may finish before "connect"; watch from the open.
  let opened = "";
  const upgraded = new Promise<void>((resolve) => {
    client.io.once("open", () => {
      opened = client.io.engine.transport.name;
      client.io.engine.once("upgrade", () => resolve());
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    if (mode === "upgrade") {
      await upgraded;
      assert.equal(opened, "polling");
    }
    const payload = { text: `hello over ${mode}`, n: 42, list: [1, "two"] };
    const reply = await client.timeout(5000).emitWithAck("echo", payload);
    assert.deepEqual(reply, { payload, transport });
    assert.equal(client.io.engine.transport.name, transport);
  } finally {
    client.close();
  }
}

/** Fetches a URL and returns its status and body text. */
export async function get(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
}

/** Checks that `path` answers an Engine.IO v4 polling handshake: an `open` packet, `0{"sid":...}`. */
export async function assertPollingHandshake(url: string, path = "/socket.io"): Promise<void> {
  const res = await get(`${url}${path}/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  assert.match(res.body, /^0\{"sid":"[^"]+"/);
}

/** Round trips over polling, then websocket (both on `path`). */
export async function assertBothTransports(url: string, path?: string): Promise<void> {
  await assertRoundTrip(url, "polling", path);
  await assertRoundTrip(url, "websocket", path);
}

/**
 * Registers the tests every adapter passes on its default path: round trips
 * over polling only, websocket only and with an upgrade, and the polling
 * handshake answered ahead of the framework (`handshakeTitle` names how).
 * `url` is read when each test runs (a `before` hook sets it).
 */
export function itServesSocketIo(url: () => string, handshakeTitle: string): void {
  it("round-trips an ack over polling only", { timeout: 10_000 }, async () => {
    await assertRoundTrip(url(), "polling");
  });

  it("round-trips an ack over websocket only", { timeout: 10_000 }, async () => {
    await assertRoundTrip(url(), "websocket");
  });

  it("upgrades from polling to websocket", { timeout: 10_000 }, async () => {
    await assertRoundTrip(url(), "upgrade");
  });

  it(handshakeTitle, { timeout: 10_000 }, async () => {
    await assertPollingHandshake(url());
  });
}

/** Something with node's `listen(port, host, callback)` returning its server (Express, Koa). */
interface Listenable {
  listen(port: number, host: string, callback: () => void): HttpServer;
}

/** Listens on an ephemeral loopback port: `app.listen()` of an app, or an HTTP server. */
export function listenLoopback(target: Listenable | HttpServer): Promise<HttpServer> {
  return new Promise((resolve) => {
    const server: HttpServer = target.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Closes an HTTP server (or a Socket.IO server) and waits for it. */
export function closeServer(server: { close(callback: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Lets the server's "close" listeners run (they close the mounts). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
