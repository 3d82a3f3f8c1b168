/**
 * The websocket writer (src/transport/ws-writer.ts): tick coalescing and
 * order over loopback with real `ws` sockets, the backlog limit at its edge
 * on a stand-in stream whose backlog the test controls, and two writers side
 * by side.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { encodeFrame } from "../../src/transport/ws-frame.js";
import type { WebSocket as WsLike } from "../../src/transport/ws-types.js";
import {
  OVERFLOW,
  remoteAddressOf,
  UNAVAILABLE,
  WebSocketWriter,
  WRITTEN,
} from "../../src/transport/ws-writer.js";
import { until } from "../socketio/raw-clients.js";

/** The end of the current tick: the writer's uncork has run. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

/** A fresh tick (macrotask), so the next write is the first of its tick. */
function freshTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface StreamCounts {
  /** Calls of the stream's `_write` and `_writev`: what reaches the kernel, one syscall each. */
  writes: number;
}

/** Counts what the server-side TCP stream under `ws` hands to the kernel. */
function countStreamWrites(ws: WebSocket): StreamCounts {
  const counts = { writes: 0 };
  const stream = (ws as unknown as { _socket: Record<string, (...args: unknown[]) => unknown> })
    ._socket;
  for (const name of ["_write", "_writev"]) {
    const original = stream[name];
    stream[name] = function (this: unknown, ...args: unknown[]) {
      counts.writes++;
      return original.apply(this, args);
    };
  }
  return counts;
}

