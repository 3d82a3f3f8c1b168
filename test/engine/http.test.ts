/**
 * The engine's HTTP surface with raw requests: content types, CORS, the
 * session cookie, response compression, JSONP, header events, the open
 * packet, and how attach() shares the server with other handlers.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { gunzipSync, inflateSync } from "node:zlib";
import { WebSocket } from "ws";
import { attach, Server, type Socket } from "../../src/engine/index.js";
import { delay, handshake, next, rawRequest, startEngine } from "./helpers.js";

describe("polling basics", { timeout: 20000 }, () => {
  test("handshake, held GET, POST ok, several packets joined by the separator", async () => {
    const t = await startEngine({ pingInterval: 5000, initialPacket: "welcome" });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const { sid, open, response } = await handshake(t.port);
      assert.equal(response.status, 200);
      // The initial packet follows the open packet in the same payload.
      assert.ok(response.text.endsWith("}\x1e4welcome"), response.text);
      assert.equal(response.headers["content-type"], "text/plain; charset=UTF-8");
      assert.equal(response.headers["cache-control"], "no-store");
      assert.equal(sid.length, 20);
      assert.match(sid, /^[A-Za-z0-9_-]{20}$/);
      assert.deepEqual(open, {
        sid,
        upgrades: ["websocket"],
        pingInterval: 5000,
        pingTimeout: 20000,
        maxPayload: 1e6,
      });
      const [socket] = await connection;
      assert.equal(socket.id, sid);
      assert.equal(socket.protocol, 4);
      assert.equal(socket.transport.name, "polling");
      assert.equal(socket.readyState, "open");
      const messages: unknown[] = [];
      socket.on("message", (m) => messages.push(m));

      const base = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
      // A held poll is answered when packets are ready, all of them at once.
      const poll = rawRequest(t.port, base);
      await delay(30);
      socket.send("a");
      const res = await poll;
      assert.equal(res.text, "4a");
      socket.send("b");
      socket.send(Buffer.from([1, 2]));
      assert.equal((await rawRequest(t.port, base)).text, "4b\x1ebAQI=");

      const post = await rawRequest(t.port, base, { method: "POST", body: "4x\x1ebAwQ=\x1e4€" });
      assert.equal(post.status, 200);
      assert.equal(post.text, "ok");
      assert.equal(post.headers["content-type"], "text/html");
      assert.deepEqual(messages, ["x", Buffer.from([3, 4]), "€"]);
    } finally {
      await t.close();
    }
  });

  test("an unsupported method on a session is a bad request", async () => {
    const t = await startEngine();
    try {
      const { sid } = await handshake(t.port);
      const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "PUT",
      });
      assert.equal(res.status, 400);
    } finally {
      await t.close();
    }
  });

  test("a session closed between polls answers the next poll with a noop and a close packet", async () => {
    const t = await startEngine();
    try {
      const { sid } = await handshake(t.port);
      const socket = t.engine.clients[sid];
      const closed = next<[string]>(socket, "close");
      socket.close();
      assert.equal((await closed)[0], "forced close");
      assert.equal(t.engine.clientsCount, 0);
      const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(res.status, 200);
      // engine.io's orderly close of a session without a held poll: `6␞1`.
      assert.equal(res.text, "6\x1e1");
    } finally {
      await t.close();
    }
  });

  test("close() flushes buffered packets before the close packet", async () => {
    const t = await startEngine();
    try {
      const { sid } = await handshake(t.port);
      const socket = t.engine.clients[sid];
      socket.send("last words");
      socket.close();
      assert.equal(socket.readyState, "closing");
      const base = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
      assert.equal((await rawRequest(t.port, base)).text, "4last words");
      assert.equal(socket.readyState, "closed");
      assert.equal((await rawRequest(t.port, base)).text, "6\x1e1");
    } finally {
      await t.close();
    }
  });
});

describe("CORS", { timeout: 20000 }, () => {
  test("preflight is answered 204 with the configured headers", async () => {
    const t = await startEngine({
      cors: {
        origin: ["https://a.example", /\.b\.example$/],
        credentials: true,
        methods: ["GET", "POST"],
        allowedHeaders: ["x-token"],
        exposedHeaders: ["x-trace"],
        maxAge: 600,
      },
    });
    try {
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling", {
        method: "OPTIONS",
        headers: { origin: "https://www.b.example", "access-control-request-method": "POST" },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers["access-control-allow-origin"], "https://www.b.example");
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.equal(res.headers["access-control-allow-methods"], "GET,POST");
      assert.equal(res.headers["access-control-allow-headers"], "x-token");
      assert.equal(res.headers["access-control-max-age"], "600");
      assert.match(String(res.headers.vary), /Origin/);

      const denied = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling", {
        method: "OPTIONS",
        headers: { origin: "https://evil.example" },
      });
      assert.equal(denied.headers["access-control-allow-origin"], undefined);

      const get = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling", {
        headers: { origin: "https://a.example" },
      });
      assert.equal(get.status, 200);
      assert.equal(get.headers["access-control-allow-origin"], "https://a.example");
      assert.equal(get.headers["access-control-expose-headers"], "x-trace");
      assert.equal(get.headers["access-control-allow-credentials"], "true");
    } finally {
      await t.close();
    }
  });

  test("origin as a string, true, and a function", async () => {
    for (const [cors, origin, expected] of [
      [{ origin: "https://fixed.example" }, "https://other.example", "https://fixed.example"],
      [{ origin: true }, "https://any.example", "https://any.example"],
      [{}, "https://any.example", "*"],
      [
        {
          origin: (o: string | undefined, cb: (e: Error | null, ok?: boolean) => void) =>
            cb(null, o === "https://fn.example"),
        },
        "https://fn.example",
        "https://fn.example",
      ],
    ] as const) {
      const t = await startEngine({ cors: cors as never });
      try {
        const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling", {
          method: "OPTIONS",
          headers: { origin, "access-control-request-headers": "x-a" },
        });
        assert.equal(res.status, 204);
        assert.equal(res.headers["access-control-allow-origin"], expected);
        assert.equal(res.headers["access-control-allow-methods"], "GET,HEAD,PUT,PATCH,POST,DELETE");
        // Without allowedHeaders, the requested ones are reflected.
        assert.equal(res.headers["access-control-allow-headers"], "x-a");
      } finally {
        await t.close();
      }
    }
  });

  test("without the cors option there are no CORS headers and OPTIONS is refused", async () => {
    const t = await startEngine();
    try {
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling", {
        method: "OPTIONS",
        headers: { origin: "https://a.example" },
      });
      assert.equal(res.status, 400);
      assert.equal(res.headers["access-control-allow-origin"], undefined);
    } finally {
      await t.close();
    }
  });
});

describe("cookie", { timeout: 20000 }, () => {
  test("off by default", async () => {
    const t = await startEngine();
    try {
      const { response } = await handshake(t.port);
      assert.equal(response.headers["set-cookie"], undefined);
    } finally {
      await t.close();
    }
  });

  test("cookie: true sets io=<sid> on the handshake only", async () => {
    const t = await startEngine({ cookie: true });
    try {
      const { sid, response } = await handshake(t.port);
      assert.deepEqual(response.headers["set-cookie"], [
        `io=${sid}; Path=/; HttpOnly; SameSite=Lax`,
      ]);
      const poll = rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      await delay(20);
      t.engine.clients[sid].send("x");
      assert.equal((await poll).headers["set-cookie"], undefined);
    } finally {
      await t.close();
    }
  });

  test("cookie options", async () => {
    const t = await startEngine({
      cookie: {
        name: "sess",
        path: "/app",
        httpOnly: false,
        sameSite: "strict",
        secure: true,
        domain: "example.com",
        maxAge: 60,
      },
    });
    try {
      const { sid, response } = await handshake(t.port);
      assert.deepEqual(response.headers["set-cookie"], [
        `sess=${sid}; Max-Age=60; Domain=example.com; Path=/app; Secure; SameSite=Strict`,
      ]);
    } finally {
      await t.close();
    }
  });

  test("the cookie is part of a direct websocket handshake", async () => {
    const t = await startEngine({ cookie: true });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [res] = await next<[{ headers: Record<string, string[]> }]>(ws, "upgrade");
      const [socket] = await connection;
      assert.deepEqual(res.headers["set-cookie"], [
        `io=${socket.id}; Path=/; HttpOnly; SameSite=Lax`,
      ]);
      ws.close();
      await next(socket, "close");
    } finally {
      await t.close();
    }
  });
});

describe("http compression", { timeout: 20000 }, () => {
  const big = "x".repeat(2000);

  test("gzip or deflate per Accept-Encoding above the threshold", async () => {
    const t = await startEngine();
    try {
      for (const [accept, encoding] of [
        ["gzip, deflate", "gzip"],
        ["deflate", "deflate"],
        ["gzip;q=0.2, deflate;q=0.9", "deflate"],
        ["br", undefined],
        ["", undefined],
      ] as const) {
        const { sid } = await handshake(t.port);
        const socket = t.engine.clients[sid];
        socket.send(big);
        const res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
          headers: accept ? { "accept-encoding": accept } : {},
        });
        assert.equal(res.headers["content-encoding"], encoding, accept);
        const body =
          encoding === "gzip"
            ? gunzipSync(res.body)
            : encoding === "deflate"
              ? inflateSync(res.body)
              : res.body;
        assert.equal(body.toString(), `4${big}`);
        if (encoding) assert.ok(res.body.length < 200);
      }
    } finally {
      await t.close();
    }
  });

  test("not below the threshold, not with compress: false, not when disabled", async () => {
    const t = await startEngine();
    const off = await startEngine({ httpCompression: false });
    try {
      const headers = { "accept-encoding": "gzip" };
      let { sid } = await handshake(t.port);
      t.engine.clients[sid].send("small");
      let res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        headers,
      });
      assert.equal(res.headers["content-encoding"], undefined);

      ({ sid } = await handshake(t.port));
      t.engine.clients[sid].send(big, { compress: false });
      res = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, { headers });
      assert.equal(res.headers["content-encoding"], undefined);

      ({ sid } = await handshake(off.port));
      off.engine.clients[sid].send(big);
      res = await rawRequest(off.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        headers,
      });
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.text, `4${big}`);
    } finally {
      await t.close();
      await off.close();
    }
  });
});

describe("JSONP", { timeout: 20000 }, () => {
  test("script responses and form-encoded POSTs", async () => {
    const t = await startEngine();
    try {
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling&j=3");
      assert.equal(res.status, 200);
      const m = /^___eio\[3\]\((".*")\);$/s.exec(res.text);
      assert.ok(m, res.text);
      const payload = JSON.parse(m[1]) as string;
      const sid = JSON.parse(payload.slice(1)).sid as string;
      const socket = t.engine.clients[sid];
      const messages: unknown[] = [];
      socket.on("message", (d) => messages.push(d));
      const base = `/engine.io/?EIO=4&transport=polling&j=3&sid=${sid}`;
      const post = await rawRequest(t.port, base, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `d=${encodeURIComponent("4line\\none\x1e4two\u2028")}`,
      });
      assert.equal(post.text, "ok");
      assert.deepEqual(messages, ["line\none", "two\u2028"]);
      socket.send("a\u2028b");
      socket.send(Buffer.from([255]));
      const poll = await rawRequest(t.port, base);
      assert.equal(poll.text, '___eio[3]("4a\\u2028b\\u001eb/w==");');
      // A form without the d field carries no packet: answered ok and ignored, as engine.io does.
      const bad = await rawRequest(t.port, base, { method: "POST", body: "x=1" });
      assert.equal(bad.status, 200);
      assert.equal(bad.text, "ok");
      assert.equal(socket.readyState, "open");
    } finally {
      await t.close();
    }
  });
});

describe("Engine.IO v3 (allowEIO3)", { timeout: 20000 }, () => {
  test("handshake, message round trip and client pings with raw requests", async () => {
    const t = await startEngine({ allowEIO3: true, pingInterval: 200, pingTimeout: 200 });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const res = await rawRequest(t.port, "/engine.io/?EIO=3&transport=polling");
      const m = /^(\d+):0(\{.*\})$/.exec(res.text);
      assert.ok(m, res.text);
      assert.equal(Number(m[1]), m[2].length + 1);
      const sid = JSON.parse(m[2]).sid as string;
      const [socket] = await connection;
      assert.equal(socket.protocol, 3);
      socket.on("message", (d) => socket.send(d));
      const base = `/engine.io/?EIO=3&transport=polling&sid=${sid}`;
      await rawRequest(t.port, base, { method: "POST", body: "6:4hello2:4€" });
      assert.equal((await rawRequest(t.port, base)).text, "6:4hello2:4€");
      // Binary: a b64 client gets base64, others the binary payload.
      await rawRequest(t.port, base, { method: "POST", body: "10:b4AQIDBA==" });
      const bin = await rawRequest(t.port, base);
      assert.equal(bin.headers["content-type"], "application/octet-stream");
      assert.deepEqual(bin.body, Buffer.from("0105ff0401020304", "hex"));
      await rawRequest(t.port, base, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: Buffer.from("0006ff3468656c6c6f", "hex"),
      });
      assert.equal((await rawRequest(t.port, base)).text, "6:4hello");
      // The client pings, the server answers pong, and the session lives on.
      for (let i = 0; i < 3; i++) {
        await delay(150);
        await rawRequest(t.port, base, { method: "POST", body: "1:2" });
        assert.equal((await rawRequest(t.port, base)).text, "1:3");
      }
      assert.equal(socket.readyState, "open");
      const closed = next<[string]>(socket, "close");
      assert.equal((await closed)[0], "ping timeout");
    } finally {
      await t.close();
    }
  });

  test("a v3 websocket session exchanges text and binary", async () => {
    const t = await startEngine({ allowEIO3: true });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=3&transport=websocket`);
      const frames: (string | Buffer)[] = [];
      ws.on("message", (d, isBinary) => frames.push(isBinary ? (d as Buffer) : d.toString()));
      const [socket] = await connection;
      socket.on("message", (d) => socket.send(d));
      await next(ws, "open");
      ws.send("4hi");
      ws.send(Buffer.from([4, 7, 8]));
      await delay(100);
      assert.match(String(frames[0]), /^0\{/);
      assert.deepEqual(frames.slice(1), ["4hi", Buffer.from([4, 7, 8])]);
      ws.close();
      await next(socket, "close");
    } finally {
      await t.close();
    }
  });
});

describe("headers events", { timeout: 20000 }, () => {
  test("initial_headers on the handshake, headers on every response", async () => {
    const t = await startEngine();
    try {
      let initial = 0;
      let all = 0;
      t.engine.on("initial_headers", (headers) => {
        initial++;
        headers["x-initial"] = "1";
      });
      t.engine.on("headers", (headers) => {
        all++;
        headers["x-every"] = "1";
      });
      const { sid, response } = await handshake(t.port);
      assert.equal(response.headers["x-initial"], "1");
      assert.equal(response.headers["x-every"], "1");
      const post = await rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: "4a",
      });
      assert.equal(post.headers["x-initial"], undefined);
      assert.equal(post.headers["x-every"], "1");
      assert.equal(initial, 1);
      assert.equal(all, 2);

      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [res] = await next<[{ headers: Record<string, string> }]>(ws, "upgrade");
      assert.equal(res.headers["x-initial"], "1");
      assert.equal(res.headers["x-every"], "1");
      ws.close();
    } finally {
      await t.close();
    }
  });
});

describe("attach", { timeout: 20000 }, () => {
  test("other requests reach the server's own listeners; custom paths work", async () => {
    const http = createServer((_req, res) => res.end("app"));
    const engine = attach(http, { path: "/rt" });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const port = (http.address() as AddressInfo).port;
    try {
      assert.equal((await rawRequest(port, "/")).text, "app");
      assert.equal((await rawRequest(port, "/rtx")).text, "app");
      const res = await rawRequest(port, "/rt/?EIO=4&transport=polling");
      assert.match(res.text, /^0\{"sid"/);
      assert.equal(engine.clientsCount, 1);
    } finally {
      engine.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  test("upgrades on other paths are destroyed unless destroyUpgrade is false", async () => {
    for (const destroyUpgrade of [true, false]) {
      const http = createServer();
      const engine = new Server();
      engine.attach(http, { destroyUpgrade, destroyUpgradeTimeout: 50 });
      const upgraded: import("node:stream").Duplex[] = [];
      http.on("upgrade", (_req, socket) => upgraded.push(socket));
      http.listen(0, "127.0.0.1");
      await once(http, "listening");
      const port = (http.address() as AddressInfo).port;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
      ws.on("error", () => {});
      const outcome = await Promise.race([
        new Promise((resolve) => ws.on("close", () => resolve("closed"))),
        delay(300).then(() => "pending"),
      ]);
      assert.equal(outcome, destroyUpgrade ? "closed" : "pending");
      ws.terminate();
      for (const socket of upgraded) socket.destroy();
      engine.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  test("listen() answers 501 outside the engine path", async () => {
    const engine = new Server().listen(0);
    const http = engine.httpServer!;
    if (!http.listening) await once(http, "listening");
    const port = (http.address() as AddressInfo).port;
    try {
      const res = await rawRequest(port, "/other");
      assert.equal(res.status, 501);
      assert.equal((await rawRequest(port, "/engine.io/?EIO=4&transport=polling")).status, 200);
    } finally {
      engine.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  test("closing the http server closes the sessions", async () => {
    const t = await startEngine();
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    t.http.closeAllConnections();
    t.http.close();
    assert.equal((await closed)[0], "forced close");
    assert.equal(t.engine.clientsCount, 0);
  });
});
