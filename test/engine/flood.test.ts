/**
 * Half-open handshakes: clients that handshake and never poll again. Each
 * costs a session until its heartbeat expires; the server must stay up, keep
 * its memory bounded, and reap every one of them by ping timeout.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { delay, rawRequest, startEngine } from "./helpers.js";

test("hundreds of abandoned handshakes are reaped by ping timeout", {
  timeout: 30000,
}, async () => {
  const t = await startEngine({ pingInterval: 100, pingTimeout: 100 });
  try {
    const reasons = new Map<string, number>();
    t.engine.on("connection", (socket) => {
      socket.on("close", (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1));
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const total = 600;
    let peak = 0;
    for (let i = 0; i < total; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () => rawRequest(t.port, "/engine.io/?EIO=4&transport=polling")),
      );
      for (const res of batch) assert.equal(res.status, 200);
      peak = Math.max(peak, t.engine.clientsCount);
    }
    const heapPeak = process.memoryUsage().heapUsed;
    assert.ok(peak > 0);
    // Generous bound: a session with its handshake request is a few KB.
    assert.ok(
      (heapPeak - heapBefore) / total < 64 * 1024,
      `heap grew ${heapPeak - heapBefore} bytes for ${total} sessions`,
    );
    // pingInterval + pingTimeout (+ wheel resolution) later, all are gone.
    const deadline = Date.now() + 5000;
    while (t.engine.clientsCount > 0 && Date.now() < deadline) await delay(50);
    assert.equal(t.engine.clientsCount, 0);
    assert.deepEqual(Object.keys(t.engine.clients), []);
    assert.equal(reasons.get("ping timeout"), total);
    assert.equal(t.engine.wheel.size, 0);
    // And the server still serves.
    const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
    assert.equal(res.status, 200);
  } finally {
    await t.close();
  }
});
