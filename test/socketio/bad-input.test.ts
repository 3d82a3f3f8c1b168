/**
 * Malformed input from a raw Engine.IO client: each case closes that client
 * ("parse error") or answers with a protocol error, and the server stays up.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Socket as EioSocket } from "engine.io-client";
import type { Socket } from "../../src/index.js";
import { type Harness, sleep, startServer, waitFor } from "./helpers.js";

const T = { timeout: 10_000 };

/** A raw Engine.IO client over websocket that records what it receives. */
async function raw(h: Harness, query = ""): Promise<{ eio: EioSocket; received: unknown[] }> {
  const eio = new EioSocket(`${h.url}${query}`, { transports: ["websocket"], path: "/socket.io/" });
  const received: unknown[] = [];
  eio.on("message", (m) => received.push(m));
  await waitFor(eio, "open");
  return { eio, received };
}

/** Connects a raw client to `/` and returns it once the CONNECT reply came. */
async function rawConnected(
  h: Harness,
): Promise<{ eio: EioSocket; socket: Socket; received: unknown[] }> {
  const conn = waitFor<[Socket]>(h.io, "connection");
  const r = await raw(h);
  r.eio.send("0");
  const [socket] = await conn;
  return { ...r, socket };
}

describe("bad input from raw clients", () => {
  let h: Harness;
  before(async () => {
    h = await startServer({ maxAttachments: 2, connectTimeout: 300 });
    h.io.on("connection", (socket: Socket) => {
      socket.on("merge", (payload: Record<string, unknown>, ack?: (r: unknown) => void) => {
        const merged = Object.assign({}, payload, { ...payload });
        if (typeof ack === "function") ack(Object.keys(merged));
      });
      socket.on("files", (...args: unknown[]) => {
        const ack = args.pop();
        if (typeof ack === "function") ack(args.length);
      });
    });
  });
  after(() => h.close());

  /** A real client still connects and round-trips afterwards. */
  async function assertServerUp(): Promise<void> {
    const client = h.client();
    await waitFor(client, "connect");
    assert.deepEqual(await client.emitWithAck("merge", { a: 1 }), ["a"]);
    client.disconnect();
  }

  for (const [name, messages] of [
    ["invalid JSON", ['2["merge",']],
    ["unknown packet type", ["9hello"]],
    ["non-array event payload", ['2{"a":1}']],
    ["event name not a string", ["2[42]"]],
    ["event named connect", ['2["connect"]']],
    ["event named disconnect", ['2["disconnect","x"]']],
    ["event named error", ['2["error",{"message":"boom"}]']],
    ["declared attachments without placeholders", ['52-["files"]']],
    [
      "more attachments than maxAttachments",
      [
        '53-["files",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]',
      ],
    ],
    ["binary message out of the blue", [Buffer.from([1, 2, 3])]],
    [
      "text while awaiting an attachment",
      ['51-["files",{"_placeholder":true,"num":0}]', '2["merge"]'],
    ],
    ["CONNECT_ERROR sent by a client", ['4{"message":"x"}']],
    ["CONNECT payload not an object", ['0/other,"str"']],
  ] as const) {
    it(
      `closes the client on ${name} with "forced close" (as socket.io) and stays up`,
      T,
      async () => {
        const { eio, socket } = await rawConnected(h);
        const reason = waitFor(socket, "disconnect");
        const closed = waitFor(eio, "close");
        for (const m of messages) eio.send(m as string);
        const [why] = await reason;
        assert.equal(why, "forced close");
        await closed;
        await assertServerUp();
      },
    );
  }

  it("accepts exactly maxAttachments attachments", T, async () => {
    const { eio, received } = await rawConnected(h);
    eio.send('52-1["files",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    eio.send(Buffer.from([1]));
    eio.send(Buffer.from([2]));
    await sleep(100);
    assert.ok(received.includes("31[2]"), JSON.stringify(received));
    eio.close();
  });

  it("drops __proto__ keys from events, auth and query: no pollution", T, async () => {
    const conn = waitFor<[Socket]>(h.io, "connection");
    const { eio, received } = await raw(h, "/?__proto__=x&ok=1");
    eio.send('0{"__proto__":{"polluted":"auth"},"token":"t"}');
    const [socket] = await conn;
    assert.deepEqual(Object.keys(socket.handshake.auth), ["token"]);
    assert.equal(Object.hasOwn(socket.handshake.query, "__proto__"), false);
    assert.equal(socket.handshake.query.ok, "1");
    eio.send(
      '27["merge",{"__proto__":{"polluted":"event"},"a":{"\\u005f_proto__":{"polluted":1}},"b":2}]',
    );
    await sleep(100);
    assert.ok(received.includes('37[["a","b"]]'), JSON.stringify(received));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
    eio.close();
  });

  it(
    "answers CONNECT to an unknown namespace with CONNECT_ERROR Invalid namespace",
    T,
    async () => {
      const { eio, received } = await raw(h);
      eio.send("0/nope,");
      await sleep(100);
      assert.deepEqual(received, ['4/nope,{"message":"Invalid namespace"}']);
      eio.send("0");
      await sleep(100);
      assert.match(String(received[1]), /^0\{"sid":"[\w-]{20}"\}$/, "same connection still usable");
      eio.close();
      await assertServerUp();
    },
  );

  it("ignores an ACK with an unknown id", T, async () => {
    const { eio, socket } = await rawConnected(h);
    eio.send('3999["late"]');
    await sleep(50);
    assert.equal(socket.connected, true);
    eio.close();
  });

  it("closes a connection that joins no namespace within connectTimeout", T, async () => {
    const { eio } = await raw(h);
    const started = Date.now();
    await waitFor(eio, "close", 3000);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 2000, `closed after ${waited} ms`);
    const joined = await rawConnected(h);
    await sleep(500);
    assert.equal(joined.socket.connected, true, "a joined connection stays");
    joined.eio.close();
  });

  it("rejects a client that sends packets for a namespace it did not join", T, async () => {
    const { eio, socket } = await rawConnected(h);
    const reason = waitFor(socket, "disconnect");
    eio.send('2/elsewhere,["merge",{}]');
    assert.equal((await reason)[0], "forced close");
    await assertServerUp();
  });
});
