/**
 * switchboard/express with the real Express 5 and the real socket.io-client:
 * polling-only and websocket-only round trips with acks, Express's own routes
 * beside it, and a body parser plus catch-all 404 registered before the
 * adapter that still never see a Socket.IO request; Bayeux at /bayeux beside
 * Socket.IO with the real Faye client over long-polling and websocket.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import { after, before, describe, it } from "node:test";
import express from "express";
import { BayeuxServer } from "../../src/bayeux/index.js";
import type { Server } from "../../src/index.js";
import {
  attachExpress,
  createExpressSwitchboard,
  type Mount,
  type Switchboard,
} from "../../src/mount/express.js";
import { itAppliesOneCors } from "./cors.js";
import { assertBayeuxHandshake, assertFayeRoundTrip, bayeuxHandshake } from "./faye.js";
import {
  assertBothTransports,
  assertRoundTrip,
  baseUrl,
  closeServer,
  get,
  installEcho,
  itServesSocketIo,
  listenLoopback,
  nextTurn,
} from "./helpers.js";

function buildApp(): express.Express {
  const app = express();
  // Registered before the adapter on purpose: a parser that would eat any body
  // and a catch-all 404 must not see Socket.IO requests.
  app.use(express.text({ type: "*/*" }));
  app.get("/hello", (_req, res) => {
    res.type("text/plain").send("hello from express");
  });
  app.post("/echo-body", (req, res) => {
    res.type("text/plain").send(`got ${String(req.body)}`);
  });
  app.use((_req, res) => {
    res.status(404).type("text/plain").send("express 404");
  });
  return app;
}

describe("switchboard/express, attached on app.listen()", () => {
  let server: HttpServer;
  let io: Server;
  let url = "";

  before(async () => {
    const app = buildApp();
    io = attachExpress(app);
    installEcho(io);
    server = await listenLoopback(app);
    url = baseUrl(server);
  });

  after(async () => {
    await closeServer(io);
    await closeServer(server);
  });

  itServesSocketIo(() => url, "answers the polling handshake despite the app's catch-all 404");

  it("serves the client bundle under the path", { timeout: 10_000 }, async () => {
    const res = await get(`${url}/socket.io/socket.io.js`);
    assert.equal(res.status, 200);
    assert.match(res.type ?? "", /javascript/);
    assert.ok(res.body.length > 1000);
  });

  it("leaves Express's own routes, body parser and 404 working", { timeout: 10_000 }, async () => {
    assert.deepEqual(await get(`${url}/hello`), {
      status: 200,
      body: "hello from express",
      type: "text/plain; charset=utf-8",
    });
    const posted = await get(`${url}/echo-body`, { method: "POST", body: "abc" });
    assert.equal(posted.body, "got abc");
    const missing = await get(`${url}/socket.iox/`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, "express 404");
  });
});

describe("switchboard/express, with a server given", () => {
  it("serves both transports on http.createServer(app)", { timeout: 15_000 }, async () => {
    const app = buildApp();
    const server = createServer(app);
    const io = attachExpress(app, { server, path: "/live" });
    installEcho(io);
    await listenLoopback(server);
    const url = baseUrl(server);
    try {
      await assertBothTransports(url, "/live");
      assert.equal((await get(`${url}/socket.io/`)).body, "express 404");
    } finally {
      await closeServer(io);
      await closeServer(server);
    }
  });

  it("routes a second mount by prefix and closes every mount with the server", {
    timeout: 15_000,
  }, async () => {
    const app = buildApp();
    let closedMounts = 0;
    const extra: Mount = {
      path: "/extra/",
      handleRequest: (req, res) => {
        res.writeHead(200, { "Content-Type": "text/plain" }).end(`extra ${req.method} ${req.url}`);
      },
      close: () => {
        closedMounts++;
      },
    };
    const io = attachExpress(app, { mounts: [extra] });
    installEcho(io);
    const server = await listenLoopback(app);
    const url = baseUrl(server);
    try {
      assert.equal((await get(`${url}/extra`)).body, "extra GET /extra");
      assert.equal(
        (await get(`${url}/extra/meta?x=1`, { method: "POST", body: "[]" })).body,
        "extra POST /extra/meta?x=1",
      );
      assert.equal((await get(`${url}/extrax`)).body, "express 404");
      await assertBayeuxHandshake(`${url}/bayeux`);
      await assertRoundTrip(url, "websocket");
    } finally {
      await closeServer(server);
    }
    // The server's "close" event closes the mounts (Socket.IO, Bayeux and the extra one).
    await nextTurn();
    assert.equal(closedMounts, 1);
  });
});

