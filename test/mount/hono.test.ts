/**
 * switchboard/hono with the real Hono 4 on @hono/node-server and the real
 * socket.io-client: the middleware answers polling through the Node bindings,
 * `injectWebSocket` takes upgrades on the server `serve()` returned, and
 * Hono's routes and not-found handler keep working beside it; Bayeux at
 * /bayeux beside Socket.IO with the real Faye client.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { createHonoSwitchboard, type HonoSwitchboard } from "../../src/mount/hono.js";
import { itAppliesOneCors } from "./cors.js";
import { assertFayeRoundTrip, bayeuxHandshake } from "./faye.js";
import {
  assertBothTransports,
  closeServer,
  get,
  installEcho,
  itServesSocketIo,
  nextTurn,
} from "./helpers.js";

function start(sb: HonoSwitchboard): Promise<{ server: ServerType; url: string }> {
  const app = new Hono();
  app.use(sb.middleware);
  app.get("/hello", (c) => c.text("hello from hono"));
  app.post("/echo-body", async (c) => c.text(`got ${await c.req.text()}`));
  app.notFound((c) => c.text("hono 404", 404));
  return new Promise((resolve) => {
    const server = serve(
      { fetch: app.fetch, port: 0, hostname: "127.0.0.1" },
      (info: AddressInfo) => {
        resolve({ server, url: `http://127.0.0.1:${info.port}` });
      },
    );
    sb.injectWebSocket(server);
  });
}

describe("switchboard/hono", () => {
  const sb = createHonoSwitchboard();
  installEcho(sb.io);
  let server: ServerType;
  let url = "";

  before(async () => {
    ({ server, url } = await start(sb));
  });

  after(async () => {
    await closeServer(sb.io);
    await closeServer(server);
  });

  itServesSocketIo(() => url, "answers the polling handshake through the middleware");

  it("leaves Hono's routes, bodies and not-found handler working", {
    timeout: 10_000,
  }, async () => {
    assert.equal((await get(`${url}/hello`)).body, "hello from hono");
    assert.equal((await get(`${url}/echo-body`, { method: "POST", body: "abc" })).body, "got abc");
    const missing = await get(`${url}/socket.iox`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, "hono 404");
  });

  it("refuses an upgrade outside every mount with 404", { timeout: 10_000 }, async () => {
    const { WebSocket } = await import("ws");
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace("http", "ws")}/not-a-mount`);
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once("open", () => reject(new Error("upgrade should have been refused")));
      ws.once("error", () => {});
    });
    assert.equal(status, 404);
  });
});

describe("switchboard/hono options", () => {
  it("uses the configured path and closes with the server", { timeout: 15_000 }, async () => {
    let closed = 0;
    const probe = { path: "/probe", handleRequest() {}, close: () => void closed++ };
    const sb = createHonoSwitchboard({ path: "/hono-io", mounts: [probe] });
    installEcho(sb.io);
    const { server, url } = await start(sb);
    try {
      await assertBothTransports(url, "/hono-io");
      assert.equal((await get(`${url}/socket.io/`)).body, "hono 404");
    } finally {
      await closeServer(server);
    }
    // The server's "close" event closed every mount of the router.
    await nextTurn();
    assert.equal(closed, 1);
  });
});

describe("switchboard/hono with Bayeux", () => {
  it("serves Faye over long-polling and websocket beside Socket.IO and Hono", {
    timeout: 30_000,
  }, async () => {
    const sb = createHonoSwitchboard();
    installEcho(sb.io);
    const bayeux = sb.bayeux;
    assert.ok(bayeux);
    assert.equal(bayeux.options.path, "/bayeux");
    const { server, url } = await start(sb);
    try {
      await assertFayeRoundTrip(`${url}/bayeux`, "long-polling", bayeux);
      await assertFayeRoundTrip(`${url}/bayeux`, "websocket", bayeux);
      await assertBothTransports(url);
      assert.equal((await get(`${url}/hello`)).body, "hello from hono");
      assert.equal((await get(`${url}/bayeuxx`)).body, "hono 404");
    } finally {
      await closeServer(server);
    }
    await nextTurn();
    assert.equal(bayeux.closed, true);
  });

  it("bayeux: false leaves /bayeux to Hono", { timeout: 10_000 }, async () => {
    const sb = createHonoSwitchboard({ bayeux: false });
    assert.equal(sb.bayeux, null);
    const { server, url } = await start(sb);
    try {
      assert.deepEqual(await bayeuxHandshake(`${url}/bayeux`), { status: 404, body: "hono 404" });
    } finally {
      await closeServer(server);
    }
  });
});

describe("switchboard/hono cross-origin", () => {
  itAppliesOneCors(async (options) => {
    const sb = createHonoSwitchboard(options);
    const { server, url } = await start(sb);
    return {
      url,
      close: async () => {
        await sb.router.close();
        await closeServer(server);
      },
    };
  });
});
