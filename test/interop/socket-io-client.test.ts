/**
 * Interop with the stock socket.io-client 4.8 over loopback, in each transport
 * mode: polling only, websocket only, and the default polling → websocket upgrade.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryBrokerHub, Server, type Socket } from "../../src/index.js";
import { type Harness, MODES, sleep, startServer, waitFor } from "../socketio/helpers.js";

const T = { timeout: 10_000 };

for (const mode of MODES) {
  describe(`socket.io-client 4.8 over ${mode.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startServer({}, mode);
    });
    after(() => h.close());

    /** Waits for the server-side socket of the next connection on `nsp`. */
    function nextServerSocket(nsp = "/"): Promise<Socket> {
      return waitFor<[Socket]>(h.io.of(nsp), "connection").then(([s]) => s);
    }

    it("connects, exposes the handshake and emits both ways", T, async () => {
      const serverSocket = nextServerSocket();
      const client = h.client("/", { auth: { token: "abc" }, query: { room: "r1" } });
      const socket = await serverSocket;
      await waitFor(client, "connect");
      assert.equal(client.id, socket.id);
      assert.equal(socket.connected, true);
      assert.equal(socket.handshake.auth.token, "abc");
      assert.equal(socket.handshake.query.room, "r1");
      assert.equal(socket.handshake.address.includes("127.0.0.1"), true);
      assert.equal(typeof socket.handshake.issued, "number");
      assert.equal(socket.handshake.secure, false);
      assert.equal(socket.conn.id.length, 20);
      assert.notEqual(socket.id, socket.conn.id, "socket id differs from the engine id");
      const fromClient = waitFor(socket, "greet");
      client.emit("greet", "hello", { n: 1 });
      assert.deepEqual(await fromClient, ["hello", { n: 1 }]);
      const fromServer = waitFor(client, "reply");
      socket.emit("reply", [1, 2], null);
      assert.deepEqual(await fromServer, [[1, 2], null]);
      client.disconnect();
    });

    it("carries binary both ways, nested", T, async () => {
      const serverSocket = nextServerSocket();
      const client = h.client();
      const socket = await serverSocket;
      await waitFor(client, "connect");
      const up = waitFor(socket, "upload");
      client.emit("upload", { name: "f", parts: [Buffer.from([1, 2]), Buffer.from([3])] });
      const [payload] = (await up) as [{ name: string; parts: Buffer[] }];
      assert.equal(payload.name, "f");
      assert.deepEqual(
        payload.parts.map((b) => [...b]),
        [[1, 2], [3]],
      );
      const down = waitFor(client, "download");
      socket.emit("download", { data: Buffer.from("héllo") }, new Uint8Array([9]));
      const [obj, arr] = (await down) as [{ data: ArrayBuffer | Buffer }, ArrayBuffer | Buffer];
      assert.equal(Buffer.from(obj.data as ArrayBuffer).toString(), "héllo");
      assert.deepEqual([...Buffer.from(arr as ArrayBuffer)], [9]);
      client.disconnect();
    });

    it("acknowledges both ways, with binary, and times out", T, async () => {
      const serverSocket = nextServerSocket();
      const client = h.client();
      const socket = await serverSocket;
      await waitFor(client, "connect");
      socket.on("sum", (a: number, b: number, ack: (r: unknown) => void) => ack({ r: a + b }));
      assert.deepEqual(await client.emitWithAck("sum", 2, 3), { r: 5 });
      client.on("echo", (x: unknown, ack: (...r: unknown[]) => void) => ack(x, Buffer.from([7])));
      const answer = await new Promise<unknown[]>((resolve) =>
        socket.emit("echo", "ping", (...args: unknown[]) => resolve(args)),
      );
      assert.equal(answer[0], "ping");
      assert.deepEqual([...Buffer.from(answer[1] as Buffer)], [7]);
      assert.equal(await socket.emitWithAck("echo", 1), 1);
      client.on("silent", () => {});
      await assert.rejects(socket.timeout(50).emitWithAck("silent"), /operation has timed out/);
      const err = await new Promise((resolve) =>
        socket.timeout(50).emit("silent", (e: Error | null) => resolve(e)),
      );
      assert.ok(err instanceof Error);
      client.disconnect();
    });

    it("broadcasts to rooms, with except and socket.broadcast", T, async () => {
      const names = ["a", "b", "c"];
      const sockets: Record<string, Socket> = {};
      const clients = names.map((name) => {
        const c = h.client("/", { auth: { name } });
        return c;
      });
      await new Promise<void>((resolve) => {
        const onConn = (s: Socket) => {
          sockets[s.handshake.auth.name] = s;
          if (Object.keys(sockets).length === 3) {
            h.io.off("connection", onConn);
            resolve();
          }
        };
        h.io.on("connection", onConn);
      });
      await Promise.all(clients.map((c) => (c.connected ? null : waitFor(c, "connect"))));
      sockets.a.join("lobby");
      sockets.b.join(["lobby", "muted"]);
      sockets.c.join("other");
      assert.deepEqual([...sockets.b.rooms].sort(), [sockets.b.id, "lobby", "muted"].sort());
      const got: string[] = [];
      clients.forEach((c, i) => {
        c.on("news", (m: string) => got.push(`${names[i]}:${m}`));
      });
      h.io.to("lobby").emit("news", "1");
      h.io.to("lobby").except("muted").emit("news", "2");
      h.io.in(["lobby", "other"]).emit("news", "3");
      sockets.a.broadcast.emit("news", "4");
      sockets.a.to("lobby").emit("news", "5");
      h.io.except("lobby").emit("news", "6");
      await sleep(150);
      assert.deepEqual(
        got.sort(),
        ["a:1", "a:2", "a:3", "b:1", "b:3", "b:4", "b:5", "c:3", "c:4", "c:6"].sort(),
      );
      const operator = h.io.to("lobby");
      assert.notEqual(operator.except("muted"), operator, "operators are immutable");
      for (const c of clients) c.disconnect();
    });

    it("serves static, regex and function namespaces; refuses unknown ones", T, async () => {
      h.io.of("/static").on("connection", (s) => s.emit("where", s.nsp.name));
      h.io.of(/^\/dyn-\d+$/).on("connection", (s) => s.emit("where", s.nsp.name));
      h.io
        .of((name, auth, next) => next(null, name.startsWith("/fn") && auth.ok === true))
        .on("connection", (s) => s.emit("where", s.nsp.name));
      const created: string[] = [];
      h.io.on("new_namespace", (nsp) => created.push(nsp.name));
      for (const [nsp, opts] of [
        ["/static", {}],
        ["/dyn-42", {}],
        ["/fn", { auth: { ok: true } }],
      ] as const) {
        const c = h.client(nsp, opts);
        assert.deepEqual(await waitFor(c, "where"), [nsp]);
        c.disconnect();
      }
      assert.ok(created.includes("/dyn-42") && created.includes("/fn"));
      for (const nsp of ["/nope", "/dyn-x"]) {
        const c = h.client(nsp);
        const [err] = (await waitFor(c, "connect_error")) as [Error];
        assert.equal(err.message, "Invalid namespace");
        c.disconnect();
      }
      const denied = h.client("/fn-2", { auth: { ok: false } });
      assert.equal(
        ((await waitFor(denied, "connect_error")) as [Error])[0].message,
        "Invalid namespace",
      );
    });

    it("passes middleware errors with data to connect_error", T, async () => {
      const nsp = h.io.of(`/guarded-${mode.name}`);
      nsp.use((socket, next) => {
        if (socket.handshake.auth.token === "ok") return next();
        const err = Object.assign(new Error("not authorized"), { data: { code: 401 } });
        next(err);
      });
      const bad = h.client(nsp.name, { auth: { token: "no" } });
      const [err] = (await waitFor(bad, "connect_error")) as [Error & { data: unknown }];
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { code: 401 });
      assert.equal(nsp.sockets.size, 0);
      const good = h.client(nsp.name, { auth: { token: "ok" } });
      await waitFor(good, "connect");
      good.disconnect();
    });

    it("runs per-socket packet middleware; next(err) raises error", T, async () => {
      const serverSocket = nextServerSocket();
      const client = h.client();
      const socket = await serverSocket;
      socket.use(([event], next) => (event === "forbidden" ? next(new Error("nope")) : next()));
      const received: string[] = [];
      socket.on("allowed", () => received.push("allowed"));
      socket.on("forbidden", () => received.push("forbidden"));
      const error = waitFor<[Error]>(socket, "error");
      client.emit("forbidden");
      client.emit("allowed");
      assert.equal((await error)[0].message, "nope");
      await sleep(50);
      assert.deepEqual(received, ["allowed"]);
      client.disconnect();
    });

    it("reports disconnect reasons on both sides", T, async () => {
      let serverSocket = nextServerSocket();
      let client = h.client();
      let socket = await serverSocket;
      await waitFor(client, "connect");
      const rooms: string[][] = [];
      socket.on("disconnecting", () => rooms.push([...socket.rooms]));
      let serverReason = waitFor(socket, "disconnect");
      client.disconnect();
      assert.equal((await serverReason)[0], "client namespace disconnect");
      assert.deepEqual(rooms, [[socket.id]], "rooms visible in disconnecting");
      assert.equal(socket.disconnected, true);

      serverSocket = nextServerSocket();
      client = h.client();
      socket = await serverSocket;
      await waitFor(client, "connect");
      const clientReason = waitFor(client, "disconnect");
      serverReason = waitFor(socket, "disconnect");
      socket.disconnect();
      assert.equal((await clientReason)[0], "io server disconnect");
      assert.equal((await serverReason)[0], "server namespace disconnect");

      serverSocket = nextServerSocket();
      client = h.client();
      socket = await serverSocket;
      await waitFor(client, "connect");
      serverReason = waitFor(socket, "disconnect");
      client.io.engine.close();
      assert.equal((await serverReason)[0], "transport close");
    });

    it(
      "drops volatile packets for a recipient whose transport is busy, never queues them",
      T,
      async () => {
        const serverSocket = nextServerSocket();
        const client = h.client();
        const socket = await serverSocket;
        await waitFor(client, "connect");
        const got: number[] = [];
        client.on("tick", (n: number) => got.push(n));
        for (let i = 0; i < 50; i++) socket.volatile.emit("tick", i);
        for (let i = 0; i < 50; i++) h.io.volatile.emit("tick", 100 + i);
        socket.emit("tick", -1);
        await waitFor(client, "tick");
        await sleep(100);
        assert.ok(got.length >= 1, "at least the first write goes through");
        assert.ok(got.includes(-1), "a non-volatile packet always arrives");
        assert.deepEqual(
          got,
          [...got].sort((a, b) => (a === -1 ? 1 : b === -1 ? -1 : a - b)),
        );
        client.disconnect();
      },
    );

    it("fetchSockets, socketsJoin, socketsLeave and disconnectSockets", T, async () => {
      const nsp = h.io.of(`/ops-${mode.name}`);
      const c1 = h.client(nsp.name);
      const c2 = h.client(nsp.name);
      await Promise.all([waitFor(c1, "connect"), waitFor(c2, "connect")]);
      const [s1] = [...nsp.sockets.values()].filter((s) => s.id === c1.id);
      s1.data = { user: "ada" };
      await s1.join("vip");
      const vip = await nsp.in("vip").fetchSockets();
      assert.deepEqual(
        vip.map((s) => [s.id, s.data]),
        [[c1.id, { user: "ada" }]],
      );
      nsp.in("vip").socketsJoin("gold");
      assert.deepEqual(
        (await nsp.in("gold").fetchSockets()).map((s) => s.id),
        [c1.id],
      );
      nsp.socketsJoin("all");
      assert.equal(nsp.adapter.rooms.get("all")?.size, 2);
      nsp.except("vip").socketsLeave("all");
      assert.deepEqual([...(nsp.adapter.rooms.get("all") ?? [])], [c1.id]);
      const gone = waitFor(c2, "disconnect");
      nsp.except("vip").disconnectSockets();
      assert.equal((await gone)[0], "io server disconnect");
      assert.equal(nsp.sockets.size, 1);
      const closed = waitFor(c1, "disconnect");
      nsp.disconnectSockets(true);
      assert.equal((await closed)[0], "io server disconnect");
    });

    it("keeps adapter.rooms / sids socket.io-shaped and the handshake stable", T, async () => {
      const nsp = h.io.of(`/compat-${mode.name}`);
      const before = Date.now();
      const c1 = h.client(nsp.name);
      const c2 = h.client(nsp.name);
      await Promise.all([waitFor(c1, "connect"), waitFor(c2, "connect")]);
      const s1 = nsp.sockets.get(c1.id as string) as Socket;
      const s2 = nsp.sockets.get(c2.id as string) as Socket;
      // Broadcasts before anyone reads the maps (lone members stored compactly).
      const got = waitFor(c2, "hi");
      s1.broadcast.emit("hi", 1);
      assert.deepEqual(await got, [1]);
      assert.deepEqual([...s1.rooms], [s1.id]);
      const rooms = nsp.adapter.rooms;
      const sids = nsp.adapter.sids;
      assert.ok(rooms instanceof Map && sids instanceof Map);
      assert.ok(rooms.get(s1.id) instanceof Set);
      assert.deepEqual([...(rooms.get(s1.id) ?? [])], [s1.id]);
      assert.deepEqual([...(sids.get(s2.id) ?? [])], [s2.id]);
      assert.equal(nsp.adapter.rooms, rooms, "the same live map on every read");
      await s2.join("late");
      assert.deepEqual([...(rooms.get("late") ?? [])], [s2.id], "live: new rooms show up");
      assert.ok(sids.get(s2.id)?.has("late"));
      const again = waitFor(c1, "hi");
      s2.to(s1.id).emit("hi", 2);
      assert.deepEqual(await again, [2]);
      // The handshake: built once, from the connect-time values.
      const hs = s1.handshake;
      assert.equal(s1.handshake, hs);
      assert.ok(hs.issued >= before && hs.issued <= Date.now());
      assert.equal(hs.time, new Date(hs.issued).toString());
      assert.equal(typeof hs.headers.host, "string");
      assert.equal(hs.url.startsWith("/socket.io/?"), true);
      assert.equal(hs.query.EIO, "4");
      c1.disconnect();
      c2.disconnect();
      await sleep(50);
      assert.equal(rooms.has(s1.id), false);
      assert.equal(sids.has(s2.id), false);
    });

    it("collects broadcast acks from many clients, with a timeout", T, async () => {
      const nsp = h.io.of(`/acks-${mode.name}`);
      const clients = [h.client(nsp.name), h.client(nsp.name), h.client(nsp.name)];
      await Promise.all(clients.map((c) => waitFor(c, "connect")));
      clients.forEach((c, i) => {
        c.on("question", (q: number, ack: (a: number) => void) => ack(q * 10 + i));
      });
      const answers = (await nsp.timeout(1000).emitWithAck("question", 4)) as number[];
      assert.deepEqual(answers.sort(), [40, 41, 42]);
      clients[2].off("question");
      clients[2].on("question", () => {});
      const [err, partial] = await new Promise<[Error | null, number[]]>((resolve) =>
        nsp.timeout(100).emit("question", 1, (e: Error | null, r: number[]) => resolve([e, r])),
      );
      assert.ok(err instanceof Error);
      assert.deepEqual(partial.sort(), [10, 11]);
      const empty = await h.io.to("nobody-here").timeout(100).emitWithAck("question", 1);
      assert.deepEqual(empty, []);
      for (const c of clients) c.disconnect();
    });

    it("raises onAny / onAnyOutgoing and send/message", T, async () => {
      const serverSocket = nextServerSocket();
      const client = h.client();
      const socket = await serverSocket;
      await waitFor(client, "connect");
      const incoming: unknown[][] = [];
      const outgoing: unknown[][] = [];
      const any = (...args: unknown[]) => incoming.push(args);
      socket.onAny(any);
      socket.prependAny(() => incoming.push(["first"]));
      socket.onAnyOutgoing((...args: unknown[]) => outgoing.push(args));
      assert.equal(socket.listenersAny().length, 2);
      const msg = waitFor(socket, "message");
      client.send("hi", 1);
      assert.deepEqual(await msg, ["hi", 1]);
      assert.deepEqual(incoming, [["first"], ["message", "hi", 1]]);
      socket.offAny(any);
      assert.equal(socket.listenersAny().length, 1);
      const reply = waitFor(client, "message");
      socket.send("back");
      h.io.emit("everyone", 1);
      assert.deepEqual(await reply, ["back"]);
      await sleep(30);
      assert.deepEqual(outgoing, [
        ["message", "back"],
        ["everyone", 1],
      ]);
      socket.offAnyOutgoing();
      assert.equal(socket.listenersAnyOutgoing().length, 0);
      client.disconnect();
    });
  });
}

describe("serverSideEmit between two nodes sharing a broker", () => {
  it("delivers events and collects acknowledgements", T, async () => {
    const hub = new MemoryBrokerHub();
    const a = await startServer({ broker: hub.connect("a") });
    const b = await startServer({ broker: hub.connect("b") });
    await sleep(10);
    const got = waitFor(b.io, "hello");
    a.io.serverSideEmit("hello", "from a", { n: 1 });
    assert.deepEqual(await got, ["from a", { n: 1 }]);
    b.io.on("count", (ack: (n: number) => void) => ack(42));
    assert.deepEqual(await a.io.serverSideEmitWithAck("count"), [42]);
    const single = await startServer();
    assert.deepEqual(await single.io.serverSideEmitWithAck("count"), [], "alone: no answers");
    b.io.on("slow", () => {});
    await assert.rejects(a.io.timeout(50).serverSideEmitWithAck("slow"), /timeout reached/);
    assert.throws(() => a.io.serverSideEmit("connection"), /reserved/);
    await Promise.all([a.close(), b.close(), single.close()]);
  });

  it("keeps Server instances independent", () => {
    const io = new Server();
    assert.equal(io.of("/").name, "/");
    assert.equal(io.sockets, io.of("/"));
    return io.close();
  });
});
