/**
 * The client's small parts on their own: the offline queue at its limit,
 * the extension pipeline (sync, async, drop), the acknowledgement
 * extension's batches and duplicate window, endpoint URLs and options, and
 * the logger's file output.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runExtensions } from "../../src/bayeux/client/extensions.js";
import { AckExtension, type BayeuxMessage } from "../../src/bayeux/client/index.js";
import { createLogger } from "../../src/bayeux/client/logger.js";
import { OfflineQueue } from "../../src/bayeux/client/offline-queue.js";
import { endpointUrl, resolveOptions } from "../../src/bayeux/client/options.js";
import { waitFor } from "./helpers.js";

describe("OfflineQueue", () => {
  test("keeps order and refuses past its limit", () => {
    const queue = new OfflineQueue<number>(3);
    assert.equal(queue.push(1), true);
    assert.equal(queue.push(2), true);
    assert.equal(queue.push(3), true);
    assert.equal(queue.push(4), false);
    assert.equal(queue.size, 3);
    assert.deepEqual(queue.drain(), [1, 2, 3]);
    assert.equal(queue.size, 0);
  });

  test("unshift puts items back in front, in order, returning those that do not fit", () => {
    const queue = new OfflineQueue<string>(3);
    queue.push("c");
    assert.deepEqual(queue.unshift(["a", "b", "x"]), ["x"]);
    assert.deepEqual(queue.drain(), ["a", "b", "c"]);
  });

  test("a limit of zero refuses everything; bad limits throw", () => {
    const queue = new OfflineQueue<number>(0);
    assert.equal(queue.push(1), false);
    assert.throws(() => new OfflineQueue(-1), RangeError);
    assert.throws(() => new OfflineQueue(1.5), RangeError);
  });
});

describe("runExtensions", () => {
  const message = (): BayeuxMessage => ({ channel: "/a", data: 1 });

  test("synchronous hooks stay synchronous; mutation, replacement and drop", () => {
    const out = runExtensions(
      [
        { outgoing: (m) => void (m.ext = { token: "t" }) },
        { outgoing: (m) => ({ ...m, data: 2 }) },
        { incoming: () => null },
      ],
      "outgoing",
      message(),
    );
    assert.ok(!(out instanceof Promise));
    assert.deepEqual(out, { channel: "/a", data: 2, ext: { token: "t" } });
    assert.equal(runExtensions([{ incoming: () => null }], "incoming", message()), null);
  });

  test("an asynchronous hook makes the result a promise; later hooks still run in order", async () => {
    const order: string[] = [];
    const out = runExtensions(
      [
        {
          incoming: (m) => {
            order.push("one");
            return m;
          },
        },
        {
          incoming: async (m) => {
            order.push("two");
            return { ...m, data: 3 };
          },
        },
        { incoming: (m) => void order.push(`three:${String(m.data)}`) },
      ],
      "incoming",
      message(),
    );
    assert.ok(out instanceof Promise);
    assert.deepEqual(await out, { channel: "/a", data: 3 });
    assert.deepEqual(order, ["one", "two", "three:3"]);
  });
});

describe("AckExtension", () => {
  const handshakeReply = (ext?: Record<string, unknown>): BayeuxMessage => ({
    channel: "/meta/handshake",
    successful: true,
    ext,
  });
  const connectReply = (ack: number): BayeuxMessage => ({
    channel: "/meta/connect",
    successful: true,
    ext: { ack },
  });
  const delivery = (id: string): BayeuxMessage => ({ channel: "/c", data: id, id });

  test("offers acks on handshake and echoes the last batch on connect once enabled", () => {
    const ack = new AckExtension();
    const hs = ack.outgoing({ channel: "/meta/handshake", ext: { other: 1 } });
    assert.deepEqual(hs.ext, { other: 1, ack: true });
    // Not enabled yet: connects carry nothing.
    assert.equal(ack.outgoing({ channel: "/meta/connect" }).ext, undefined);
    ack.incoming(handshakeReply({ ack: true }));
    assert.equal(ack.enabled, true);
    assert.deepEqual(ack.outgoing({ channel: "/meta/connect" }).ext, { ack: 0 });
    ack.incoming(connectReply(7));
    assert.deepEqual(ack.outgoing({ channel: "/meta/connect" }).ext, { ack: 7 });
    // The object form of the handshake reply also enables it, with a starting batch.
    const other = new AckExtension();
    other.outgoing({ channel: "/meta/handshake" });
    other.incoming(handshakeReply({ ack: { enabled: true, batch: 3 } }));
    assert.equal(other.batch, 3);
  });

  test("without server support nothing is filtered", () => {
    const ack = new AckExtension();
    ack.outgoing({ channel: "/meta/handshake" });
    ack.incoming(handshakeReply());
    assert.equal(ack.enabled, false);
    assert.ok(ack.incoming(delivery("1")));
    assert.ok(ack.incoming(delivery("1")));
  });

  test("drops a resent delivery seen among the last deliveries, however many batches ago", () => {
    const ack = new AckExtension();
    ack.outgoing({ channel: "/meta/handshake" });
    ack.incoming(handshakeReply({ ack: true }));
    assert.ok(ack.incoming(delivery("a")));
    assert.equal(ack.incoming(delivery("a")), null);
    ack.incoming(connectReply(1));
    assert.equal(ack.incoming(delivery("a")), null, "a server resend in the next batch");
    assert.ok(
      ack.incoming({ channel: "/other", data: 0, id: "a" }),
      "the key includes the channel",
    );
    // A publisher that reconnected resends its unanswered message many batches later.
    for (let batch = 2; batch < 20; batch++) ack.incoming(connectReply(batch));
    assert.equal(ack.incoming(delivery("a")), null, "a publisher's late resend");
    assert.equal(ack.duplicatesDropped, 3);
    assert.equal(ack.batch, 19);
    // Replies are never filtered.
    const reply = { channel: "/c", successful: true, id: "a" };
    assert.equal(ack.incoming(reply), reply);
    assert.equal(ack.incoming(reply), reply);
  });

  test("the duplicate window is bounded", () => {
    const ack = new AckExtension(2);
    ack.outgoing({ channel: "/meta/handshake" });
    ack.incoming(handshakeReply({ ack: true }));
    for (const id of ["1", "2", "3", "4", "5"]) assert.ok(ack.incoming(delivery(id)));
    assert.ok(ack.incoming(delivery("1")), "evicted past the window");
    assert.throws(() => new AckExtension(0), RangeError);
  });
});

describe("options", () => {
  test("endpoint URLs from host, port, ssl and path", () => {
    assert.equal(endpointUrl({ host: "example.com" }), "http://example.com/bayeux");
    assert.equal(endpointUrl({ host: "example.com", ssl: true }), "https://example.com/bayeux");
    assert.equal(endpointUrl({ host: "h", port: 8080, path: "cometd" }), "http://h:8080/cometd");
    assert.equal(endpointUrl({ host: "h", port: 443, ssl: true }), "https://h/bayeux");
    assert.equal(endpointUrl({ host: "::1", port: 81 }), "http://[::1]:81/bayeux");
    assert.equal(endpointUrl({ url: "ws://h:1/b" }), "http://h:1/b");
    assert.equal(endpointUrl({ url: "wss://h/b" }), "https://h/b");
    assert.throws(() => endpointUrl({}), TypeError);
    assert.throws(() => endpointUrl({ url: "ftp://h/" }), TypeError);
  });

  test("defaults and refused values", () => {
    const o = resolveOptions({ url: "http://h/bayeux" });
    assert.deepEqual(o.transports, ["websocket", "long-polling", "callback-polling"]);
    assert.equal(o.offlineQueueLimit, 1000);
    assert.equal(o.maxBatchLength, 100);
    assert.equal(o.ackExtension, true);
    assert.deepEqual(o.backoff, { initialDelay: 500, maxDelay: 30_000, factor: 2 });
    assert.throws(() => resolveOptions({ url: "http://h/", offlineQueueLimit: -1 }), RangeError);
    assert.throws(() => resolveOptions({ url: "http://h/", maxNetworkDelay: 0 }), RangeError);
    assert.throws(() => resolveOptions({ url: "http://h/", transports: [] }), RangeError);
    assert.throws(
      () => resolveOptions({ url: "http://h/", transports: ["carrier-pigeon" as "websocket"] }),
      RangeError,
    );
  });
});

describe("logger", () => {
  test("debug 1 with logFile appends lines; logStdout false keeps stdout quiet", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-bayeux-log-"));
    const file = join(dir, "client.log");
    const seen: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void seen.push(args.join(" "));
    try {
      const log = createLogger({ debug: 1, logFile: file, logStdout: false });
      assert.equal(log.enabled, true);
      log("handshake %s", "abc", { n: 1 });
      log("second");
      await waitFor(() => {
        try {
          return readFileSync(file, "utf8").split("\n").length >= 3;
        } catch {
          return false;
        }
      });
      const lines = readFileSync(file, "utf8").trim().split("\n");
      assert.match(lines[0], /bayeux-client handshake abc \{"n":1\}$/);
      assert.match(lines[1], /bayeux-client second$/);
      assert.deepEqual(seen, []);
      assert.equal(createLogger({}).enabled, false);
    } finally {
      console.log = original;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
