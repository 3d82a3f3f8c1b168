/**
 * switchboard/node (`attachSwitchboard`) on a plain node:http server: Socket.IO
 * with the real socket.io-client and Bayeux with the real Faye client, in
 * front of the server's own request listener, closed with the server.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer, request } from "node:http";
import { describe, it } from "node:test";
import { BayeuxServer } from "../../src/bayeux/index.js";
import { EngineAttachError } from "../../src/engine/errors.js";
import { Server } from "../../src/index.js";
import { MountError } from "../../src/mount/errors.js";
import { attachSwitchboard } from "../../src/mount/node.js";
import { itAppliesOneCors } from "./cors.js";
import { assertFayeRoundTrip, bayeuxHandshake } from "./faye.js";
import { assertRoundTrip, baseUrl, get, installEcho } from "./helpers.js";

function plainServer(): HttpServer {
  return createServer((req, res) => {
    res.writeHead(req.url === "/hello" ? 200 : 404, { "Content-Type": "text/plain" });
    res.end(req.url === "/hello" ? "hello from node" : "node 404");
  });
}

function listen(server: HttpServer): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(baseUrl(server))));
}

/**
 * Closes the server and cuts what is left: a socket.io-client closed over
 * polling may leave a poll held open on the server until the session times out.
 */
function close(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The status a websocket upgrade request to `url` is answered with; rejects after 5 s. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { Connection: "Upgrade", Upgrade: "websocket" },
      timeout: 5000,
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on("timeout", () => req.destroy(new Error("upgrade left unanswered")));
    req.on("error", reject);
    req.end();
  });
}

describe("switchboard/node", () => {
  it("serves Socket.IO and Bayeux beside the server's own listener", {
    timeout: 30_000,
  }, async () => {
    const server = plainServer();
    const { io, bayeux } = attachSwitchboard(server);
    installEcho(io);
    assert.ok(bayeux instanceof BayeuxServer);
    const url = await listen(server);
    try {
      await assertFayeRoundTrip(`${url}/bayeux`, "long-polling", bayeux);
      await assertFayeRoundTrip(`${url}/bayeux`, "websocket", bayeux);
      await assertRoundTrip(url, "polling");
      await assertRoundTrip(url, "websocket");
      assert.equal((await get(`${url}/hello`)).body, "hello from node");
      assert.equal((await get(`${url}/bayeuxx`)).body, "node 404");
    } finally {
      await close(server);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bayeux.closed, true);
  });

  it("serves one pair of servers on two HTTP servers", { timeout: 20_000 }, async () => {
    const first = plainServer();
    const second = plainServer();
    const { io, bayeux } = attachSwitchboard([first, second], { bayeux: { path: "/faye" } });
    installEcho(io);
    assert.ok(bayeux);
    const [a, b] = await Promise.all([listen(first), listen(second)]);
    try {
      await assertFayeRoundTrip(`${a}/faye`, "long-polling", bayeux);
      await assertRoundTrip(b, "websocket");
      assert.equal((await bayeuxHandshake(`${b}/faye`)).status, 200);
      await close(first);
      // One server still serves: nothing is closed yet.
      assert.equal(bayeux.closed, false);
    } finally {
      if (first.listening) await close(first);
      await close(second);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(bayeux.closed, true);
  });

  it("bayeux: false serves Socket.IO only", { timeout: 10_000 }, async () => {
    const server = plainServer();
    const { io, bayeux } = attachSwitchboard(server, { bayeux: false });
    installEcho(io);
    assert.equal(bayeux, null);
    const url = await listen(server);
    try {
      await assertRoundTrip(url, "polling");
      assert.deepEqual(await bayeuxHandshake(`${url}/bayeux`), { status: 404, body: "node 404" });
    } finally {
      await close(server);
    }
  });
});

describe("switchboard/node cross-origin", () => {
  itAppliesOneCors(async (options) => {
    const server = plainServer();
    attachSwitchboard(server, options);
    return { url: await listen(server), close: () => close(server) };
  });
});

describe("switchboard/node attached twice to one server", () => {
  it("serves both pairs when their paths differ", { timeout: 30_000 }, async () => {
    const server = plainServer();
    const first = attachSwitchboard(server, { path: "/one-io", bayeux: { path: "/one-bayeux" } });
    const second = attachSwitchboard(server, { path: "/two-io", bayeux: { path: "/two-bayeux" } });
    installEcho(first.io);
    installEcho(second.io);
    assert.ok(first.bayeux && second.bayeux);
    const url = await listen(server);
    try {
      for (const path of ["/one-io", "/two-io"]) {
        await assertRoundTrip(url, "websocket", path);
        await assertRoundTrip(url, "polling", path);
      }
      await assertFayeRoundTrip(`${url}/one-bayeux`, "websocket", first.bayeux);
      await assertFayeRoundTrip(`${url}/two-bayeux`, "websocket", second.bayeux);
      assert.equal((await get(`${url}/hello`)).body, "hello from node");
      // An upgrade under neither pair is answered (once), not left hanging.
      assert.equal(await upgradeStatus(`${url}/nowhere`), 404);
    } finally {
      await close(server);
    }
  });

  it("refuses a path the server already serves at attach time, naming it", {
    timeout: 20_000,
  }, async () => {
    const server = plainServer();
    const { io, bayeux } = attachSwitchboard(server);
    installEcho(io);
    assert.ok(bayeux);
    const listeners = ["request", "upgrade", "close"].map((name) => server.listenerCount(name));
    const conflict = (path: string) => (err: unknown) =>
      err instanceof MountError &&
      err.code === "ERR_MOUNT_CONFLICT" &&
      err.message.includes(`${path} is already served on this HTTP server`);
    assert.throws(() => attachSwitchboard(server), conflict("/socket.io"));
    assert.throws(() => attachSwitchboard(server, { path: "/other" }), conflict("/bayeux"));
    // The failed calls left nothing on the server.
    assert.deepEqual(
      ["request", "upgrade", "close"].map((name) => server.listenerCount(name)),
      listeners,
    );
    const url = await listen(server);
    try {
      // The first pair's websockets work: no second handler reads their sockets.
      await assertRoundTrip(url, "websocket");
      await assertFayeRoundTrip(`${url}/bayeux`, "websocket", bayeux);
    } finally {
      await close(server);
    }
  });

  it("refuses, at attach time, a path a Socket.IO server attached directly already serves, in either order", {
    timeout: 20_000,
  }, async () => {
    const first = plainServer();
    const io = new Server(first);
    assert.throws(
      () => attachSwitchboard(first),
      (err: unknown) =>
        err instanceof MountError &&
        err.code === "ERR_MOUNT_CONFLICT" &&
        err.message.includes("/socket.io") &&
        err.message.includes("new Server(httpServer)"),
    );
    // A distinct path is fine beside it.
    const side = attachSwitchboard(first, { path: "/other", bayeux: { path: "/faye" } });
    const url = await listen(first);
    try {
      installEcho(io);
      installEcho(side.io);
      await assertRoundTrip(url, "websocket");
    } finally {
      await io.close();
      await close(first);
    }

    const second = plainServer();
    attachSwitchboard(second);
    assert.throws(
      () => new Server(second),
      (err: unknown) => err instanceof EngineAttachError && err.message.includes("/socket.io"),
    );
    await close(second);
  });
});