describe("WebSocketWriter over loopback", { timeout: 15000 }, () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const pairs: { server: WebSocket; client: WebSocket; got: string[] }[] = [];

  async function connect(): Promise<{ server: WebSocket; client: WebSocket; got: string[] }> {
    const accepted = once(wss, "connection");
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    const got: string[] = [];
    client.on("message", (data) => got.push(data.toString()));
    await once(client, "open");
    const [server] = (await accepted) as [WebSocket];
    const pair = { server, client, got };
    pairs.push(pair);
    return pair;
  }

  before(async () => {
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
  });

  after(async () => {
    for (const { client } of pairs) client.terminate();
    wss.close();
    http.close();
    await once(http, "close");
  });

  it("writes ten frames of one tick in at most two stream writes, in order", async () => {
    const { server, got } = await connect();
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    const counts = countStreamWrites(server);
    await freshTick();
    for (let i = 0; i < 10; i++) {
      assert.equal(writer.writeFrames(server, encodeFrame(`m${i}`, false), mark, 1 << 20), WRITTEN);
      // The first write of the tick goes out as it is made; the second corks.
      assert.equal(writer.corked(server), i > 0, `corked after write ${i}`);
    }
    assert.equal(counts.writes, 1, "only the first frame reached the kernel within the tick");
    await nextTick();
    assert.equal(writer.corked(server), false, "uncorked at the end of the tick");
    assert.ok(counts.writes <= 2, `at most two stream writes, saw ${counts.writes}`);
    await until(() => got.length === 10, 5000, "ten messages");
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
  });

  it("writes once per tick without corking, and frames a large message in one span", async () => {
    const { server, got } = await connect();
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    const big = "x".repeat(70 * 1024);
    const frames = encodeFrame(big, false);
    assert.equal(frames.length, 2, "header and payload apart past the join limit");
    for (let i = 0; i < 3; i++) {
      await freshTick();
      assert.equal(writer.writeFrames(server, frames, mark, 1 << 30), WRITTEN);
      assert.equal(writer.corked(server), false, "a single write per tick never corks");
    }
    await until(() => got.length === 3, 5000, "three large messages");
    assert.ok(got.every((text) => text === big));
  });

  it("tells its watcher of the backlog measured after the uncork, not before", async () => {
    const { server, got } = await connect();
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    const told: number[] = [];
    const watcher = { overflowed: () => told.push(server.bufferedAmount) };
    await freshTick();
    const frame = encodeFrame("y".repeat(1000), false);
    assert.equal(writer.writeFrames(server, frame, mark, 100, watcher), WRITTEN);
    // Corked: the bytes wait in the stream though the kernel would take them.
    assert.equal(writer.writeFrames(server, frame, mark, 100, watcher), WRITTEN);
    assert.ok(server.bufferedAmount > 100, "over the limit while corked");
    await nextTick();
    assert.equal(server.bufferedAmount, 0, "the kernel took every byte after the uncork");
    assert.deepEqual(told, [], "no overflow: the true backlog is empty");
    await until(() => got.length === 2, 5000, "two messages");
  });

  it("sends through ws's own send, coalesced the same way", async () => {
    const { server, got } = await connect();
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    const counts = countStreamWrites(server);
    await freshTick();
    let done = 0;
    for (let i = 0; i < 5; i++) {
      const status = writer.send(server, `s${i}`, false, false, mark, 1 << 20, () => done++);
      assert.equal(status, WRITTEN);
    }
    assert.equal(writer.busy(server, mark), true, "written to in this tick");
    await nextTick();
    assert.ok(counts.writes <= 2, `at most two stream writes, saw ${counts.writes}`);
    await until(() => got.length === 5 && done === 5, 5000, "five messages and callbacks");
    assert.deepEqual(got, ["s0", "s1", "s2", "s3", "s4"]);
    await until(() => !writer.busy(server, mark), 5000, "the writes settled");
  });

  it("runs the write callback of writeFramesThen once the frame is handed over", async () => {
    const { server, got } = await connect();
    const writer = new WebSocketWriter();
    let called = 0;
    const status = writer.writeFramesThen(server, encodeFrame("cb", false), null, 1 << 20, () => {
      called++;
    });
    assert.equal(status, WRITTEN);
    await until(() => called === 1 && got.length === 1, 5000, "the callback and the message");
    assert.equal(remoteAddressOf(server), "127.0.0.1");
  });

  it("keeps two writers apart: each corks and uncorks only its own connections", async () => {
    const a = await connect();
    const b = await connect();
    const writerA = new WebSocketWriter();
    const writerB = new WebSocketWriter();
    const markA = { tickMark: 0 };
    const markB = { tickMark: 0 };
    const countsA = countStreamWrites(a.server);
    const countsB = countStreamWrites(b.server);
    const toldA: string[] = [];
    const toldB: string[] = [];
    await freshTick();
    const frame = encodeFrame("z".repeat(200), false);
    for (let i = 0; i < 4; i++) {
      writerA.writeFrames(a.server, frame, markA, 10, { overflowed: () => toldA.push("a") });
    }
    writerB.writeFrames(b.server, frame, markB, 10, { overflowed: () => toldB.push("b") });
    assert.equal(writerA.corked(a.server), true);
    assert.equal(writerB.corked(b.server), false, "B's single write is not corked by A's tick");
    assert.equal(writerA.busy(a.server, markA), true);
    assert.equal(writerB.busy(b.server, markB), true);
    await nextTick();
    assert.equal(writerA.corked(a.server), false);
    assert.ok(countsA.writes <= 2, `A: at most two stream writes, saw ${countsA.writes}`);
    assert.equal(countsB.writes, 1);
    await until(() => a.got.length === 4 && b.got.length === 1, 5000, "every message");
    assert.deepEqual(toldA, [], "A's connection drained after its uncork");
    assert.deepEqual(toldB, []);
  });
});

/**
 * A stand-in TCP stream whose peer reads nothing unless told: every byte
 * written stays in `writableLength`, and `drainOnUncork` lets the "kernel"
 * take everything when the stream is uncorked.
 */
class HeldStream {
  writableLength = 0;
  writableCorked = 0;
  destroyed = false;
  drainOnUncork = false;
  flushes = 0;
  chunks: Buffer[] = [];

  write(chunk: Buffer, cb?: () => void): boolean {
    this.chunks.push(chunk);
    this.writableLength += chunk.length;
    if (this.writableCorked === 0) this.flushes++;
    cb?.();
    return true;
  }

  cork(): void {
    this.writableCorked++;
  }

  uncork(): void {
    if (this.writableCorked === 0) return;
    this.writableCorked--;
    if (this.writableCorked !== 0) return;
    this.flushes++;
    if (this.drainOnUncork) this.writableLength = 0;
  }
}

/** A `ws` stand-in over a {@link HeldStream}, with ws's `bufferedAmount` and an idle sender. */
function standIn(stream: HeldStream): WsLike & { readyState: number; sent: unknown[] } {
  const sent: unknown[] = [];
  return {
    readyState: 1,
    sent,
    get bufferedAmount() {
      return stream.writableLength;
    },
    extensions: "",
    _socket: stream,
    _sender: { _state: 0 },
    send(data: unknown) {
      sent.push(data);
    },
  } as unknown as WsLike & { readyState: number; sent: unknown[] };
}

