/**
 * Rooms and acknowledgements around a socket's end, with socket.io-client 4.8
 * over each transport: what socket.io 4.8's `Socket#_cleanup` (leave every
 * room, join none after) and broadcast-operator timeout (drop the ack entry
 * of every socket) guarantee.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PacketType, type Socket } from "../../src/index.js";
import { MODES, startServer, waitFor } from "./helpers.js";
import { until } from "./raw-clients.js";

const T = { timeout: 15_000 };

for (const mode of MODES) {
  describe(`socket lifecycle over ${mode.name}`, () => {
    it("a socket joins no room after it disconnected", T, async () => {
      const h = await startServer({}, mode);
      try {
        let server: Socket | undefined;
        const left = new Promise<void>((resolve) => {
          h.io.on("connection", (socket: Socket) => {
            server = socket;
            socket.on("disconnect", () => {
              socket.join("in-disconnect-listener");
              resolve();
            });
          });
        });
        const client = h.client();
        await waitFor(client, "connect");
        client.disconnect();
        await left;
        (server as Socket).join(["later-1", "later-2"]);
        const rooms = h.io.of("/").adapter.rooms;
        assert.deepEqual([...rooms.keys()], []);
        assert.deepEqual([...(server as Socket).rooms], []);
      } finally {
        await h.close();
      }
    });

    it("a middleware that joined rooms then refused the socket leaves them all", T, async () => {
      const h = await startServer({}, mode);
      try {
        h.io.use((socket, next) => {
          socket.join(["vip", "lobby"]);
          const err = new Error("refused") as Error & { data?: unknown };
          err.data = { retry: false };
          next(err);
        });
        const client = h.client();
        const [err] = await waitFor<[Error & { data?: unknown }]>(client, "connect_error");
        assert.equal(err.message, "refused");
        assert.deepEqual(err.data, { retry: false });
        const adapter = h.io.of("/").adapter;
        assert.deepEqual([...adapter.rooms.keys()], []);
        assert.deepEqual([...adapter.sids.keys()], []);
        assert.equal(h.io.of("/").sockets.size, 0);
      } finally {
        await h.close();
      }
    });

    it(
      "a middleware that lets a socket in after its client left leaves no room behind",
      T,
      async () => {
        const h = await startServer({}, mode);
        try {
          let release: (() => void) | undefined;
          let pending: Socket | undefined;
          h.io.use((socket, next) => {
            socket.join("waiting-room");
            pending = socket;
            release = next;
          });
          let connections = 0;
          h.io.on("connection", () => connections++);
          const client = h.client();
          await until(() => release !== undefined, 5000, "the middleware");
          client.disconnect();
          await until(() => h.io.engine.clientsCount === 0, 5000, "the engine session to end");
          (release as () => void)();
          await until(() => h.io.of("/").adapter.rooms.size === 0, 5000, "the rooms to be left");
          (pending as Socket).join("after-release");
          assert.equal(h.io.of("/").adapter.rooms.size, 0);
          assert.equal(connections, 0);
          assert.equal((pending as Socket).connected, false);
        } finally {
          await h.close();
        }
      },
    );

    it("socket.leaveAll() leaves every room, its own included, as in socket.io", T, async () => {
      const h = await startServer({}, mode);
      try {
        const connected = waitFor<[Socket]>(h.io, "connection");
        const client = h.client();
        await waitFor(client, "connect");
        const [socket] = await connected;
        socket.join(["a", "b"]);
        assert.deepEqual([...socket.rooms].sort(), [socket.id, "a", "b"].sort());
        const left: string[] = [];
        h.io.of("/").adapter.on("leave-room", (room: string) => left.push(room));
        socket.leaveAll();
        assert.deepEqual([...socket.rooms], []);
        assert.deepEqual(left.sort(), [socket.id, "a", "b"].sort());
        // Still connected, and it may join again.
        socket.join("c");
        assert.deepEqual([...socket.rooms], ["c"]);
      } finally {
        await h.close();
      }
    });

    it(
      "a socket that joined a large room in a middleware gets the room's broadcasts once connected",
      T,
      async () => {
        const h = await startServer({}, mode);
        try {
          let release: (() => void) | undefined;
          let admitted = 0;
          h.io.use((socket, next) => {
            socket.join("big");
            // The 17th socket waits: a broadcast meanwhile builds the room's member list.
            if (++admitted === 17) release = next;
            else next();
          });
          const members = Array.from({ length: 16 }, () => h.client());
          await Promise.all(members.map((c) => waitFor(c, "connect")));
          const late = h.client();
          await until(() => release !== undefined, 5000, "the 17th middleware");
          const first = waitFor(members[0], "news");
          h.io.to("big").emit("news", 1);
          await first;
          (release as () => void)();
          await waitFor(late, "connect");
          const got = waitFor<[number]>(late, "news");
          h.io.to("big").emit("news", 2);
          assert.deepEqual(await got, [2]);
        } finally {
          await h.close();
        }
      },
    );

    it(
      "a disconnected socket ignores packets still handed to it: no listener, no ack callback",
      T,
      async () => {
        const h = await startServer({}, mode);
        try {
          const connected = waitFor<[Socket]>(h.io, "connection");
          const client = h.client();
          client.on("question", () => {});
          await waitFor(client, "connect");
          const [socket] = await connected;
          const calls: string[] = [];
          socket.onAny((event: string) => calls.push(`any ${event}`));
          socket.on("late", () => calls.push("late"));
          socket.emit("question", () => calls.push("ack"));
          const gone = waitFor(socket, "disconnect");
          client.disconnect();
          await gone;
          socket._onpacket({ type: PacketType.EVENT, nsp: "/", data: ["late"] });
          socket._onpacket({ type: PacketType.ACK, nsp: "/", id: 0, data: ["answer"] });
          assert.deepEqual(calls, []);
        } finally {
          await h.close();
        }
      },
    );

    it("a broadcast-with-ack that times out leaves no ack entry on any socket", T, async () => {
      const h = await startServer({}, mode);
      try {
        const sockets: Socket[] = [];
        h.io.on("connection", (socket: Socket) => sockets.push(socket));
        const answering = h.client();
        const silent = h.client();
        answering.on("ping", (ack: (v: string) => void) => ack("pong"));
        silent.on("ping", () => {});
        await Promise.all([waitFor(answering, "connect"), waitFor(silent, "connect")]);
        await until(() => sockets.length === 2, 5000, "both connections");
        const [err, responses] = await new Promise<[Error | null, unknown[]]>((resolve) => {
          h.io.timeout(300).emit("ping", (e: Error | null, r: unknown[]) => resolve([e, r]));
        });
        assert.equal(err?.message, "operation has timed out");
        assert.deepEqual(responses, ["pong"]);
        assert.deepEqual(
          sockets.map((s) => s._pendingAcks),
          [0, 0],
        );
      } finally {
        await h.close();
      }
    });
  });
}
