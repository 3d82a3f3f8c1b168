/**
 * Shared pieces of the adapter tests: a Socket.IO echo handler for the server
 * side, and a real `socket.io-client` round trip over one transport.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
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