describe("switchboard/express with Bayeux", () => {
  let server: HttpServer;
  let created: Switchboard;
  let url = "";

  before(async () => {
    const app = buildApp();
    created = createExpressSwitchboard(app);
    installEcho(created.io);
    server = await listenLoopback(app);
    url = baseUrl(server);
  });

  after(async () => {
    await closeServer(server);
    await nextTurn();
    // Closing the app's server closed the Bayeux server with it.
    assert.equal(created.bayeux?.closed, true);
  });

  it("exposes the Bayeux server, at /bayeux by default", () => {
    assert.ok(created.bayeux instanceof BayeuxServer);
    assert.equal(created.bayeux.options.path, "/bayeux");
  });

  it("round-trips a Faye publish over long-polling", { timeout: 15_000 }, async () => {
    await assertFayeRoundTrip(`${url}/bayeux`, "long-polling", created.bayeux!);
  });

  it("round-trips a Faye publish over websocket", { timeout: 15_000 }, async () => {
    await assertFayeRoundTrip(`${url}/bayeux`, "websocket", created.bayeux!);
  });

  it("keeps Socket.IO and Express working beside Bayeux", { timeout: 10_000 }, async () => {
    await assertBothTransports(url);
    assert.equal((await get(`${url}/hello`)).body, "hello from express");
    assert.equal((await get(`${url}/bayeuxx`)).body, "express 404");
  });
});

describe("switchboard/express Bayeux options", () => {
  it("bayeux: false leaves /bayeux to Express", { timeout: 10_000 }, async () => {
    const app = buildApp();
    const created = createExpressSwitchboard(app, { bayeux: false });
    assert.equal(created.bayeux, null);
    const server = await listenLoopback(app);
    try {
      const res = await bayeuxHandshake(`${baseUrl(server)}/bayeux`);
      assert.deepEqual(res, { status: 404, body: "express 404" });
    } finally {
      await closeServer(server);
    }
  });

  it("serves a given BayeuxServer at its own path, with attachExpress", {
    timeout: 15_000,
  }, async () => {
    const app = buildApp();
    const bayeux = new BayeuxServer({ path: "/faye" });
    const server = createServer(app);
    const io = attachExpress(app, { server, bayeux });
    installEcho(io);
    await listenLoopback(server);
    const url = baseUrl(server);
    try {
      await assertFayeRoundTrip(`${url}/faye`, "long-polling", bayeux);
      assert.equal((await get(`${url}/bayeux`)).body, "express 404");
      await assertRoundTrip(url, "websocket");
    } finally {
      await closeServer(server);
    }
    await nextTurn();
    assert.equal(bayeux.closed, true);
  });

  it("passes Bayeux options through", { timeout: 10_000 }, async () => {
    const app = buildApp();
    const server = createServer(app);
    const { bayeux } = createExpressSwitchboard(app, {
      server,
      bayeux: { path: "/pubsub", timeout: 5000 },
    });
    await listenLoopback(server);
    try {
      assert.equal(bayeux?.options.timeout, 5000);
      await assertBayeuxHandshake(`${baseUrl(server)}/pubsub`);
    } finally {
      await closeServer(server);
    }
  });

  it("refuses a Socket.IO path that overlaps Bayeux's", () => {
    assert.throws(() => attachExpress(buildApp(), { path: "/bayeux" }), {
      code: "ERR_MOUNT_CONFLICT",
    });
  });
});

describe("switchboard/express cross-origin", () => {
  itAppliesOneCors(async (options) => {
    const app = buildApp();
    attachExpress(app, options);
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

describe("switchboard/express attached twice to one app", () => {
  it("serves both at distinct paths and refuses a taken path at attach time", {
    timeout: 20_000,
  }, async () => {
    const app = buildApp();
    const first = createExpressSwitchboard(app);
    const second = createExpressSwitchboard(app, { path: "/second-io", bayeux: false });
    installEcho(first.io);
    installEcho(second.io);
    // Before any server exists: the app's servers would get both.
    assert.throws(() => attachExpress(app), {
      code: "ERR_MOUNT_CONFLICT",
      message: /\/socket\.io is already served on this app's servers/,
    });
    const server = await listenLoopback(app);
    const url = baseUrl(server);
    try {
      await assertRoundTrip(url, "websocket");
      await assertRoundTrip(url, "websocket", "/second-io");
      await assertBayeuxHandshake(`${url}/bayeux`);
      assert.equal((await get(`${url}/hello`)).body, "hello from express");
    } finally {
      server.closeAllConnections();
      await closeServer(server);
    }
  });
});
