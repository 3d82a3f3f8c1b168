/**
 * Fuzz: the Bayeux client's inbound path (frame parsing, then
 * src/bayeux/client/inbound.ts, the extensions and the client's handlers).
 * A real BayeuxClient runs over an in-process WebSocket stand-in that
 * answers handshakes and subscriptions; hostile frames (mutated server
 * replies and deliveries, deep nesting, wrong types, random bytes) are
 * pushed into it. Nothing may throw out of the frame handler or surface as
 * an uncaught exception or unhandled rejection; every reported error is a
 * typed one (a string `code`), and every message a subscriber receives is a
 * well-formed message within the depth limit.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BayeuxClient, type DeliveredMessage } from "../../src/bayeux/client/index.js";
import type { WebSocketConstructor } from "../../src/bayeux/client/transport.js";
import {
  checkMessage,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  valueDepthExceeds,
} from "../../src/codec/bayeux/index.js";
import {
  deepJson,
  fuzzAsync,
  invalidUtf8,
  mutate,
  type Prng,
  prototypePolluted,
  randomBytes,
  randomText,
  randomValue,
} from "./fuzz-helpers.js";

/** The stand-in's idea of the session, shared with the frame generator. */
const session = { clientId: "fuzz-client", lastId: "1" };

/**
 * A WebSocket stand-in: opens at once, answers handshakes and subscriptions
 * as a server would, and lets the test push any frame to the client.
 */
class FrameSocket {
  static current: FrameSocket | null = null;
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;

  constructor(readonly url: string) {
    FrameSocket.current = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(text: string): void {
    for (const message of JSON.parse(text) as Record<string, unknown>[]) {
      session.lastId = String(message.id ?? session.lastId);
      const base = { channel: message.channel, id: message.id, successful: true };
      if (message.channel === "/meta/handshake") {
        this.push([
          {
            ...base,
            clientId: session.clientId,
            version: "1.0",
            supportedConnectionTypes: ["websocket"],
            ext: { ack: true },
          },
        ]);
      } else if (message.channel === "/meta/connect") {
        // Held for a while, as a server holds a connect with nothing to deliver.
        const reply = [
          {
            ...base,
            clientId: session.clientId,
            advice: { reconnect: "retry", interval: 0, timeout: 1000 },
          },
        ];
        setTimeout(() => this.push(reply), 20).unref();
      } else if (message.channel === "/meta/subscribe" || message.channel === "/meta/unsubscribe") {
        this.push([{ ...base, clientId: session.clientId, subscription: message.subscription }]);
      }
    }
  }

  /** Hands a frame to the client as the socket's message event would. */
  push(data: unknown): void {
    queueMicrotask(() => {
      if (this.readyState === 1)
        this.onmessage?.({ data: typeof data === "string" ? data : JSON.stringify(data) });
    });
  }

  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code: 1000 }));
  }
}

/** Replies and deliveries a server sends, as frame text. */
function seeds(): string[] {
  const { clientId, lastId: id } = session;
  return [
    JSON.stringify([
      {
        channel: "/meta/connect",
        successful: true,
        clientId,
        id,
        advice: { reconnect: "retry", interval: 0, timeout: 1000 },
        ext: { ack: 3 },
      },
    ]),
    JSON.stringify([
      { channel: "/fuzz/a", data: { text: "hi", n: [1, 2] }, id: "d1" },
      { channel: "/fuzz/b", data: "x" },
    ]),
    JSON.stringify([
      {
        channel: "/meta/subscribe",
        successful: false,
        error: "403::Subscribe denied",
        subscription: "/fuzz/*",
        id,
        clientId,
      },
    ]),
    JSON.stringify([{ channel: "/fuzz/a", successful: true, id }]),
    JSON.stringify({
      channel: "/meta/connect",
      successful: false,
      error: "402::Unknown client",
      advice: { reconnect: "handshake" },
      id,
    }),
    JSON.stringify([{ successful: false, error: "400::Bad request" }]),
  ];
}

function hostileFrame(rng: Prng): unknown {
  const text = rng.pick(seeds());
  switch (rng.int(8)) {
    case 0:
      return randomText(rng, 60);
    case 1:
      return rng.bool() ? randomBytes(rng) : new Uint8Array(randomBytes(rng));
    case 2:
      return Buffer.concat([Buffer.from(text), invalidUtf8(rng)]);
    case 3:
      return `[{"channel":"/fuzz/a","data":${deepJson(DEFAULT_MAX_PAYLOAD_DEPTH - 3 + rng.int(6), rng.bool())}}]`;
    case 4:
      return `[{"channel":"/fuzz/a","data":${deepJson(100_000, rng.bool())}}]`;
    case 5: {
      // Every field of a seed message replaced by a value of any type.
      const message = JSON.parse(text) as Record<string, unknown>[] | Record<string, unknown>;
      const first = (Array.isArray(message) ? message[0] : message) as Record<string, unknown>;
      const key = rng.pick([...Object.keys(first), "advice", "ext", "data", "__proto__"]);
      first[key] = randomValue(rng);
      return JSON.stringify(message);
    }
    default:
      return mutate(rng, text);
  }
}

describe("fuzz: the Bayeux client's inbound path", () => {
  let client: BayeuxClient;
  const errors: unknown[] = [];
  const delivered: DeliveredMessage[] = [];
  const escaped: unknown[] = [];
  const onEscape = (err: unknown) => escaped.push(err);

  before(async () => {
    process.on("uncaughtException", onEscape);
    process.on("unhandledRejection", onEscape);
    client = new BayeuxClient("http://127.0.0.1:9/bayeux", {
      transports: ["websocket"],
      WebSocket: FrameSocket as unknown as WebSocketConstructor,
      backoff: { initialDelay: 1, maxDelay: 5 },
      maxNetworkDelay: 1000,
    });
    client.on("error", (err) => errors.push(err));
    await client.init();
    await client.subscribe("/fuzz/**", (message) => delivered.push(message));
  });

  after(async () => {
    await client.disconnect().catch(() => {});
    process.off("uncaughtException", onEscape);
    process.off("unhandledRejection", onEscape);
  });

  test("hostile frames never throw out of the client, and what it hands on is well-formed", async () => {
    let pushed = 0;
    await fuzzAsync(async (rng) => {
      // A frame the client cannot read closes its socket: wait for the
      // reconnect (a fresh stand-in) before the next frame.
      const deadline = Date.now() + 5000;
      while (FrameSocket.current?.readyState !== 1 || FrameSocket.current.onmessage === null) {
        assert.ok(Date.now() < deadline, "the client did not reconnect");
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      FrameSocket.current.onmessage({ data: hostileFrame(rng) });
      pushed++;
      await new Promise((resolve) => setImmediate(resolve));
    });
    assert.ok(pushed >= 50);
    // Let queued replies, extension chains and reconnects run their course.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(escaped, [], "an error escaped the client");
    for (const err of errors) {
      assert.ok(err instanceof Error, String(err));
      assert.equal(typeof (err as { code?: unknown }).code, "string", String(err));
    }
    for (const message of delivered) {
      assert.notEqual(typeof checkMessage(message), "string");
      assert.equal(valueDepthExceeds(message, DEFAULT_MAX_PAYLOAD_DEPTH), false);
    }
    assert.ok(
      errors.some((err) => (err as { code?: string }).code === "ERR_BAYEUX_TOO_DEEP"),
      "deep deliveries were reported",
    );
    assert.equal(prototypePolluted(), false);
  });
});
