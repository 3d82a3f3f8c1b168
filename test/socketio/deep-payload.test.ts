/**
 * Over-deep and unencodable payloads end one client or fail one packet,
 * never the process: a 100,000-deep array or object sent by socket.io-client
 * to an echoing ack, the same depth in CONNECT auth, and circular, BigInt or
 * too-deep values emitted, broadcast or acknowledged by server code. If any
 * of these threw past the server, this test process would die with it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Socket as EioSocket } from "engine.io-client";
import { SocketIOEncodeError } from "../../src/codec/socketio/index.js";
import { Server, type Socket } from "../../src/index.js";
import { circular, deepArray, deepObject, nested } from "../helpers/unencodable.js";
import { type Harness, MODES, startServer, waitFor } from "./helpers.js";

const T = { timeout: 20_000 };
const DEPTH = 100_000;

/** Resolves once `check()` holds, polling; rejects after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function echoServer(h: Harness): void {
  h.io.on("connection", (socket: Socket) => {
    socket.on("echo", (payload: unknown, ack: (p: unknown) => void) => ack(payload));
  });
}

for (const mode of MODES) {
  describe(`deep payloads from socket.io-client (${mode.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startServer({}, mode);
      echoServer(h);
    });
    after(() => h.close());

    for (const [shape, json] of [
      ["array", deepArray(DEPTH)],
      ["object", deepObject(DEPTH)],
    ] as const) {
      it(
        `closes the sender of a ${DEPTH}-deep ${shape} with "forced close"; another client keeps working`,
        T,
        async () => {
          const bystander = h.client();
          await waitFor(bystander, "connect");
          const conn = waitFor<[Socket]>(h.io, "connection");
          const sender = h.client();
          await waitFor(sender, "connect");
          const [serverSide] = await conn;
          const reason = waitFor<[string]>(serverSide, "disconnect", 15_000);
          const clientClosed = waitFor(sender, "disconnect", 15_000);
          // socket.io-client's own encoder cannot even stringify such a value:
          // the packet goes out as text through its engine, with an ack id.
          sender.io.engine.send(`21["echo",${json}]`);
          assert.equal((await reason)[0], "forced close");
          await clientClosed;
          assert.deepEqual(await bystander.timeout(5000).emitWithAck("echo", { ok: [1, [2]] }), {
            ok: [1, [2]],
          });
          bystander.disconnect();
        },
      );
    }

    it("echoes a payload right at the depth limit", T, async () => {
      const client = h.client();
      await waitFor(client, "connect");
      // The packet's array is level 1, so its argument may be 63 deep.
      const payload = nested(63);
      assert.deepEqual(await client.timeout(5000).emitWithAck("echo", payload), payload);
      client.disconnect();
    });
  });
}

describe("deep CONNECT auth", () => {
  let h: Harness;
  before(async () => {
    h = await startServer();
    echoServer(h);
  });
  after(() => h.close());

  for (const [shape, json] of [
    ["object", deepObject(DEPTH)],
    ["array inside an object", `{"a":${deepArray(DEPTH)}}`],
  ] as const) {
    it(`closes a client whose auth is a ${DEPTH}-deep ${shape}`, T, async () => {
      const eio = new EioSocket(h.url, { transports: ["websocket"], path: "/socket.io/" });
      await waitFor(eio, "open");
      let connected = false;
      const onConnection = () => {
        connected = true;
      };
      h.io.on("connection", onConnection);
      const closed = waitFor<[string]>(eio, "close", 15_000);
      eio.send(`0${json}`);
      await closed;
      h.io.off("connection", onConnection);
      assert.equal(connected, false, "no socket was made from that auth");
      const client = h.client("/", { auth: { token: { nested: [1] } } });
      await waitFor(client, "connect");
      assert.equal(await client.timeout(5000).emitWithAck("echo", 1), 1);
      client.disconnect();
    });
  }

  it("accepts auth right at the depth limit", T, async () => {
    const conn = waitFor<[Socket]>(h.io, "connection");
    const client = h.client("/", { auth: { deep: nested(63) } });
    await waitFor(client, "connect");
    const [socket] = await conn;
    assert.deepEqual(socket.handshake.auth.deep, nested(63));
    client.disconnect();
  });

  it("refuses a maxPayloadDepth that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "8"]) {
      assert.throws(() => new Server({ maxPayloadDepth: bad as number }), /maxPayloadDepth/);
    }
  });

  it("honours a smaller maxPayloadDepth", T, async () => {
    const small = await startServer({ maxPayloadDepth: 3 });
    try {
      echoServer(small);
      const client = small.client();
      await waitFor(client, "connect");
      assert.deepEqual(await client.timeout(5000).emitWithAck("echo", [[1]]), [[1]]);
      const closed = waitFor<[string]>(client, "disconnect");
      client.emit("echo", [[[1]]]);
      await closed;
    } finally {
      await small.close();
    }
  });
});

describe("unencodable values from server code", () => {
  let h: Harness;
  let sockets: Socket[];
  before(async () => {
    h = await startServer();
    sockets = [];
    h.io.on("connection", (socket: Socket) => {
      sockets.push(socket);
      socket.on("echo", (payload: unknown, ack: (p: unknown) => void) => ack(payload));
      socket.on("bad-ack", (kind: string, ack: (p: unknown) => void) => {
        ack(kind === "circular" ? circular() : kind === "bigint" ? 1n : nested(DEPTH));
      });
    });
  });
  after(() => h.close());

  async function connectedPair() {
    const serverSide = waitFor<[Socket]>(h.io, "connection");
    const client = h.client();
    await waitFor(client, "connect");
    const [socket] = await serverSide;
    return { client, socket };
  }

  for (const [kind, value] of [
    ["circular", circular()],
    ["BigInt", 10n],
    [`${DEPTH}-deep`, nested(DEPTH)],
    [
      "throwing toJSON",
      {
        toJSON() {
          throw new Error("no");
        },
      },
    ],
  ] as const) {
    it(
      `socket.emit of a ${kind} value throws SocketIOEncodeError, sends nothing, keeps the socket`,
      T,
      async () => {
        const { client, socket } = await connectedPair();
        const got: unknown[] = [];
        client.onAny((...args) => got.push(args));
        assert.throws(() => socket.emit("x", value), SocketIOEncodeError);
        assert.throws(
          () => socket.emit("x", value, () => assert.fail("ack of an unsent packet")),
          SocketIOEncodeError,
        );
        let timedOut = false;
        assert.throws(
          () =>
            socket.timeout(50).emit("x", value, () => {
              timedOut = true;
            }),
          SocketIOEncodeError,
        );
        await assert.rejects(socket.emitWithAck("x", value), SocketIOEncodeError);
        socket.emit("fine", 1);
        await until(() => got.length === 1);
        assert.deepEqual(got, [["fine", 1]]);
        assert.equal(await client.timeout(5000).emitWithAck("echo", "still up"), "still up");
        // A later, longer timeout fires after the 50 ms one would have: the
        // failed emit left no ack or timer behind.
        await new Promise<void>((resolve) =>
          socket.timeout(100).emit("unanswered", () => resolve()),
        );
        assert.equal(timedOut, false, "no timeout callback for a packet that was never sent");
        client.disconnect();
      },
    );
  }

  it("io.emit, to(room).emit and broadcasts with ack throw; nothing is sent", T, async () => {
    const a = await connectedPair();
    const b = await connectedPair();
    a.socket.join("room");
    b.socket.join("room");
    const got: unknown[] = [];
    a.client.onAny((...args) => got.push(args));
    b.client.onAny((...args) => got.push(args));
    assert.throws(() => h.io.emit("x", circular()), SocketIOEncodeError);
    assert.throws(() => h.io.to("room").emit("x", 5n), SocketIOEncodeError);
    assert.throws(() => a.socket.broadcast.emit("x", nested(DEPTH)), SocketIOEncodeError);
    let called = false;
    assert.throws(
      () =>
        h.io.timeout(50).emit("x", circular(), () => {
          called = true;
        }),
      SocketIOEncodeError,
    );
    h.io.to("room").emit("fine", 2);
    await until(() => got.length === 2);
    assert.deepEqual(got, [
      ["fine", 2],
      ["fine", 2],
    ]);
    await a.client.timeout(5000).emitWithAck("echo", 0);
    // Fires after the failed broadcast's 50 ms timeout would have.
    await new Promise<void>((resolve) => h.io.timeout(100).emit("unanswered", () => resolve()));
    assert.equal(called, false, "no timeout callback for a broadcast that was never sent");
    a.client.disconnect();
    b.client.disconnect();
  });

  for (const kind of ["circular", "bigint", "deep"]) {
    it(
      `an ack reply with a ${kind} value is dropped and raised as the socket's error`,
      T,
      async () => {
        const { client, socket } = await connectedPair();
        const errors: Error[] = [];
        socket.on("error", (err: Error) => errors.push(err));
        let answered = false;
        client.emit("bad-ack", kind, () => {
          answered = true;
        });
        await until(() => errors.length === 1);
        assert.ok(errors[0] instanceof SocketIOEncodeError, String(errors[0]));
        assert.equal(errors[0].code, "ERR_SIO_UNENCODABLE");
        assert.equal(await client.timeout(5000).emitWithAck("echo", "after"), "after");
        assert.equal(answered, false);
        assert.equal(socket.connected, true);
        client.disconnect();
      },
    );
  }

  it("an ack reply that fails without an error listener leaves the process up", T, async () => {
    const { client } = await connectedPair();
    client.emit("bad-ack", "circular", () => assert.fail("no reply expected"));
    assert.equal(await client.timeout(5000).emitWithAck("echo", "after"), "after");
    client.disconnect();
  });

  it("a middleware error whose data cannot be encoded still refuses the client", T, async () => {
    const nsp = h.io.of("/guarded");
    nsp.use((_socket, next) => {
      const err = new Error("not allowed") as Error & { data?: unknown };
      err.data = circular();
      next(err);
    });
    const client = h.client("/guarded");
    const [err] = await waitFor<[Error]>(client, "connect_error", 5000);
    assert.equal(err.message, "not allowed");
    const other = h.client();
    await waitFor(other, "connect");
    other.disconnect();
    client.disconnect();
  });

  it("with connection state recovery, a failed emit is not kept for replay", T, async () => {
    const r = await startServer({ connectionStateRecovery: {} });
    echoServer(r);
    try {
      const conn = waitFor<[Socket]>(r.io, "connection");
      const client = r.client();
      await waitFor(client, "connect");
      const [socket] = await conn;
      const first = waitFor(client, "first");
      r.io.emit("first", 0);
      await first;
      const { _pid: pid, _lastOffset: offset } = client as unknown as Record<string, string>;
      assert.ok(pid && offset);
      assert.throws(() => socket.emit("x", circular()), SocketIOEncodeError);
      assert.throws(() => r.io.emit("x", 3n), SocketIOEncodeError);
      r.io.emit("kept", 1);
      const gone = waitFor(socket, "disconnect");
      client.io.engine.close();
      await gone;
      // Replaying what failed to encode would throw in the middle of the
      // reconnect: only what was sent comes back.
      const restored = waitFor<[Socket]>(r.io, "connection");
      const back = r.client("/", { auth: { pid, offset } });
      const replayed: unknown[][] = [];
      back.onAny((...args) => replayed.push(args));
      await waitFor(back, "connect");
      const [again] = await restored;
      assert.equal(again.recovered, true);
      await until(() => replayed.length === 1);
      assert.equal(replayed[0][0], "kept");
      assert.equal(await back.timeout(5000).emitWithAck("echo", "up").catch(String), "up");
      back.disconnect();
    } finally {
      await r.close();
    }
  });
});
