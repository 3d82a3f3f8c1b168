/**
 * How a long-polling client learns that its session ended, byte for byte as
 * engine.io 6 tells it: a held GET gets the close packet (`1`), a session
 * closed by the server between two polls answers the next GET with a noop
 * and the close packet (`6␞1`), and any other end (an invalid POST, a ping
 * timeout) forgets the sid at once, so the next GET gets 400 "Session ID
 * unknown".
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Socket } from "../../src/engine/index.js";
import {
  handshake,
  next,
  type RawResponse,
  rawRequest,
  startEngine,
  type TestEngine,
} from "./helpers.js";

const UNKNOWN_SID = { code: 1, message: "Session ID unknown" };

describe("polling session close", () => {
  let t: TestEngine;
  before(async () => {
    t = await startEngine({ pingInterval: 5000, pingTimeout: 5000 });
  });
  after(() => t.close());

  const poll = (sid: string) =>
    rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
  const post = (sid: string, body: string) =>
    rawRequest(t.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: "POST",
      body,
    });

  /** Opens a session and holds a GET on it; resolves once the engine holds the poll. */
  async function heldPoll(): Promise<{ sid: string; socket: Socket; held: Promise<RawResponse> }> {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const ready = new Promise<void>((resolve) => {
      const check = () => {
        if (socket.transport.writable) resolve();
        else setImmediate(check);
      };
      check();
    });
    const held = poll(sid);
    await ready;
    return { sid, socket, held };
  }

  function assertUnknown(res: RawResponse): void {
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.text), UNKNOWN_SID);
  }

  test("an invalid POST closes the session: the held GET gets 1, the next GET 400", async () => {
    const { sid, socket, held } = await heldPoll();
    const closed = next<[string]>(socket, "close");
    const res = await post(sid, "zzz");
    assert.equal(res.status, 200);
    assert.equal(res.text, "ok");
    assert.equal((await closed)[0], "parse error");
    assert.equal((await held).text, "1");
    assertUnknown(await poll(sid));
  });

  test("an invalid POST without a held GET: the next GET gets 400", async () => {
    const { sid } = await handshake(t.port);
    const closed = next<[string]>(t.engine.clients[sid], "close");
    const res = await post(sid, "zzz");
    assert.equal(res.text, "ok");
    assert.equal((await closed)[0], "parse error");
    assertUnknown(await poll(sid));
  });

  test("server close: a held GET gets 1; between polls the next GET gets 6 then 1; then 400", async () => {
    const withPoll = await heldPoll();
    const closedWithPoll = next<[string]>(withPoll.socket, "close");
    withPoll.socket.close();
    assert.equal((await closedWithPoll)[0], "forced close");
    assert.equal((await withPoll.held).text, "1");
    assertUnknown(await poll(withPoll.sid));

    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const closed = next<[string]>(socket, "close");
    socket.close();
    assert.equal((await closed)[0], "forced close");
    const first = await poll(sid);
    assert.equal(first.status, 200);
    assert.equal(first.text, "6\x1e1");
    assertUnknown(await poll(sid));

    // With discard nothing is owed to the client: the sid is forgotten at once.
    const discarded = await handshake(t.port);
    const other = t.engine.clients[discarded.sid];
    const closedDiscard = next<[string]>(other, "close");
    other.close(true);
    assert.equal((await closedDiscard)[0], "forced close");
    assertUnknown(await poll(discarded.sid));
  });

  test("a client close packet releases the held GET with a noop", async () => {
    const { sid, socket, held } = await heldPoll();
    const closed = next<[string]>(socket, "close");
    assert.equal((await post(sid, "1")).text, "ok");
    assert.equal((await closed)[0], "transport close");
    assert.equal((await held).text, "6");
    assertUnknown(await poll(sid));
  });
});

describe("polling ping timeout", () => {
  let t: TestEngine;
  before(async () => {
    t = await startEngine({ pingInterval: 100, pingTimeout: 200 });
  });
  after(() => t.close());

  test("a held GET gets 1 at the ping timeout, the next GET 400", async () => {
    const { sid } = await handshake(t.port);
    const socket = t.engine.clients[sid];
    const base = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
    assert.equal((await rawRequest(t.port, base)).text, "2");
    const closed = next<[string]>(socket, "close");
    const held = rawRequest(t.port, base);
    assert.equal((await closed)[0], "ping timeout");
    assert.equal((await held).text, "1");
    const after = await rawRequest(t.port, base);
    assert.equal(after.status, 400);
    assert.deepEqual(JSON.parse(after.text), UNKNOWN_SID);
  });
});
