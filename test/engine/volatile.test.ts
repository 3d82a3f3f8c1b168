/**
 * Volatile packets over websocket, as socket.io 4.8 drops them: a volatile
 * packet is dropped while the connection has a write in flight (engine.io's
 * websocket transport is not `writable` from a send until ws's write
 * callback), for emits and broadcasts, with and without binary; regular
 * events are never dropped. The expected counts are socket.io's own (its
 * tests "should emit only one consecutive volatile event (ws)", "... with
 * binary (ws)", "should emit regular events after trying a failed volatile
 * event (ws)", the broadcast variants), and the cross-path cases were checked
 * against socket.io 4.8 itself.
 *
 * Each case ends with a regular `end` event sent once the connection has no
 * write in flight: the connection keeps order, so when every client has it,
 * every earlier event that was sent has arrived.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { Server, type Socket } from "../../src/index.js";

/** Polls `condition` until it holds, or fails after `ms`. */
async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface Case {
  io: Server;
  /** Server-side sockets, in the order their clients connected. */
  sockets: Socket[];
  /** `ev` events received, per client. */
  counts: number[];
}

/**
 * Connects `members` websocket clients (all in room "room"), runs `act` once
 * no connection has a write in flight, and resolves with the `ev` counts.
 */
async function run(members: number, act: (c: Case) => void): Promise<number[]> {
  const http = createServer();
  const io = new Server(http, { transports: ["websocket"] });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const port = (http.address() as AddressInfo).port;
  const sockets: Socket[] = [];
  io.on("connection", (socket) => {
    socket.join("room");
    sockets.push(socket);
  });
  const clients: ClientSocket[] = [];
  const counts: number[] = [];
  const ended: boolean[] = [];
  try {
    for (let i = 0; i < members; i++) {
      const client = ioc(`http://127.0.0.1:${port}`, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
      });
      counts.push(0);
      ended.push(false);
      client.on("ev", () => counts[i]++);
      client.on("end", () => {
        ended[i] = true;
      });
      clients.push(client);
      await new Promise((resolve) => client.once("connect", () => resolve(undefined)));
    }
    await waitFor(() => sockets.length === members, "the server sockets");
    // What socket.io's tests wait 20 ms for: no packet of the handshake in flight.
    const idle = () => sockets.every((s) => s.conn._acceptsVolatile?.() === true);
    await waitFor(idle, "idle connections");
    act({ io, sockets, counts });
    await waitFor(idle, "the writes to complete");
    io.emit("end");
    await waitFor(() => ended.every(Boolean), "every client's end event");
    return counts;
  } finally {
    for (const client of clients) client.close();
    await io.close();
  }
}

const bytes = () => Buffer.from([1, 2, 3]);

describe("volatile over websocket", () => {
  test("only one of two consecutive volatile emits goes out; one in a later tick does", async () => {
    const counts = await run(1, ({ sockets: [s] }) => {
      s.volatile.emit("ev", "data");
      s.volatile.emit("ev", "data");
      // Once the first write's callback has run (the next tick), the transport is writable again.
      setImmediate(() => s.volatile.emit("ev", "data"));
    });
    // The end event waits for idle connections, which comes after the immediate.
    assert.deepEqual(counts, [2]);
  });

  test("only one of two consecutive volatile emits with binary goes out", async () => {
    const counts = await run(1, ({ sockets: [s] }) => {
      s.volatile.emit("ev", bytes());
      s.volatile.emit("ev", Buffer.from([4, 5, 6]));
    });
    assert.deepEqual(counts, [1]);
  });

  test("regular events after a dropped volatile one still go out", async () => {
    const counts = await run(1, ({ sockets: [s] }) => {
      s.emit("ev", "data");
      s.volatile.emit("ev", "data");
      s.emit("ev", "data");
    });
    assert.deepEqual(counts, [2]);
  });

  test("broadcasts: only one of two consecutive volatile broadcasts, with and without binary", async () => {
    assert.deepEqual(
      await run(1, ({ io }) => {
        io.volatile.emit("ev", "data");
        io.volatile.emit("ev", "data");
      }),
      [1],
    );
    assert.deepEqual(
      await run(1, ({ io }) => {
        io.volatile.emit("ev", bytes());
        io.volatile.emit("ev", bytes());
      }),
      [1],
    );
  });

  // 20 members: a room broadcast takes the fan-out list (frames written straight to each stream).
  const ROOM = 20;
  const each = (n: number) => new Array<number>(ROOM).fill(n);

  test("room broadcasts over a fan-out list: one of two volatile, with and without binary", async () => {
    assert.deepEqual(
      await run(ROOM, ({ io }) => {
        io.to("room").volatile.emit("ev", "data");
        io.to("room").volatile.emit("ev", "data");
      }),
      each(1),
    );
    assert.deepEqual(
      await run(ROOM, ({ io }) => {
        io.to("room").volatile.emit("ev", bytes());
        io.to("room").volatile.emit("ev", bytes());
      }),
      each(1),
    );
    assert.deepEqual(
      await run(ROOM, ({ io }) => {
        io.to("room").emit("ev", "data");
        io.to("room").volatile.emit("ev", "data");
        io.to("room").emit("ev", "data");
      }),
      each(2),
    );
  });

  test("a write by one path holds back a volatile packet of the other", async () => {
    // A room broadcast (fan-out list), then a volatile emit to one member.
    const afterRoom = await run(ROOM, ({ io, sockets }) => {
      io.to("room").emit("ev", "data");
      sockets[0].volatile.emit("ev", "data");
    });
    assert.deepEqual(afterRoom, each(1));
    // An emit to one member, then a volatile room broadcast: that member misses it.
    const afterEmit = await run(ROOM, ({ io, sockets }) => {
      sockets[0].emit("ev", "data");
      io.to("room").volatile.emit("ev", "data");
    });
    assert.deepEqual(afterEmit, each(1));
  });
});
