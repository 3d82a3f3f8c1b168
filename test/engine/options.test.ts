/**
 * Options and extension points: transports, allowUpgrades, generateId,
 * middlewares, the path, and the socket's packet-level events.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Socket as ClientSocket } from "engine.io-client";
import { WebSocket } from "ws";
import type { Packet, Socket } from "../../src/engine/index.js";
import { delay, type Emitterish, handshake, next, rawRequest, startEngine } from "./helpers.js";

describe("engine options", { timeout: 20000 }, () => {
  test("transports: polling only refuses websocket, and advertises no upgrade", async () => {
    const t = await startEngine({ transports: ["polling"] });
    try {
      const { open } = await handshake(t.port);
      assert.deepEqual(open.upgrades, []);
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      ws.on("error", () => {});
      const [, res] = await next<[unknown, { statusCode: number }]>(ws, "unexpected-response");
      assert.equal(res.statusCode, 400);
    } finally {
      await t.close();
    }
  });

  test("transports: websocket only refuses polling", async () => {
    const t = await startEngine({ transports: ["websocket"] });
    try {
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { code: 0, message: "Transport unknown" });
    } finally {
      await t.close();
    }
  });

  test("allowUpgrades: false advertises none and refuses upgrade attempts", async () => {
    const t = await startEngine({ allowUpgrades: false });
    try {
      const { sid, open } = await handshake(t.port);
      assert.deepEqual(open.upgrades, []);
      const ws = new WebSocket(
        `ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
      );
      ws.on("error", () => {});
      await next(ws, "close");
      assert.equal(t.engine.clients[sid].transport.name, "polling");
      assert.equal(t.engine.clients[sid].upgrading, false);
    } finally {
      await t.close();
    }
  });

  test("a second upgrade attempt on the same session is refused", async () => {
    const t = await startEngine();
    try {
      const { sid } = await handshake(t.port);
      const url = `ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`;
      const first = new WebSocket(url);
      await next(first, "open");
      await delay(20);
      const second = new WebSocket(url);
      second.on("error", () => {});
      await next(second, "close");
      assert.equal(first.readyState, WebSocket.OPEN);
      first.close();
    } finally {
      await t.close();
    }
  });

  test("generateId may be overridden, also async; a failure is a bad request", async () => {
    const t = await startEngine();
    try {
      let n = 0;
      t.engine.generateId = () => {
        n++;
        if (n === 1) return `custom-${n}`;
        if (n === 2) return Promise.resolve(`async-${n}`);
        throw new Error("no ids left");
      };
      assert.equal((await handshake(t.port)).sid, "custom-1");
      assert.equal((await handshake(t.port)).sid, "async-2");
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { code: 3, message: "Bad request" });
    } finally {
      await t.close();
    }
  });

  test("middlewares run before requests and upgrades, and can refuse them", async () => {
    const t = await startEngine();
    try {
      const seen: string[] = [];
      t.engine.use((req, res, nextFn) => {
        seen.push(req.headers.upgrade ? "upgrade" : "http");
        res.setHeader("x-middleware", "yes");
        if (req.headers["x-block"]) nextFn(new Error("blocked"));
        else nextFn();
      });
      const { response } = await handshake(t.port);
      assert.equal(response.headers["x-middleware"], "yes");
      const blocked = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling", {
        headers: { "x-block": "1" },
      });
      assert.equal(blocked.status, 400);
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [upgradeRes] = await next<[{ headers: Record<string, string> }]>(ws, "upgrade");
      assert.equal(upgradeRes.headers["x-middleware"], "yes");
      ws.close();
      assert.deepEqual(seen, ["http", "http", "upgrade"]);
    } finally {
      await t.close();
    }
  });

  test("path option and trailing slash", async () => {
    const t = await startEngine({ path: "/custom" });
    try {
      const res = await rawRequest(t.port, "/custom/?EIO=4&transport=polling");
      assert.match(res.text, /^0\{"sid"/);
      const other = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(other.status, 404);
    } finally {
      await t.close();
    }
  });

  test("invalid option values are refused up front", async () => {
    const { Server } = await import("../../src/engine/index.js");
    assert.throws(() => new Server({ pingInterval: -1 }), TypeError);
    assert.throws(() => new Server({ transports: ["carrier" as never] }), TypeError);
  });
});

describe("socket packet events", { timeout: 20000 }, () => {
  test("packet, packetCreate, flush, drain, heartbeat and write()", async () => {
    const t = await startEngine({ pingInterval: 100, pingTimeout: 500 });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const client = new ClientSocket(`http://127.0.0.1:${t.port}`, { transports: ["websocket"] });
      const [socket] = await connection;
      const received: Packet[] = [];
      const created: Packet[] = [];
      let flushes = 0;
      let serverDrains = 0;
      socket.on("packet", (p: Packet) => received.push(p));
      socket.on("packetCreate", (p: Packet) => created.push(p));
      socket.on("flush", () => flushes++);
      t.engine.on("drain", () => serverDrains++);
      await next(client as unknown as Emitterish, "open");
      const echoed = next(client as unknown as Emitterish, "message");
      client.send("ping me");
      const [message] = await next<[string]>(socket, "message");
      socket.write(message);
      await echoed;
      await next(socket, "heartbeat", 2000);
      assert.ok(received.some((p) => p.type === "message" && p.data === "ping me"));
      assert.ok(received.some((p) => p.type === "pong"));
      assert.ok(created.some((p) => p.type === "message" && p.data === "ping me"));
      assert.ok(created.some((p) => p.type === "ping"));
      assert.ok(flushes >= 2);
      assert.ok(serverDrains >= 2);
      client.close();
    } finally {
      await t.close();
    }
  });
});
