/**
 * `@socket.io/admin-ui`'s `instrument(io)` on a Switchboard server, watched by
 * a real socket.io-client connected to `/admin` as the admin UI connects: the
 * configuration and every socket on connect, then live `socket_connected`,
 * `event_received`, `room_joined`, `socket_disconnected` and `server_stats`
 * events, and the UI's own commands (join, emit, disconnect) acting on sockets.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { instrument } from "@socket.io/admin-ui";
import type { Socket as ClientSocket } from "socket.io-client";
import { type Harness, startServer, waitFor } from "../socketio/helpers.js";

interface SerializedSocket {
  id: string;
  clientId: string;
  transport: string;
  nsp: string;
  data: Record<string, unknown>;
  handshake: { headers: Record<string, string>; query: Record<string, string>; url: string };
  rooms: string[];
}

/** Resolves with the arguments of the first `event` that `match` accepts, within `ms`. */
function waitForMatch<T extends unknown[]>(
  socket: ClientSocket,
  event: string,
  match: (...args: T) => boolean,
  ms = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (!match(...(args as T))) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, ms);
    socket.on(event, listener);
  });
}

describe("@socket.io/admin-ui instrument(io)", () => {
  let h: Harness;

  before(async () => {
    h = await startServer();
    // admin-ui's types name socket.io's Server; Switchboard's has the same shape at run time.
    instrument(h.io as never, { auth: false, mode: "development" });
    h.io.on("connection", (socket) => {
      socket.on("hello", (name: string, ack: (reply: string) => void) => ack(`hi ${name}`));
    });
  });

  after(() => h.close());

  it("reports the server's sockets, their events and rooms, and acts on them", async () => {
    const first = h.client("/", { query: { user: "first" } });
    await waitFor(first, "connect", 10_000);

    const admin = h.client("/admin");
    const config = waitFor<[{ supportedFeatures: string[] }]>(admin, "config", 10_000);
    const all = waitFor<[SerializedSocket[]]>(admin, "all_sockets", 10_000);
    const stats = waitForMatch<[{ clientsCount: number; namespaces: { name: string }[] }]>(
      admin,
      "server_stats",
      (s) => s.clientsCount >= 2,
    );
    admin.connect();
    const [{ supportedFeatures }] = await config;
    for (const feature of [
      "EMIT",
      "JOIN",
      "LEAVE",
      "DISCONNECT",
      "MJOIN",
      "MLEAVE",
      "MDISCONNECT",
    ]) {
      assert.ok(supportedFeatures.includes(feature), `feature ${feature}: ${supportedFeatures}`);
    }
    const [sockets] = await all;
    const listed = sockets.find((s) => s.id === first.id);
    assert.ok(listed, `${first.id} not in ${JSON.stringify(sockets.map((s) => s.id))}`);
    assert.equal(listed.nsp, "/");
    assert.equal(listed.handshake.query.user, "first");
    assert.match(listed.handshake.url, /^\/socket\.io\//);
    assert.ok(["polling", "websocket"].includes(listed.transport));
    assert.deepEqual(listed.rooms, [first.id]);
    const [serverStats] = await stats;
    assert.ok(serverStats.namespaces.some((n) => n.name === "/"));

    // A socket that connects now is reported as it connects.
    const connected = waitForMatch<[SerializedSocket]>(
      admin,
      "socket_connected",
      (s) => s.nsp === "/",
    );
    const second = h.client("/", { query: { user: "second" } });
    await waitFor(second, "connect", 10_000);
    // The client forgets its id once disconnected: keep it.
    const secondId = second.id ?? "";
    const [reported] = await connected;
    assert.equal(reported.id, secondId);
    assert.equal(reported.handshake.query.user, "second");

    // Its events...
    const received = waitForMatch<[string, string, unknown[]]>(
      admin,
      "event_received",
      (nsp, id) => nsp === "/" && id === secondId,
    );
    assert.equal(await second.emitWithAck("hello", "admin"), "hi admin");
    const [, , args] = await received;
    assert.equal(args[0], "hello");
    assert.equal(args[1], "admin");

    // ...the UI's commands, and the rooms they change.
    const joined = waitForMatch<[string, string, string]>(
      admin,
      "room_joined",
      (nsp, room, id) => nsp === "/" && room === "ops" && id === secondId,
    );
    admin.emit("join", "/", "ops", secondId);
    await joined;
    assert.ok(h.io.sockets.sockets.get(secondId)?.rooms.has("ops"));
    const news = waitFor<[string]>(second, "news", 10_000);
    admin.emit("emit", "/", "ops", "news", "from the admin UI");
    assert.deepEqual(await news, ["from the admin UI"]);

    const gone = waitForMatch<[string, string, string]>(
      admin,
      "socket_disconnected",
      (nsp, id) => nsp === "/" && id === secondId,
    );
    const kicked = waitFor<[string]>(second, "disconnect", 10_000);
    admin.emit("_disconnect", "/", false, secondId);
    const [[, , reason], [clientReason]] = await Promise.all([gone, kicked]);
    assert.equal(reason, "server namespace disconnect");
    assert.equal(clientReason, "io server disconnect");
  });
});
