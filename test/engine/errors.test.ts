/**
 * Every refusal path of the engine, with raw HTTP requests and raw websocket
 * clients: the error table's codes and statuses, `connection_error`, and
 * malformed input closing only the offending session.
 */
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import type { ConnectionErrorEvent, Socket } from "../../src/engine/index.js";
import { delay, handshake, next, rawRequest, startEngine, type TestEngine } from "./helpers.js";

function json(text: string): unknown {
  return JSON.parse(text);
}

describe("engine error table over HTTP", { timeout: 20000 }, () => {
  let t: TestEngine;
  const errors: ConnectionErrorEvent[] = [];

  before(async () => {
    t = await startEngine({
      allowRequest: (req, fn) => {
        const deny = req.headers["x-deny"];
        if (deny === undefined) fn(null, true);
        else fn(deny === "" ? null : String(deny), false);
      },
    });
    t.engine.on("connection_error", (err) => errors.push(err));
  });

  after(async () => {
    await t.close();
  });

  async function expectError(
    path: string,
    status: number,
    code: number,
    message: string,
    options: Parameters<typeof rawRequest>[2] = {},
  ): Promise<void> {
    const before = errors.length;
    const res = await rawRequest(t.port, path, options);
    assert.equal(res.status, status);
    assert.equal(res.headers["content-type"], "application/json");
    assert.deepEqual(json(res.text), { code, message });
    assert.equal(errors.length, before + 1, "connection_error not emitted");
    const event = errors.at(-1)!;
    assert.equal(event.code, code);
    assert.equal(typeof event.message, "string");
    assert.ok(event.req, "connection_error without req");
    assert.equal(typeof event.context, "object");
  }

  test("0 Transport unknown", async () => {
    await expectError("/engine.io/?EIO=4&transport=carrier-pigeon", 400, 0, "Transport unknown");
    await expectError("/engine.io/?EIO=4", 400, 0, "Transport unknown");
  });

  test("1 Session ID unknown", async () => {
    await expectError("/engine.io/?EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown");
    await expectError(
      "/engine.io/?EIO=4&transport=polling&sid=__proto__",
      400,
      1,
      "Session ID unknown",
    );
  });

  test("2 Bad handshake method", async () => {
    await expectError("/engine.io/?EIO=4&transport=polling", 400, 2, "Bad handshake method", {
      method: "POST",
      body: "4hi",
    });
    await expectError("/engine.io/?EIO=4&transport=polling", 400, 2, "Bad handshake method", {
      method: "PUT",
    });
  });

  test("3 Bad request: malformed EIO, websocket handshake over plain HTTP", async () => {
    await expectError("/engine.io/?EIO=four&transport=polling", 400, 3, "Bad request");
    await expectError("/engine.io/?EIO=4&transport=websocket", 400, 3, "Bad request");
  });

  test("3 Bad request: a JSONP index that is not digits", async () => {
    await expectError("/engine.io/?EIO=4&transport=polling&j=alert(1)", 400, 3, "Bad request");
    await expectError("/engine.io/?EIO=4&transport=polling&j=", 400, 3, "Bad request");
  });

  test("3 Bad request: polling request on a websocket session", async () => {
    const connection = next<[Socket]>(t.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
    const [socket] = await connection;
    await expectError(
      `/engine.io/?EIO=4&transport=polling&sid=${socket.id}`,
      400,
      3,
      "Bad request",
    );
    ws.close();
    await next(socket, "close");
  });

  test("4 Forbidden, with allowRequest's message when it gives one", async () => {
    await expectError("/engine.io/?EIO=4&transport=polling", 403, 4, "Forbidden", {
      headers: { "x-deny": "" },
    });
    await expectError("/engine.io/?EIO=4&transport=polling", 403, 4, "no entry today", {
      headers: { "x-deny": "no entry today" },
    });
  });

  test("5 Unsupported protocol version: EIO=3 without allowEIO3, EIO=5, no EIO", async () => {
    await expectError(
      "/engine.io/?EIO=3&transport=polling",
      400,
      5,
      "Unsupported protocol version",
    );
    await expectError(
      "/engine.io/?EIO=5&transport=polling",
      400,
      5,
      "Unsupported protocol version",
    );
    await expectError("/engine.io/?transport=polling", 400, 5, "Unsupported protocol version");
  });

  test("an overlapping GET is refused and closes the session with transport error", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    const held = rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    await delay(50);
    const second = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(second.status, 400);
    assert.deepEqual(json(second.text), { code: 3, message: "Bad request" });
    assert.equal((await closed)[0], "transport error");
    // The held poll learns of the close.
    assert.equal((await held).text, "1");
  });

  test("an invalid packet in a POST closes the session with parse error", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      body: "9garbage",
    });
    // Answered `ok`, as engine.io does; the session is gone all the same.
    assert.equal(res.status, 200);
    assert.equal(res.text, "ok");
    assert.equal((await closed)[0], "parse error");
    assert.equal(t.engine.clients[sid], undefined);
  });

  test("binary content-type on a v4 POST is refused", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from([4, 1, 2]),
    });
    assert.equal(res.status, 400);
    assert.equal((await closed)[0], "transport error");
  });

  test("a ping from a v4 client is a protocol error", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      body: "2",
    });
    assert.equal((await closed)[0], "transport error");
  });

  test("a POST close packet closes the session with transport close", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      body: "1",
    });
    assert.equal(res.text, "ok");
    assert.equal((await closed)[0], "transport close");
  });

  test("an invalid websocket frame closes that session with parse error", async () => {
    const connection = next<[Socket]>(t.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
    const [socket] = await connection;
    if (ws.readyState !== WebSocket.OPEN) await next(ws, "open");
    const closed = next<[string]>(socket, "close");
    ws.send("x not a packet");
    assert.equal((await closed)[0], "parse error");
    await next(ws, "close");
  });

  test("websocket upgrades are refused with the error table too", async () => {
    for (const [query, status] of [
      ["EIO=4&transport=nope", "400"],
      ["EIO=4&transport=websocket&sid=nope", "400"],
      ["EIO=3&transport=websocket", "400"],
    ] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?${query}`);
      ws.on("error", () => {});
      const [, res] = await next<[unknown, { statusCode: number }]>(ws, "unexpected-response");
      assert.equal(String(res.statusCode), status, query);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`, {
      headers: { "x-deny": "" },
    });
    ws.on("error", () => {});
    const [, res] = await next<[unknown, { statusCode: number }]>(ws, "unexpected-response");
    assert.equal(res.statusCode, 403);
  });

  test("garbage on the wire never takes the server down", async () => {
    for (const raw of [
      "GET /engine.io/?EIO=4&transport=polling&sid=%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
      "\x00\x01\x02 garbage\r\n\r\n",
    ]) {
      const socket = netConnect(t.port, "127.0.0.1");
      socket.on("error", () => {});
      socket.on("data", () => socket.destroy());
      socket.write(raw);
      await next(socket, "close");
    }
    const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
    assert.equal(res.status, 200);
  });
});

