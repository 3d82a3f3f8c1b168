/** PocketIO's verbs and the served client bundle, with socket.io-client 4.8. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { Server, type Socket } from "../../src/index.js";
import { sleep, startServer, waitFor } from "../socketio/helpers.js";

const T = { timeout: 10_000 };

describe("PocketIO verbs", () => {
  it("send/message, broadcast.send, sockets.emit (me included)", T, async () => {
    const h = await startServer();
    h.io.on("connection", (socket: Socket) => {
      socket.on("message", (text: string, ack?: (r: string) => void) => {
        if (text === "shout") socket.sockets.emit("all", socket.handshake.auth.name);
        else if (text === "gossip") socket.broadcast.send(`from ${socket.handshake.auth.name}`);
        else socket.send(`echo ${text}`);
        ack?.("ok");
      });
    });
    const a = h.client("/", { auth: { name: "a" } });
    const b = h.client("/", { auth: { name: "b" } });
    await Promise.all([waitFor(a, "connect"), waitFor(b, "connect")]);
    const echo = waitFor(a, "message");
    a.send("hi");
    assert.deepEqual(await echo, ["echo hi"]);
    const second = waitFor(a, "message");
    assert.equal(await a.emitWithAck("message", "hi"), "ok");
    assert.deepEqual(await second, ["echo hi"]);
    const gotA: unknown[] = [];
    a.on("message", (m: string) => gotA.push(m));
    const toB = waitFor(b, "message");
    a.send("gossip");
    assert.deepEqual(await toB, ["from a"]);
    const allA = waitFor(a, "all");
    const allB = waitFor(b, "all");
    b.send("shout");
    assert.deepEqual(await allA, ["b"]);
    assert.deepEqual(await allB, ["b"]);
    await sleep(30);
    assert.deepEqual(gotA, [], "broadcast.send skips the sender");
    await h.close();
  });

  it("set/get with callbacks and promises, stored in socket.data", T, async () => {
    const h = await startServer({ connectionStateRecovery: {} });
    const sockets: Socket[] = [];
    h.io.on("connection", (socket: Socket) => {
      sockets.push(socket);
      socket.on("nick", (nick: string, ack: (r: unknown) => void) => {
        socket.set("nick", nick, (err) => {
          assert.equal(err, null);
          socket.get("nick", (err2, value) => ack([err2, value]));
        });
      });
    });
    const client = h.client("/", {
      reconnection: true,
      reconnectionDelay: 30,
      reconnectionDelayMax: 30,
    });
    await waitFor(client, "connect");
    assert.deepEqual(await client.emitWithAck("nick", "ada"), [null, "ada"]);
    const socket = sockets[0];
    await socket.set("age", 36);
    assert.equal(await socket.get("age"), 36);
    assert.equal(await socket.get("missing"), undefined);
    await assert.rejects(socket.set("__proto__", { polluted: true }), TypeError);
    const cbErr = await new Promise((resolve) => socket.set("__proto__", 1, resolve));
    assert.ok(cbErr instanceof TypeError);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(socket.data, { nick: "ada", age: 36 });
    const [remote] = await h.io.fetchSockets();
    assert.deepEqual(remote.data, { nick: "ada", age: 36 });
    // Survives recovery.
    h.io.emit("tick");
    await waitFor(client, "tick");
    socket.conn.close();
    await waitFor(client, "connect");
    assert.equal(client.recovered, true);
    assert.equal(await sockets[1].get("nick"), "ada");
    client.disconnect();
    await h.close();
  });

  it("handler option as a function, a class+method, and Server.fromHandler", T, async () => {
    const seen: string[] = [];
    const fnServer = await startServer({
      handler: (socket: Socket) => socket.on("message", (m: string) => socket.send(`fn:${m}`)),
    });
    class Chat {
      readonly io: Server;
      readonly instances: number;
      static created = 0;
      constructor(io: Server) {
        this.io = io;
        this.instances = ++Chat.created;
      }
      run(socket: Socket): void {
        seen.push(`run ${this.instances} ${this.io instanceof Server}`);
        socket.on("message", (m: string) => socket.send(`class:${m}`));
      }
    }
    const classServer = await startServer({ handler: { class: Chat, method: "run" } });
    for (const [h, expected] of [
      [fnServer, "fn:x"],
      [classServer, "class:x"],
      [classServer, "class:x"],
    ] as const) {
      const c = h.client();
      await waitFor(c, "connect");
      const reply = waitFor(c, "message");
      c.send("x");
      assert.deepEqual(await reply, [expected]);
      c.disconnect();
    }
    assert.equal(Chat.created, 1, "class instantiated once");
    assert.deepEqual(seen, ["run 1 true", "run 1 true"]);
    const built = Server.fromHandler((socket) => socket.send("welcome"), { serveClient: false });
    assert.ok(built instanceof Server);
    assert.equal(built.serveClient(), false);
    assert.equal(built.listenerCount("connection"), 1);
    assert.throws(() => new Server({ handler: { class: Chat, method: "nope" } }), /no method/);
    await Promise.all([fnServer.close(), classServer.close(), built.close()]);
  });
});

describe("serveClient", () => {
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve("socket.io-client/package.json")), "dist");
  const { version } = require("socket.io-client/package.json") as { version: string };

  it("serves the bundles and maps with ETag, 304 and cache headers", T, async () => {
    const h = await startServer();
    for (const file of [
      "socket.io.js",
      "socket.io.min.js",
      "socket.io.esm.min.js",
      "socket.io.msgpack.min.js",
      "socket.io.js.map",
    ]) {
      const res = await fetch(`${h.url}/socket.io/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get("etag"), `"${version}"`);
      assert.equal(res.headers.get("cache-control"), "public, max-age=0");
      assert.match(
        res.headers.get("content-type") ?? "",
        file.endsWith(".map") ? /json/ : /javascript/,
      );
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), readFileSync(join(dist, file)));
    }
    const cached = await fetch(`${h.url}/socket.io/socket.io.js`, {
      headers: { "If-None-Match": `W/"${version}"` },
    });
    assert.equal(cached.status, 304);
    const other = await fetch(`${h.url}/socket.io/other.js`);
    assert.notEqual(other.status, 200);
    const client = h.client();
    await waitFor(client, "connect", 3000);
    client.disconnect();
    await h.close();
  });

  it("serves nothing when serveClient is false", T, async () => {
    const h = await startServer({ serveClient: false });
    const res = await fetch(`${h.url}/socket.io/socket.io.js`);
    assert.notEqual(res.status, 200);
    await res.arrayBuffer();
    await h.close();
  });
});
