/** The connect reply's template encoding: the same bytes as JSON.stringify, or JSON.stringify itself. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectReply, encodeReply } from "../../src/bayeux/server/connect-reply.js";
import { Latch } from "../../src/bayeux/server/latch.js";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";

const connect = (extra: Record<string, unknown>): BayeuxMessage => ({
  channel: "/meta/connect",
  connectionType: "long-polling",
  ...extra,
});

describe("bayeux connect reply", () => {
  it("encodes by template exactly as JSON.stringify does", () => {
    const messages = [
      connect({ clientId: "abc123", id: "7" }),
      connect({ clientId: "abc123", id: 42 }),
      connect({ clientId: "abc123", id: 1.5e300 }),
      connect({ clientId: "abc123" }),
      connect({ id: "x" }),
      connect({}),
      connect({ clientId: 'we"ird\\\u2028é\u0001', id: '"quoted"\n' }),
      connect({ clientId: "abc", id: "" }),
    ];
    for (const message of messages) {
      for (const [interval, timeout] of [
        [0, 30000],
        [250, 0],
        [0, 30000],
        [1.5, 45000],
      ]) {
        const reply = connectReply(message, interval, timeout, true);
        assert.equal(encodeReply(reply), JSON.stringify(reply));
        assert.deepEqual(JSON.parse(encodeReply(reply)), {
          ...JSON.parse(JSON.stringify(connectReply(message, interval, timeout, false))),
        });
      }
    }
  });

  it("falls back to JSON.stringify once an ext is set, or without the template", () => {
    const message = connect({ clientId: "abc", id: "1" });
    const acked = connectReply(message, 0, 30000, true);
    acked.ext = { ack: 3 };
    assert.equal(encodeReply(acked), JSON.stringify(acked));
    assert.match(encodeReply(acked), /"ext":\{"ack":3\}/);
    const plain = connectReply(message, 0, 30000, false);
    plain.extra = true;
    assert.equal(encodeReply(plain), JSON.stringify(plain));
    const other: BayeuxMessage = { channel: "/meta/subscribe", successful: true };
    assert.equal(encodeReply(other), JSON.stringify(other));
  });
});

describe("bayeux latch", () => {
  it("tells listeners in the tick it settles, and late ones at once", async () => {
    const latch = new Latch<number>();
    const seen: string[] = [];
    latch.listen({ resolved: (v) => seen.push(`a${v}`), rejected: () => seen.push("a!") });
    latch.listen({ resolved: (v) => seen.push(`b${v}`), rejected: () => seen.push("b!") });
    assert.equal(latch.settled, false);
    latch.resolve(1);
    latch.resolve(2);
    latch.reject(new Error("late"));
    assert.deepEqual(seen, ["a1", "b1"]);
    latch.listen({ resolved: (v) => seen.push(`c${v}`), rejected: () => seen.push("c!") });
    assert.deepEqual(seen, ["a1", "b1", "c1"]);
    assert.equal(await latch.promise(), 1);
    assert.equal(latch.promise(), latch.promise());
  });

  it("rejects its promise with the error", async () => {
    const latch = new Latch<number>();
    const promise = latch.promise();
    latch.reject(new Error("boom"));
    await assert.rejects(promise, /boom/);
    let told: unknown;
    latch.listen({ resolved: () => {}, rejected: (err) => (told = err) });
    assert.match(String(told), /boom/);
  });
});