describe("limits", { timeout: 20000 }, () => {
  test("a POST past maxHttpBufferSize gets 413 and closes the session", async () => {
    const t = await startEngine({ maxHttpBufferSize: 100 });
    try {
      const { sid, open } = await handshake(t.port);
      assert.equal(open.maxPayload, 100);
      const socket = t.engine.clients[sid];
      const closed = next<[string]>(socket, "close");
      // At the limit is fine...
      const ok = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: `4${"a".repeat(99)}`,
      });
      assert.equal(ok.status, 200);
      // ...one byte past it is not.
      const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: `4${"a".repeat(100)}`,
      });
      assert.equal(res.status, 413);
      assert.equal((await closed)[0], "transport error");
    } finally {
      await t.close();
    }
  });

  test("a huge streamed POST is cut off without being buffered", async () => {
    const t = await startEngine({ maxHttpBufferSize: 1000 });
    try {
      const { sid } = await handshake(t.port);
      const status = await new Promise<number>((resolve, reject) => {
        const socket = netConnect(t.port, "127.0.0.1");
        let response = "";
        socket.on("data", (d) => {
          response += d.toString();
          const m = /^HTTP\/1\.1 (\d+)/.exec(response);
          if (m) {
            resolve(Number(m[1]));
            socket.destroy();
          }
        });
        socket.on("error", () => {});
        socket.on("close", () => reject(new Error("closed without a response")));
        socket.write(
          `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
            "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        // Keep streaming; the server must answer long before the body ends.
        const chunk = "a".repeat(400);
        let sent = 0;
        const pump = setInterval(() => {
          if (socket.destroyed || sent > 200) {
            clearInterval(pump);
            return;
          }
          sent++;
          socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        }, 2);
      });
      assert.equal(status, 413);
    } finally {
      await t.close();
    }
  });

  test("a websocket frame past maxHttpBufferSize closes with 1009", async () => {
    const t = await startEngine({ maxHttpBufferSize: 100 });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [socket] = await connection;
      if (ws.readyState !== WebSocket.OPEN) await next(ws, "open");
      const closed = next<[string]>(socket, "close");
      const received: string[] = [];
      socket.on("message", (d) => received.push(String(d)));
      ws.send(`4${"b".repeat(99)}`);
      ws.send(`4${"b".repeat(100)}`);
      const [code] = await next<[number]>(ws, "close");
      assert.equal(code, 1009);
      // ws reports the oversized frame as an error before closing, as engine.io sees it.
      assert.equal((await closed)[0], "transport error");
      assert.deepEqual(received, ["b".repeat(99)]);
    } finally {
      await t.close();
    }
  });

  test("handshakes past maxConnections get 503 with code 6", async () => {
    const t = await startEngine({ maxConnections: 2 });
    try {
      const errors: ConnectionErrorEvent[] = [];
      t.engine.on("connection_error", (e) => errors.push(e));
      const first = await handshake(t.port);
      await handshake(t.port);
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(res.status, 503);
      assert.deepEqual(json(res.text), { code: 6, message: "Too many connections" });
      assert.equal(errors.at(-1)?.code, 6);
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      ws.on("error", () => {});
      const [, wsRes] = await next<[unknown, { statusCode: number }]>(ws, "unexpected-response");
      assert.equal(wsRes.statusCode, 503);
      // Existing sessions are unaffected, and a freed slot can be reused.
      t.engine.clients[first.sid].close();
      await delay(20);
      const again = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(again.status, 200);
    } finally {
      await t.close();
    }
  });
});
