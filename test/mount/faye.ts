/**
 * The real Faye 1.4 client for the adapter and CLI tests: a subscribe/publish
 * round trip against a mounted Bayeux server over long-polling (websocket
 * disabled) or websocket, and a shutdown that lets the process exit.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import type { BayeuxServer } from "../../src/bayeux/index.js";

const require = createRequire(import.meta.url);

export type FayeTransport = "long-polling" | "websocket";

export interface FayeSubscription extends PromiseLike<unknown> {
  cancel(): void;
}

export interface FayeClient {
  subscribe(channel: string, callback: (data: unknown) => void): FayeSubscription;
  publish(channel: string, data: unknown): PromiseLike<unknown>;
  disable(feature: string): void;
  disconnect(): PromiseLike<unknown> | undefined;
  connect(callback?: () => void): void;
  _dispatcher: { clientId?: string; close(): void };
  _state: number;
}

const faye = require("faye") as { Client: new (url: string, options?: object) => FayeClient };

export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `test` every 20 ms; rejects after `ms`. */
export async function until(test: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(20);
  }
}

/** A Faye client for `url` (the Bayeux endpoint), websocket disabled for long-polling. */
export function fayeClient(url: string, transport: FayeTransport): FayeClient {
  const client = new faye.Client(url, { timeout: 10, retry: 1 });
  if (transport === "long-polling") client.disable("websocket");
  return client;
}

/** The clientId Faye got in its handshake. */
export function fayeClientId(client: FayeClient): string | undefined {
  return client._dispatcher.clientId;
}

/**
 * Faye ignores disconnect() unless connected and keeps retrying otherwise, so
 * let it settle, disconnect, wait for the reply, then close its transports.
 */
export async function shutdownFaye(client: FayeClient): Promise<void> {
  await until(() => client._state === 3 /* CONNECTED */ || client._state === 4, 5000).catch(
    () => {},
  );
  const done = client.disconnect();
  if (done) await Promise.race([Promise.resolve(done).catch(() => {}), delay(3000)]);
  client._dispatcher.close();
}

/**
 * Subscribes a Faye client to `/mount/*`, waits until the server holds its
 * session on `transport`, publishes to `/mount/test` from the client and from
 * the server side, and checks both arrive. Always shuts the client down.
 */
export async function assertFayeRoundTrip(
  url: string,
  transport: FayeTransport,
  bayeux: BayeuxServer,
): Promise<void> {
  const client = fayeClient(url, transport);
  try {
    const received: unknown[] = [];
    await client.subscribe("/mount/*", (data) => received.push(data));
    const clientId = fayeClientId(client);
    assert.ok(clientId, "Faye handshook");
    await until(() => bayeux.getSession(clientId)?.connectionType === transport);
    const payload = { text: `hello over ${transport}`, n: 42, list: [1, "two"] };
    await client.publish("/mount/test", payload);
    await until(() => received.length === 1);
    assert.deepEqual(received, [payload]);
    assert.equal(bayeux.publish("/mount/server", { from: "server" }), 1);
    await until(() => received.length === 2);
    assert.deepEqual(received[1], { from: "server" });
    assert.equal(bayeux.getSession(clientId)?.connectionType, transport);
  } finally {
    await shutdownFaye(client);
  }
}

/** POSTs a raw `/meta/handshake` to `url`; returns the HTTP status and the reply array (or text). */
export async function bayeuxHandshake(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([
      { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
    ]),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: some other handler answered; the caller compares the text.
  }
  return { status: res.status, body };
}

/** Asserts `url` answers a Bayeux handshake successfully. */
export async function assertBayeuxHandshake(url: string): Promise<void> {
  const { status, body } = await bayeuxHandshake(url);
  assert.equal(status, 200);
  assert.ok(Array.isArray(body), "a JSON array");
  const [reply] = body as { channel: string; successful: boolean; clientId?: string }[];
  assert.equal(reply.channel, "/meta/handshake");
  assert.equal(reply.successful, true);
  assert.equal(typeof reply.clientId, "string");
}
