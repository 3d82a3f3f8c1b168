import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeFrame,
  encodeAck,
  encodeGoodbye,
  encodeProbe,
  encodePublish,
  encodeReply,
  encodeRequest,
  encodeState,
  FRAME_VERSION,
  FrameError,
  FrameKind,
  originBytes,
  sentAgo,
} from "../../src/cluster/redis-frame.js";
import { clusterSlot } from "../../src/cluster/redis-slot.js";

const origin = originBytes("node-é", 0xa1b2c3d4);
const tag = 0xa1b2c3d4;

describe("redis broker frames", () => {
  it("round-trips every kind", () => {
    const payload = Buffer.from([0, 1, 0xff]);
    const sent = 1_765_000_000_123; // a Date.now(); frames carry it modulo 2^32
    assert.deepEqual(decodeFrame(encodePublish(origin, "sio/ns/room", payload, sent)), {
      kind: FrameKind.PUBLISH,
      tag,
      topic: "sio/ns/room",
      payload,
      sent: sent % 2 ** 32,
    });
    assert.deepEqual(decodeFrame(encodePublish(origin, undefined, payload, sent)), {
      kind: FrameKind.PUBLISH,
      tag,
      topic: undefined,
      payload,
      sent: sent % 2 ** 32,
    });
    assert.deepEqual(decodeFrame(encodeProbe(origin)), { kind: FrameKind.PROBE, tag });
    const node = { tag, origin: "node-é" };
    assert.deepEqual(decodeFrame(encodeRequest(origin, 7, "q/x", payload)), {
      kind: FrameKind.REQUEST,
      ...node,
      id: 7,
      topic: "q/x",
      payload,
    });
    assert.deepEqual(decodeFrame(encodeReply(origin, 0xffffffff, payload)), {
      kind: FrameKind.REPLY,
      ...node,
      id: 0xffffffff,
      payload,
    });
    assert.deepEqual(decodeFrame(encodeReply(origin, 3, undefined)), {
      kind: FrameKind.REPLY,
      ...node,
      id: 3,
      payload: undefined,
    });
    assert.deepEqual(decodeFrame(encodeReply(origin, 3, Buffer.alloc(0))), {
      kind: FrameKind.REPLY,
      ...node,
      id: 3,
      payload: Buffer.alloc(0),
    });
    for (const kind of [FrameKind.HELLO, FrameKind.STATE] as const)
      assert.deepEqual(decodeFrame(encodeState(kind, origin, 9, ["a/*", "b/**"])), {
        kind,
        ...node,
        id: 9,
        patterns: ["a/*", "b/**"],
      });
    assert.deepEqual(decodeFrame(encodeState(FrameKind.INTEREST, origin, 4, ["sio//r", ""])), {
      kind: FrameKind.INTEREST,
      ...node,
      id: 4,
      topics: ["sio//r", ""],
    });
    assert.deepEqual(decodeFrame(encodeAck(origin, 5)), { kind: FrameKind.ACK, ...node, id: 5 });
    assert.deepEqual(decodeFrame(encodeGoodbye(origin)), { kind: FrameKind.GOODBYE, ...node });
  });

  it("matches the wire vectors of the format comment", () => {
    const small = originBytes("n1", 0x01020304);
    // An exact publish: head and tag, the send time, then the payload, nothing else.
    const sent = 2 ** 32 + 0x0a0b0c0d;
    assert.equal(
      encodePublish(small, undefined, Buffer.from("hi"), sent).toString("hex"),
      "0353420801020304" + "0a0b0c0d" + "6869",
    );
    assert.equal(
      encodePublish(small, "t", Buffer.from("hi"), sent).toString("hex"),
      "0353420101020304" + "0a0b0c0d" + "000174" + "6869",
    );
    assert.equal(encodeProbe(small).toString("hex"), "0353420901020304");
    assert.equal(
      encodeAck(small, 0x10).toString("hex"),
      "0353420601020304" + "02" + "6e31" + "00000010",
    );
    assert.equal(
      encodeState(FrameKind.INTEREST, small, 1, ["ab"]).toString("hex"),
      "0353420a01020304" + "02" + "6e31" + "00000001" + "0001" + "0002" + "6162",
    );
    assert.equal(originBytes("x").tag === 0, false);
  });

  it("reads version 2 frames: publishes without a send time, control frames alike", () => {
    const v2 = (hex: string) => decodeFrame(Buffer.from(hex, "hex"));
    assert.deepEqual(v2("02534208010203046869"), {
      kind: FrameKind.PUBLISH,
      tag: 0x01020304,
      topic: undefined,
      payload: Buffer.from("hi"),
      sent: undefined,
    });
    assert.deepEqual(v2("0253420101020304000174" + "6869"), {
      kind: FrameKind.PUBLISH,
      tag: 0x01020304,
      topic: "t",
      payload: Buffer.from("hi"),
      sent: undefined,
    });
    assert.deepEqual(v2("0253420601020304" + "02" + "6e31" + "00000010"), {
      kind: FrameKind.ACK,
      tag: 0x01020304,
      origin: "n1",
      id: 0x10,
    });
    assert.throws(() => v2("0153420801020304"), { code: "ERR_FRAME_VERSION" });
  });

  it("times a frame in transit modulo 2^32, a sender's clock ahead as 0", () => {
    const now = 1_765_000_000_000;
    assert.equal(sentAgo(now % 2 ** 32, now), 0);
    assert.equal(sentAgo((now - 1234) % 2 ** 32, now), 1234);
    // Across the wrap: sent just before a multiple of 2^32, received after it.
    const wrap = 2 ** 32 * 410;
    assert.equal(sentAgo((wrap - 3) % 2 ** 32, wrap + 4), 7);
    assert.equal(sentAgo((now + 50) % 2 ** 32, now), 0);
  });

  it("refuses foreign bytes, other versions and every truncation with a coded FrameError", () => {
    const code = (bytes: Buffer) => {
      try {
        decodeFrame(bytes);
      } catch (err) {
        assert.ok(err instanceof FrameError);
        return err.code;
      }
      return "decoded";
    };
    assert.equal(code(Buffer.from("hello")), "ERR_FRAME_FOREIGN");
    assert.equal(code(Buffer.from('{"type":2}')), "ERR_FRAME_FOREIGN");
    assert.equal(code(Buffer.alloc(0)), "ERR_FRAME_FOREIGN");
    const other = encodePublish(origin, "t", Buffer.from("x"));
    other[0] = FRAME_VERSION + 1;
    assert.equal(code(other), "ERR_FRAME_VERSION");
    const unknown = encodeGoodbye(origin);
    unknown[3] = 99;
    assert.equal(code(unknown), "ERR_FRAME_MALFORMED");
    const frames = [
      encodeRequest(origin, 1, "topic", Buffer.alloc(0)),
      encodeState(FrameKind.STATE, origin, 1, ["p/*"]),
      encodeAck(origin, 1),
      encodePublish(origin, "topic", Buffer.alloc(0)),
      encodeState(FrameKind.INTEREST, origin, 1, ["topic"]),
      encodeGoodbye(origin),
    ];
    for (const frame of frames)
      for (let cut = 0; cut < frame.length; cut++)
        assert.notEqual(code(frame.subarray(0, cut)), "decoded", `cut at ${cut}`);
    assert.equal(
      code(Buffer.concat([encodeAck(origin, 1), Buffer.from([0])])),
      "ERR_FRAME_MALFORMED",
    );
    assert.equal(
      code(Buffer.concat([encodeProbe(origin), Buffer.from([0])])),
      "ERR_FRAME_MALFORMED",
    );
    // A control frame with an empty node id.
    const anonymous = encodeGoodbye(origin).subarray(0, 9);
    anonymous[8] = 0;
    assert.equal(code(anonymous), "ERR_FRAME_MALFORMED");
  });

  it("refuses node ids a frame cannot carry", () => {
    assert.throws(() => originBytes(""), { code: "ERR_BROKER_OPTIONS" });
    assert.throws(() => originBytes("x".repeat(256)), { code: "ERR_BROKER_OPTIONS" });
    assert.throws(() => encodePublish(origin, "t".repeat(0x10000), Buffer.alloc(0)), {
      code: "ERR_BROKER_TOPIC",
    });
  });
});

describe("cluster slots", () => {
  it("are CRC16 modulo 16384, of the hash tag when there is one", () => {
    assert.equal(clusterSlot("123456789"), 0x31c3);
    assert.equal(clusterSlot("foo"), 12182);
    assert.equal(clusterSlot("{user1000}.following"), clusterSlot("user1000"));
    assert.equal(clusterSlot("foo{}{bar}"), clusterSlot("foo{}{bar}"));
    assert.notEqual(clusterSlot("foo{}{bar}"), clusterSlot("bar"));
  });
});
