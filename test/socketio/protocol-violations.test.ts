/**
 * Protocol violations from raw Engine.IO clients, over polling and over
 * websocket, answered as socket.io 4.8 answers them (lib/client.ts
 * `ondecoded`: a CONNECT for a namespace the connection already joined, or
 * any other packet for a namespace it did not join, is an "invalid state"
 * that closes the connection without a CONNECT_ERROR; `ondata`: a packet the
 * decoder refuses closes it too).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket } from "../../src/index.js";
import { type Harness, startServer } from "./helpers.js";
import { type RawClient, type RawTransport, rawClient, until } from "./raw-clients.js";

const T = { timeout: 15_000 };

/** The Socket.IO packets among received Engine.IO packets ("4" messages, prefix dropped). */
function sio(received: string[]): string[] {
  return received.filter((p) => p.startsWith("4")).map((p) => p.slice(1));
}

const CONNECT_REPLY = /^0\{"sid":"[\w-]{20}"\}$/;

for (const transport of ["polling", "websocket"] as RawTransport[]) {
  describe(`protocol violations over ${transport}`, () => {
    let h: Harness;
    const sockets: Socket[] = [];
    const reasons = new Map<Socket, string>();
    /** Every incoming event: [socket, name, ...args]. */
    const events: unknown[][] = [];
    before(async () => {
      h = await startServer({}, { transports: [transport] });
      h.io.on("connection", (socket: Socket) => {
        sockets.push(socket);
        socket.on("disconnect", (reason) => reasons.set(socket, reason));
        socket.on("error", () => {});
        socket.onAny((...args: unknown[]) => events.push([socket, ...args]));
        socket.on("bye", () => socket.disconnect());
      });
    });
    after(() => h.close());

    /** A raw client joined to `/`, with its server-side socket. */
    async function joined(): Promise<{ c: RawClient; socket: Socket }> {
      const count = sockets.length;
      const c = await rawClient(h.port, transport);
      await c.send("40");
      await c.until((r) => sio(r).some((p) => CONNECT_REPLY.test(p)));
      await until(() => sockets.length > count, 5000, "the connection event");
      return { c, socket: sockets[sockets.length - 1] };
    }

    it(
      "a second CONNECT to a namespace already joined closes the connection: one CONNECT reply, no CONNECT_ERROR (socket.io 4.8: invalid state)",
      T,
      async () => {
        const { c, socket } = await joined();
        await c.send("40");
        await c.closed;
        assert.equal(sio(c.received).length, 1, JSON.stringify(c.received));
        assert.match(sio(c.received)[0], CONNECT_REPLY);
        await until(() => reasons.has(socket), 5000, "the disconnect event");
        assert.equal(reasons.get(socket), "forced close");
        assert.equal(h.io.of("/").sockets.has(socket.id), false);
      },
    );

    it(
      "two CONNECTs in one batch are both answered, as in socket.io, and both sockets disconnect with the connection",
      T,
      async () => {
        const count = sockets.length;
        const c = await rawClient(h.port, transport);
        await c.send("40", "40");
        await c.until((r) => sio(r).filter((p) => CONNECT_REPLY.test(p)).length === 2);
        await until(() => sockets.length === count + 2, 5000, "two connection events");
        const [first, second] = sockets.slice(count);
        assert.notEqual(first.id, second.id);
        // Packets now go to the newer socket, as socket.io's `nsps.set` makes them.
        await c.send('42["hello",1]');
        await until(() => events.some((e) => e[1] === "hello"), 5000, "the event");
        assert.equal(events.find((e) => e[1] === "hello")?.[0], second);
        c.end();
        await until(() => reasons.has(first) && reasons.has(second), 10_000, "both disconnects");
        assert.equal(h.io.of("/").sockets.has(first.id), false, "no socket left behind");
        assert.equal(h.io.of("/").adapter.rooms.has(first.id), false, "no room left behind");
      },
    );

    it(
      "an EVENT before any CONNECT closes the connection (socket.io 4.8: invalid state)",
      T,
      async () => {
        const count = sockets.length;
        const c = await rawClient(h.port, transport);
        await c.send('42["early"]');
        await c.closed;
        assert.deepEqual(sio(c.received), []);
        assert.equal(sockets.length, count, "no connection event");
        assert.equal(
          events.some((e) => e[1] === "early"),
          false,
        );
      },
    );

    it("an EVENT for a namespace not joined closes the connection", T, async () => {
      const { c, socket } = await joined();
      await c.send('42/other,["elsewhere"]');
      await c.closed;
      await until(() => reasons.has(socket), 5000, "the disconnect event");
      assert.equal(reasons.get(socket), "forced close");
    });

    it(
      "an unparsable packet closes the connection; the socket gets error then disconnect",
      T,
      async () => {
        const { c, socket } = await joined();
        const errors: Error[] = [];
        socket.on("error", (err: Error) => errors.push(err));
        await c.send('42["broken",');
        await c.closed;
        await until(() => reasons.has(socket), 5000, "the disconnect event");
        assert.equal(errors.length, 1);
        assert.equal(reasons.get(socket), "forced close");
      },
    );

    it(
      "packets of the same batch after the socket was disconnected are ignored and the connection stays open",
      T,
      async () => {
        const { c, socket } = await joined();
        // The server disconnects on "bye"; the rest of the batch is addressed to a socket that left.
        await c.send('42["bye"]', '42["after-bye"]', '431["late ack"]');
        await until(() => reasons.has(socket), 5000, "the disconnect event");
        assert.equal(reasons.get(socket), "server namespace disconnect");
        assert.equal(
          events.some((e) => e[1] === "after-bye"),
          false,
        );
        // The connection is still usable: the client joins again on it.
        const count = sockets.length;
        await c.send("40");
        await until(() => sockets.length > count, 5000, "a new connection event");
        assert.equal(c.isClosed(), false);
        const again = sockets[sockets.length - 1];
        // And the same after a DISCONNECT sent by the client.
        await c.send("41", '42["after-41"]');
        await until(() => reasons.has(again), 5000, "the second disconnect");
        assert.equal(reasons.get(again), "client namespace disconnect");
        await c.send("40");
        await until(() => sockets.length > count + 1, 5000, "a third connection event");
        assert.equal(
          events.some((e) => e[1] === "after-41"),
          false,
        );
        assert.equal(c.isClosed(), false);
        c.end();
      },
    );
  });
}
