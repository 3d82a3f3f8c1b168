/**
 * Heartbeat deadlines (Engine.IO v4): a client that stops answering pings is
 * closed with "ping timeout" at pingInterval + pingTimeout after the
 * handshake or its last pong, as engine.io measures it, and not later than a
 * few milliseconds past it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import type { Socket } from "../../src/engine/index.js";
import { next, startEngine, type TestEngine } from "./helpers.js";

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const DEADLINE = PING_INTERVAL + PING_TIMEOUT;
/**
 * How late a close may come, measured against a plain `setTimeout` for the
 * same deadline set at the same moment: that timer is as late as the event
 * loop is (a loaded machine with seven test suites on two cores can delay a
 * process by 100 ms), so the difference is the timer structure's own
 * lateness, about a millisecond. 30 ms leaves room for a busy loop between
 * the two callbacks. The old timer wheel (a tenth of the shortest delay per
 * tick, 20 ms here, twice: ping, then pong deadline) was 20-60 ms late.
 */
const MARGIN = 30;

/** A plain timer for `ms` from now: `at()` is when it fired (0 before). */
function reference(ms: number): { at(): number } {
  let firedAt = 0;
  setTimeout(() => {
    firedAt = performance.now();
  }, ms);
  return { at: () => firedAt };
}

/** Waits (with a deadline) for a reference timer that may be due in the same turn. */
async function waitFired(timer: { at(): number }): Promise<void> {
  const until = performance.now() + 2000;
  while (timer.at() === 0) {
    if (performance.now() > until) throw new Error("the reference timer never fired");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("heartbeat deadline", () => {
  let t: TestEngine;
  before(async () => {
    t = await startEngine({
      pingInterval: PING_INTERVAL,
      pingTimeout: PING_TIMEOUT,
      transports: ["websocket"],
    });
  });
  after(() => t.close());

  /** Opens a raw websocket session; `start` is taken before the session exists. */
  async function open(): Promise<{
    ws: WebSocket;
    socket: Socket;
    start: number;
    deadline: { at(): number };
  }> {
    // The `headers` event fires while the upgrade is answered, before the
    // session (and its heartbeat) is created: a lower bound of its start.
    let start = 0;
    let deadline = { at: () => 0 };
    const onHeaders = () => {
      start = performance.now();
      deadline = reference(DEADLINE);
    };
    t.engine.once("headers", onHeaders);
    const connection = next<[Socket]>(t.engine, "connection");
    const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
    ws.on("error", () => {});
    const [socket] = await connection;
    assert.ok(start > 0);
    return { ws, socket, start, deadline };
  }

  test("a client that never answers is closed at pingInterval + pingTimeout after the handshake", async () => {
    // Several sessions, opened one after the other at unrelated moments: a
    // timer structure with coarse ticks is late for most of them.
    const late: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { ws, socket, start, deadline } = await open();
      const [reason] = await next<[string]>(socket, "close", 5000);
      const closedAt = performance.now();
      assert.equal(reason, "ping timeout");
      assert.ok(closedAt - start >= DEADLINE, `closed early, after ${closedAt - start} ms`);
      // The reference may fire just after the close, in the same turn of the loop.
      await waitFired(deadline);
      late.push(closedAt - deadline.at());
      ws.terminate();
    }
    const worst = Math.max(...late);
    assert.ok(
      worst < MARGIN,
      `closed up to ${worst.toFixed(1)} ms after a timer for the same deadline: ${late.map((l) => l.toFixed(1)).join(", ")}`,
    );
  });

  test("after a pong, the deadline is pingInterval + pingTimeout from that pong", async () => {
    const { ws, socket } = await open();
    let pongAt = 0;
    let deadline = { at: () => 0 };
    // `packet` is emitted before the pong reschedules the heartbeat.
    socket.on("packet", (packet: { type: string }) => {
      if (packet.type !== "pong") return;
      pongAt = performance.now();
      deadline = reference(DEADLINE);
    });
    let answered = false;
    ws.on("message", (data: Buffer) => {
      // Answers the first ping only.
      if (data.toString() === "2" && !answered) {
        answered = true;
        ws.send("3");
      }
    });
    const [reason] = await next<[string]>(socket, "close", 5000);
    const closedAt = performance.now();
    assert.equal(reason, "ping timeout");
    assert.ok(answered && pongAt > 0);
    assert.ok(
      closedAt - pongAt >= DEADLINE,
      `closed early, ${closedAt - pongAt} ms after the pong`,
    );
    await waitFired(deadline);
    const late = closedAt - deadline.at();
    assert.ok(late < MARGIN, `closed ${late.toFixed(1)} ms after a timer for the same deadline`);
    ws.terminate();
  });

  test("a closed session leaves no timer entry behind", async () => {
    const { ws, socket } = await open();
    assert.equal(t.engine.wheel.size, 1);
    const closed = next(socket, "close");
    ws.close();
    await closed;
    assert.equal(t.engine.wheel.size, 0);
    assert.equal(t.engine.wheel.lists, 0);
  });
});
