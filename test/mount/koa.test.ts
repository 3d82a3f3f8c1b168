/**
 * switchboard/koa with the real Koa 3 and the real socket.io-client: polling
 * and websocket round trips with acks, and Koa's own middleware (including a
 * catch-all that answers everything) never seeing a Socket.IO request; Bayeux
 * at /bayeux beside Socket.IO with the real Faye client.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { after, before, describe, it } from "node:test";
import Koa from "koa";
import type { Server } from "../../src/index.js";
import { attachKoa, createKoaSwitchboard } from "../../src/mount/koa.js";
import { itAppliesOneCors } from "./cors.js";
import { assertFayeRoundTrip, bayeuxHandshake } from "./faye.js";
import {
  assertBothTransports,
  baseUrl,
  closeServer,
  get,
  installEcho,
  itServesSocketIo,
  listenLoopback,
  nextTurn,
} from "./helpers.js";

function buildApp(): Koa {
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path === "/hello") {
      ctx.type = "text/plain";
      ctx.body = "hello from koa";
      return;
    }
    await next();
  });
  // A catch-all: anything that reaches Koa and is not /hello gets this.
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = "koa 404";
  });
  return app;
}

describe("switchboard/koa, attached on app.listen()", () => {
  let server: HttpServer;
  let io: Server;
  let url = "";

  before(async () => {
    const app = buildApp();
    io = attachKoa(app);
    installEcho(io);
    server = await listenLoopback(app);
    url = baseUrl(server);
  });

  after(async () => {
    await closeServer(io);
    await closeServer(server);
  });

  itServesSocketIo(() => url, "answers the polling handshake, not Koa's catch-all");

  it("leaves Koa's own middleware working", { timeout: 10_000 }, async () => {
    assert.equal((await get(`${url}/hello`)).body, "hello from koa");
    const missing = await get(`${url}/elsewhere`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, "koa 404");
  });
});

describe("switchboard/koa, with a server given", () => {
  it("serves both transports on http.createServer(app.callback())", {
    timeout: 15_000,
  }, async () => {
    const app = buildApp();
    const server = createServer(app.callback());
    const io = attachKoa(app, { server, path: "/koa-io" });
    installEcho(io);
    await listenLoopback(server);
    const url = baseUrl(server);
    try {
      await assertBothTransports(url, "/koa-io");
      assert.equal((await get(`${url}/socket.io/`)).body, "koa 404");
    } finally {
      await closeServer(io);
      await closeServer(server);
    }
  });
});

describe("switchboard/koa with Bayeux", () => {
  it("serves Faye over long-polling and websocket beside Socket.IO and Koa", {
    timeout: 30_000,
  }, async () => {
    const app = buildApp();
    const { io, bayeux } = createKoaSwitchboard(app);
    installEcho(io);
    assert.ok(bayeux);
    const server = await listenLoopback(app);
    const url = baseUrl(server);
    try {
      await assertFayeRoundTrip(`${url}/bayeux`, "long-polling", bayeux);
      await assertFayeRoundTrip(`${url}/bayeux`, "websocket", bayeux);
      await assertBothTransports(url);
      assert.equal((await get(`${url}/hello`)).body, "hello from koa");
      assert.equal((await get(`${url}/bayeuxx`)).body, "koa 404");
    } finally {
      await closeServer(server);
    }
    await nextTurn();
    assert.equal(bayeux.closed, true);
  });

  it("bayeux: false leaves /bayeux to Koa", { timeout: 10_000 }, async () => {
    const app = buildApp();
    const server = createServer(app.callback());
    const { bayeux } = createKoaSwitchboard(app, { server, bayeux: false });
    assert.equal(bayeux, null);
    await listenLoopback(server);
    try {
      const res = await bayeuxHandshake(`${baseUrl(server)}/bayeux`);
      assert.deepEqual(res, { status: 404, body: "koa 404" });
    } finally {
      await closeServer(server);
    }
  });
});

describe("switchboard/koa cross-origin", () => {
  itAppliesOneCors(async (options) => {
    const app = buildApp();
    attachKoa(app, options);
    const server = await listenLoopback(app);
    return {
      url: baseUrl(server),
      close: () => {
        const closed = closeServer(server);
        server.closeAllConnections();
        return closed;
      },
    };
  });
});