describe("WebSocketWriter backlog limit", () => {
  const frame = Buffer.alloc(10);

  it("answers OVERFLOW only past the limit, measured after each write", () => {
    const stream = new HeldStream();
    const ws = standIn(stream);
    const writer = new WebSocketWriter();
    assert.equal(writer.writeFrames(ws, [frame], null, 30), WRITTEN);
    assert.equal(writer.writeFrames(ws, [frame], null, 30), WRITTEN);
    assert.equal(writer.writeFrames(ws, [frame], null, 30), WRITTEN, "30 bytes: at the limit");
    assert.equal(writer.writeFrames(ws, [frame], null, 30), OVERFLOW, "40 bytes: past it");
    assert.equal(writer.writeFramesThen(ws, [frame], null, 30), OVERFLOW);
    assert.equal(writer.send(ws, "x", false, false, null, 30), OVERFLOW);
    assert.equal(writer.send(ws, "x", false, false, null, 1000), WRITTEN);
  });

  it("measures a corked connection after the uncork, and tells its watcher once", async () => {
    const stream = new HeldStream();
    const ws = standIn(stream);
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    let told = 0;
    const watcher = { overflowed: () => told++ };
    await freshTick();
    assert.equal(writer.writeFrames(ws, [frame], mark, 15, watcher), WRITTEN, "10 bytes");
    for (let i = 0; i < 3; i++) {
      assert.equal(writer.writeFrames(ws, [frame], mark, 15, watcher), WRITTEN, "corked: later");
    }
    assert.equal(stream.writableCorked, 1, "corked once");
    assert.equal(told, 0);
    await nextTick();
    assert.equal(stream.writableCorked, 0);
    assert.equal(stream.flushes, 2, "one write, then one flush of the corked rest");
    assert.equal(told, 1, "40 bytes still held after the uncork: over 15");
  });

  it("does not tell the watcher when the uncork drained the backlog", async () => {
    const stream = new HeldStream();
    stream.drainOnUncork = true;
    const ws = standIn(stream);
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    let told = 0;
    await freshTick();
    writer.writeFrames(ws, [frame], mark, 5, { overflowed: () => told++ });
    writer.writeFrames(ws, [frame], mark, 5, { overflowed: () => told++ });
    await nextTick();
    assert.equal(told, 0);
  });

  it("without a watcher measures at once, corked bytes included", async () => {
    const stream = new HeldStream();
    stream.drainOnUncork = true;
    const ws = standIn(stream);
    const writer = new WebSocketWriter();
    const mark = { tickMark: 0 };
    await freshTick();
    assert.equal(writer.writeFrames(ws, [frame], mark, 15), WRITTEN);
    assert.equal(writer.writeFrames(ws, [frame], mark, 15), OVERFLOW);
    await nextTick();
  });

  it("skips a connection that is not open, and reports one without a stream", () => {
    const writer = new WebSocketWriter();
    const closing = standIn(new HeldStream());
    closing.readyState = 2;
    assert.equal(writer.writeFrames(closing, [frame], null, 0), WRITTEN);
    assert.equal(writer.send(closing, "x", false, false, null, 0), WRITTEN);
    assert.deepEqual(closing.sent, [], "nothing sent on a closing socket");
    const bare = { readyState: 1, bufferedAmount: 0, send() {} } as unknown as WsLike;
    assert.equal(writer.writeFrames(bare, [frame], null, 0), UNAVAILABLE);
    assert.equal(writer.writeFramesThen(bare, [frame], null, 0), UNAVAILABLE);
    assert.equal(writer.corked(bare), false);
    assert.equal(remoteAddressOf(bare), undefined);
  });

  it("leaves the frames to ws's send while its sender is busy", () => {
    const stream = new HeldStream();
    const ws = standIn(stream);
    (ws as unknown as { _sender: { _state: number } })._sender._state = 1;
    const writer = new WebSocketWriter();
    assert.equal(writer.writeFramesThen(ws, [frame], null, 100), UNAVAILABLE);
    assert.equal(stream.chunks.length, 0);
    assert.equal(writer.busy(ws, { tickMark: 0 }), true, "a busy sender is a write in flight");
  });
});
