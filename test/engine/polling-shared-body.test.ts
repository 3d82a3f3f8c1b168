/**
 * The long-polling hot path (issue #13): a broadcast answers every held poll
 * with the prepared message's one body buffer and plain headers, in one
 * writeHead and one end, unless something asks for more (a `headers`
 * listener, an old Internet Explorer, compression above the threshold);
 * an open session's requests skip the full request path when nothing
 * asynchronous runs before them (CORS headers still added); the query is
 * split as URLSearchParams reads it.
 */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { PreparedMessage, type Socket } from "../../src/engine/index.js";
import { queryOf } from "../../src/engine/request.js";
import { rawHeader, someRawHeader } from "../../src/transport/raw-header.js";
import { until } from "../socketio/raw-clients.js";
import {
  handshake,
  type RawResponse,
  rawRequest,
  startEngine,
  type TestEngine,
} from "./helpers.js";

/** Opens a polling session and holds its first poll; resolves once the GET is held. */
async function heldPoll(
  t: TestEngine,
  headers: Record<string, string> = {},
): Promise<{ socket: Socket; answer: Promise<RawResponse> }> {
  const { sid } = await handshake(t.port);
  const socket = t.engine.clients[sid];
  const answer = rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, { headers });
  await until(() => socket.transport.writable, 3000, "the poll to be held");
  return { socket, answer };
}

describe("a broadcast to polling clients", { timeout: 20000 }, () => {
  test("answers every held poll with the one shared body and plain headers", async () => {
    const t = await startEngine();
    try {
      const polls = await Promise.all([heldPoll(t), heldPoll(t), heldPoll(t)]);
      const prepared = new PreparedMessage('2["news","€"]');
      assert.equal(prepared.pollingBody(), prepared.pollingBody(), "built once");
      for (const { socket } of polls) socket._sendPrepared(prepared, true);
      for (const { answer } of polls) {
        const res = await answer;
        assert.equal(res.status, 200);
        assert.equal(res.text, '42["news","€"]');
        assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
        assert.equal(res.headers["content-length"], String(Buffer.byteLength(res.text)));
        assert.equal(res.headers["cache-control"], "no-store");
        assert.equal(res.headers["x-xss-protection"], undefined);
      }
      // Written, not queued: nothing waits for the next poll.
      for (const { socket } of polls) assert.equal(socket.writeBuffer.length, 0);
    } finally {
      await t.close();
    }
  });

  test("a headers listener still decorates every answer, the shared one too", async () => {
    const t = await startEngine();
    try {
      t.engine.on("headers", (headers) => {
        headers["x-every"] = "1";
      });
      const { socket, answer } = await heldPoll(t);
      socket._sendPrepared(new PreparedMessage("hello"), true);
      const res = await answer;
      assert.equal(res.text, "4hello");
      assert.equal(res.headers["x-every"], "1");
      assert.equal(res.headers["cache-control"], "no-store");
    } finally {
      await t.close();
    }
  });

  test("an old Internet Explorer gets X-XSS-Protection: 0", async () => {
    const t = await startEngine();
    try {
      const agent = "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko";
      const { socket, answer } = await heldPoll(t, { "user-agent": agent });
      socket._sendPrepared(new PreparedMessage("hello"), true);
      const res = await answer;
      assert.equal(res.text, "4hello");
      assert.equal(res.headers["x-xss-protection"], "0");
    } finally {
      await t.close();
    }
  });

  test("a body over the compression threshold is compressed for a client that accepts it", async () => {
    const t = await startEngine({ httpCompression: { threshold: 100 } });
    try {
      const { socket, answer } = await heldPoll(t, { "accept-encoding": "gzip" });
      const text = "x".repeat(500);
      socket._sendPrepared(new PreparedMessage(text), true);
      const res = await answer;
      assert.equal(res.headers["content-encoding"], "gzip");
      assert.equal(gunzipSync(res.body).toString(), `4${text}`);
    } finally {
      await t.close();
    }
  });

  test("a session's requests with a middleware take the full path, middleware first", async () => {
    const t = await startEngine();
    try {
      const seen: string[] = [];
      const { sid } = await handshake(t.port);
      t.engine.use((req, _res, next) => {
        seen.push(String(req.method));
        next();
      });
      const post = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: "4hi",
      });
      assert.equal(post.text, "ok");
      assert.deepEqual(seen, ["POST"]);
      // A websocket request for a polling session is refused, as the full path does.
      const wrong = await rawRequest(t.port, `/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
      assert.equal(wrong.status, 400);
    } finally {
      await t.close();
    }
  });
});

describe("CORS on an open session's requests", { timeout: 20000 }, () => {
  for (const [kind, origin] of [
    ["a static origin", ["https://a.example"]],
    [
      "an origin function",
      (o: string | undefined, cb: (e: null, ok: boolean) => void) =>
        cb(null, o === "https://a.example"),
    ],
  ] as const) {
    test(`${kind}: the poll, its shared-body answer and a POST carry the headers`, async () => {
      const t = await startEngine({
        cors: { origin: origin as never, credentials: true, exposedHeaders: ["x-trace"] },
      });
      try {
        const headers = { origin: "https://a.example" };
        const { socket, answer } = await heldPoll(t, headers);
        socket._sendPrepared(new PreparedMessage("hello"), true);
        const post = await rawRequest(
          t.port,
          `/engine.io/?EIO=4&transport=polling&sid=${socket.id}`,
          { method: "POST", body: "4hi", headers },
        );
        for (const res of [await answer, post]) {
          assert.equal(res.status, 200);
          assert.equal(res.headers["access-control-allow-origin"], "https://a.example");
          assert.equal(res.headers["access-control-allow-credentials"], "true");
          assert.equal(res.headers["access-control-expose-headers"], "x-trace");
          assert.equal(res.headers["cache-control"], "no-store");
        }
        assert.equal((await answer).text, "4hello");
        assert.equal(post.text, "ok");
      } finally {
        await t.close();
      }
    });
  }
});

describe("request parsing", () => {
  test("the query reads as URLSearchParams reads it", () => {
    const urls = [
      "/engine.io/?EIO=4&transport=polling&sid=abc_-12",
      "/engine.io/",
      "/engine.io/?",
      "/x?a",
      "/x?a=&b",
      "/x?&&a=1&&",
      "/x?a=1&a=2",
      "/x?a=b=c",
      "/x?=v",
      "/x?a=%zz",
      "/x?a=b+c&c=%C3%A9",
      "/x?__proto__=1",
      "/x?constructor=2&toString=x",
    ];
    for (const url of urls) {
      const mark = url.indexOf("?");
      const expected =
        mark === -1 ? {} : Object.fromEntries(new URLSearchParams(url.slice(mark + 1)).entries());
      const query = queryOf({ url } as IncomingMessage);
      assert.deepEqual(Object.entries(query), Object.entries(expected), url);
      assert.equal(Object.getPrototypeOf(query), Object.prototype, url);
    }
  });

  test("a header is read from the raw list, any case, the first of repeats", () => {
    const req = {
      rawHeaders: ["Host", "a", "User-Agent", "first", "user-agent", "second", "ORIGIN", "o"],
    } as IncomingMessage;
    assert.equal(rawHeader(req, "user-agent"), "first");
    assert.equal(rawHeader(req, "origin"), "o");
    assert.equal(rawHeader(req, "cookie"), undefined);
    assert.ok(someRawHeader(req, "user-agent", (value) => value === "second"));
    assert.ok(!someRawHeader(req, "host", (value) => value === "b"));
  });
});
