/**
 * `socket.request`: the lean record a session keeps of its handshake request,
 * with engine.io's documented fields, over polling and websocket.
 */
import assert from "node:assert/strict";
import { IncomingMessage } from "node:http";
import { describe, test } from "node:test";
import { WebSocket } from "ws";
import { intern } from "../../src/engine/handshake-request.js";
import { HandshakeRequest, type Socket } from "../../src/engine/index.js";
import { handshake, next, startEngine } from "./helpers.js";

describe("socket.request", { timeout: 10000 }, () => {
  test("websocket handshake: headers, url, method, _query, connection and middleware fields", async () => {
    const t = await startEngine();
    t.engine.use((req, _res, next) => {
      (req as IncomingMessage & { user?: string }).user = "alice";
      next();
    });
    try {
      const connected = next<[Socket]>(t.engine, "connection");
      const client = new WebSocket(
        `ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket&token=abc`,
        { headers: { "X-Custom": "yes" } },
      );
      const opened = next(client, "open");
      const [socket] = await connected;
      await opened;
      const req = socket.request as unknown as HandshakeRequest;
      assert.ok(req instanceof HandshakeRequest);
      assert.ok(!((req as unknown) instanceof IncomingMessage), "the stream object is not kept");
      assert.equal(req.method, "GET");
      assert.equal(req.url, "/engine.io/?EIO=4&transport=websocket&token=abc");
      assert.equal(req.httpVersion, "1.1");
      assert.equal(req.httpVersionMajor, 1);
      assert.equal(req.httpVersionMinor, 1);
      assert.equal(req.headers["x-custom"], "yes");
      assert.equal(req.headers.upgrade, "websocket");
      assert.equal(req.headers["sec-websocket-key"], undefined, "the accept key is not kept");
      assert.deepEqual({ ...req._query }, { EIO: "4", transport: "websocket", token: "abc" });
      assert.equal(req.connection.remoteAddress, "127.0.0.1");
      assert.equal(req.socket, req.connection);
      assert.equal(req.client, req.socket);
      assert.equal(req.user, "alice");
      assert.ok(req.rawHeaders.includes("x-custom"));
      assert.equal(socket.remoteAddress, "127.0.0.1");
      client.close();
      await next(socket, "close");
    } finally {
      await t.close();
    }
  });

  test("polling handshake keeps the same fields", async () => {
    const t = await startEngine();
    try {
      const connected = next<[Socket]>(t.engine, "connection");
      await handshake(t.port, "EIO=4&transport=polling&room=7");
      const [socket] = await connected;
      const req = socket.request;
      assert.equal(req.method, "GET");
      assert.equal(req.url, "/engine.io/?EIO=4&transport=polling&room=7");
      assert.equal(req.headers.host, `127.0.0.1:${t.port}`);
      assert.equal((req as unknown as HandshakeRequest)._query.room, "7");
      assert.equal(req.socket.remoteAddress, "127.0.0.1");
      socket.close();
    } finally {
      await t.close();
    }
  });

  test("intern gives back equal text, past its bound too", () => {
    const values = Array.from({ length: 3000 }, (_, i) => `value-${i % 1500}`);
    for (const value of values) assert.equal(intern(value), value);
    const long = "x".repeat(2000);
    assert.equal(intern(long), long);
  });
});
