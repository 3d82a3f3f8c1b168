import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeFrame,
  encodeAck,
  encodeGoodbye,
  encodePublish,
  encodeReply,
  encodeRequest,
  encodeState,
  FRAME_VERSION,
  FrameError,
  FrameKind,
  originBytes,
} from "../../src/cluster/redis-frame.js";
import { clusterSlot } from "../../src/cluster/redis-slot.js";

const origin = originBytes("node-é");

describe("redis broker frames", () => {
  it("round-trips every kind", () => {
    const payload = Buffer.from([0, 1, 0xff]);
    assert.deepEqual(decodeFrame(encodePublish(origin, "sio/ns/room", payload)), {
      kind: FrameKind.PUBLISH,
      origin: "node-é",
      topic: "sio/ns/room",
      payload,
    });
    assert.deepEqual(decodeFrame(encodeRequest(origin, 7, "q/x", payload)), {
      kind: FrameKind.REQUEST,
      origin: "node-é",
      id: 7,
      topic: "q/x",
      payload,
    });
    assert.deepEqual(decodeFrame(encodeReply(origin, 0xffffffff, payload)), {
      kind: FrameKind.REPLY,
      origin: "node-é",
      id: 0xffffffff,
      payload,
    });
    assert.deepEqual(decodeFrame(encodeReply(origin, 3, undefined)), {
      kind: FrameKind.REPLY,
      origin: "node-é",
      id: 3,
      payload: undefined,
    });
    assert.deepEqual(decodeFrame(encodeReply(origin, 3, Buffer.alloc(0))), {
      kind: FrameKind.REPLY,
      origin: "node-é",
      id: 3,
      payload: Buffer.alloc(0),
    });
    for (const kind of [FrameKind.HELLO, FrameKind.STATE] as const)
      assert.deepEqual(decodeFrame(encodeState(kind, origin, 9, ["a/*", "b/**"])), {
        kind,
        origin: "node-é",
        id: 9,
        patterns: ["a/*", "b/**"],
      });
    assert.deepEqual(decodeFrame(encodeAck(origin, 5)), {
      kind: FrameKind.ACK,
      origin: "node-é",
      id: 5,
    });
    assert.deepEqual(decodeFrame(encodeGoodbye(origin)), {
      kind: FrameKind.GOODBYE,
      origin: "node-é",
    });
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
    ];
    for (const frame of frames)
      for (let cut = 0; cut < frame.length; cut++)
        assert.notEqual(code(frame.subarray(0, cut)), "decoded", `cut at ${cut}`);
    assert.equal(
      code(Buffer.concat([encodeAck(origin, 1), Buffer.from([0])])),
      "ERR_FRAME_MALFORMED",
    );
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
