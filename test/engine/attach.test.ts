/**
 * Several engines on one HTTP server: at distinct paths each serves its own
 * clients (as with engine.io); at the same or an overlapping path the second
 * attach throws at once, naming the path, instead of both engines answering
 * the same websocket upgrades (engine.io fails later: ws reads every frame
 * twice, "RSV1 must be clear", or throws on the second handleUpgrade).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { io as ioc } from "socket.io-client";
import { EngineAttachError, Server as EngineServer } from "../../src/engine/index.js";
import { Server } from "../../src/index.js";

async function listen(http: HttpServer): Promise<number> {
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  return (http.address() as AddressInfo).port;
}

/** Connects a Socket.IO client at `path` and round-trips an ack; resolves with the answer. */
function roundTrip(
  port: number,
  path: string,
  transport: "websocket" | "polling",
): Promise<string> {
  const client = ioc(`http://127.0.0.1:${port}`, {
    path,
    transports: [transport],
    forceNew: true,
    reconnection: false,
  });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer at ${path}`)), 5000);
    const done = (err: Error | null, answer?: string) => {
      clearTimeout(timer);
      client.close();
      if (err) reject(err);
      else resolve(answer as string);
    };
    client.on("connect_error", (err) => done(err));
    client.on("connect", () => client.emit("who", (answer: string) => done(null, answer)));
  });
}

function assertPathInUse(fn: () => unknown, path: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EngineAttachError);
    assert.equal(err.code, "ERR_EIO_PATH_IN_USE");
    assert.ok(err.message.includes(`"${path}"`), err.message);
    return true;
  });
}

describe("attaching twice to one HTTP server", () => {
  test("two Socket.IO servers: the same path throws at attach, distinct paths both serve", async () => {
    const http = createServer();
    const first = new Server(http);
    first.on("connection", (socket) => socket.on("who", (cb: (a: string) => void) => cb("first")));
    assertPathInUse(() => new Server(http), "/socket.io/");
    assertPathInUse(() => new Server(http, { path: "/socket.io/nested" }), "/socket.io/nested/");
    const second = new Server(http, { path: "/other" });
    second.on("connection", (socket) =>
      socket.on("who", (cb: (a: string) => void) => cb("second")),
    );
    const port = await listen(http);
    try {
      for (const transport of ["websocket", "polling"] as const) {
        assert.equal(await roundTrip(port, "/socket.io", transport), "first");
        assert.equal(await roundTrip(port, "/other", transport), "second");
      }
    } finally {
      await second.close();
      await first.close();
    }
  });

  test("engines: the same engine or another one at an overlapping path throws, before touching the server", () => {
    const http = createServer();
    const engine = new EngineServer();
    engine.attach(http, { path: "/rt" });
    const listeners = http.listenerCount("request") + http.listenerCount("upgrade");
    assertPathInUse(() => engine.attach(http, { path: "/rt" }), "/rt/");
    assertPathInUse(() => new EngineServer().attach(http, { path: "/" }), "/");
    assertPathInUse(() => new EngineServer().attach(http, { path: "/rt/deeper" }), "/rt/deeper/");
    assert.equal(http.listenerCount("request") + http.listenerCount("upgrade"), listeners);
    // A path that only shares a prefix of characters does not overlap.
    new EngineServer().attach(http, { path: "/rtx" });
    // Another HTTP server is another table.
    new EngineServer().attach(createServer(), { path: "/rt" });
  });
});
