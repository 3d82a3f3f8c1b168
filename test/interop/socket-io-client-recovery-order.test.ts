/**
 * Connection state recovery puts the replayed packets where socket.io 4.8
 * does: its Socket constructor writes `previousSession.missedPackets` before
 * `_onconnect` sends the CONNECT reply, so on the wire the EVENTs come first,
 * and socket.io-client (which buffers them until CONNECT) emits them before
 * "connect". Checked on the wire with raw clients and with socket.io-client.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Socket } from "../../src/index.js";
import { MODES, startServer, waitFor } from "../socketio/helpers.js";
import { type RawTransport, rawClient, until } from "../socketio/raw-clients.js";

const T = { timeout: 15_000 };
const RECONNECT = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 };

for (const transport of ["polling", "websocket"] as RawTransport[]) {
  for (const skipMiddlewares of [true, false]) {
    it(
      `over ${transport}, skipMiddlewares ${skipMiddlewares}: the replayed EVENTs precede the CONNECT reply on the wire`,
      T,
      async () => {
        const h = await startServer(
          { connectionStateRecovery: { skipMiddlewares } },
          { transports: [transport] },
        );
        try {
          const sockets: Socket[] = [];
          h.io.on("connection", (socket: Socket) => {
            sockets.push(socket);
            if (!socket.recovered) socket.join("room");
          });
          const first = await rawClient(h.port, transport);
          await first.send("40");
          await first.until((r) => r.some((p) => p.startsWith("40{")));
          await until(() => sockets.length === 1, 5000, "the connection");
          h.io.to("room").emit("seen", 1);
          await first.until((r) => r.some((p) => p.startsWith('42["seen"')));
          const reply = JSON.parse(first.received.find((p) => p.startsWith("40{"))!.slice(2));
          const seen = JSON.parse(first.received.find((p) => p.startsWith('42["seen"'))!.slice(2));
          const gone = waitFor(sockets[0], "disconnect");
          sockets[0].conn.close();
          await gone;
          first.end();
          h.io.to("room").emit("missed", 1);
          h.io.emit("missed", 2);

          const second = await rawClient(h.port, transport);
          await second.send(`40${JSON.stringify({ pid: reply.pid, offset: seen.at(-1) })}`);
          await second.until((r) => r.some((p) => p.startsWith("40{")));
          const order = second.received
            .filter((p) => p.startsWith("4"))
            .map((p) => (p.startsWith("40{") ? "CONNECT" : JSON.parse(p.slice(2)).slice(0, 2)));
          assert.deepEqual(order, [["missed", 1], ["missed", 2], "CONNECT"]);
          if (transport === "polling") {
            // All or none: a client that got the replay without the CONNECT
            // would keep it and be given it again on its next try.
            const together = second.batches.find((b) => b.some((p) => p.startsWith("40{")));
            assert.equal(together?.filter((p) => p.startsWith("42")).length, 2, "one response");
          }
          assert.equal(JSON.parse(second.received.at(-1)!.slice(2)).sid, sockets[0].id);
          await until(() => sockets.length === 2, 5000, "the recovered connection");
          assert.equal(sockets[1].recovered, true);
          assert.deepEqual([...sockets[1].rooms].sort(), [sockets[0].id, "room"].sort());
          second.end();
        } finally {
          await h.close();
        }
      },
    );
  }
}

describe("recovery with socket.io-client 4.8", () => {
  for (const mode of MODES) {
    it(
      `over ${mode.name}: missed events are emitted before "connect", as with socket.io`,
      T,
      async () => {
        const h = await startServer({ connectionStateRecovery: {} }, mode);
        try {
          const sockets: Socket[] = [];
          h.io.on("connection", (socket: Socket) => sockets.push(socket));
          const client = h.client("/", RECONNECT);
          const seen: string[] = [];
          client.on("connect", () => seen.push("connect"));
          client.on("news", (text: string) => seen.push(text));
          await waitFor(client, "connect");
          // The client asks for recovery only once it holds an offset.
          h.io.emit("news", "before");
          await until(() => seen.length === 2, 5000, "the first event");
          const gone = waitFor(sockets[0], "disconnect");
          sockets[0].conn.close();
          await gone;
          h.io.emit("news", "missed-1");
          h.io.emit("news", "missed-2");
          await until(() => seen.length === 5, 10_000, "the reconnection");
          assert.equal(client.recovered, true);
          assert.deepEqual(seen, ["connect", "before", "missed-1", "missed-2", "connect"]);
        } finally {
          await h.close();
        }
      },
    );
  }

  it(
    "a middleware refusing a recovered socket leaves the rooms the session restored",
    T,
    async () => {
      const h = await startServer({ connectionStateRecovery: { skipMiddlewares: false } });
      try {
        let refuse = false;
        h.io.use((_socket, next) => (refuse ? next(new Error("not again")) : next()));
        const sockets: Socket[] = [];
        h.io.on("connection", (socket: Socket) => {
          sockets.push(socket);
          socket.join("club");
        });
        const client = h.client("/", RECONNECT);
        await waitFor(client, "connect");
        const news = waitFor(client, "news");
        h.io.emit("news", "gives the client an offset");
        await news;
        refuse = true;
        const gone = waitFor(sockets[0], "disconnect");
        sockets[0].conn.close();
        await gone;
        const [err] = await waitFor<[Error]>(client, "connect_error", 10_000);
        assert.equal(err.message, "not again");
        assert.equal(sockets.length, 1, "the recovered socket never connected");
        assert.deepEqual([...h.io.of("/").adapter.rooms.keys()], []);
        client.disconnect();
      } finally {
        await h.close();
      }
    },
  );
});
