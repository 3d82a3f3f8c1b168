/**
 * Server frames built by `encodeFrame` are byte for byte what ws's own
 * Sender.frame builds, at every header-length boundary, for text (including
 * multi-byte UTF-8) and binary payloads.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as ws from "ws";
import { encodeFrame, JOIN_FRAME_LIMIT } from "../../src/transport/ws-frame.js";

type FrameFn = (data: Buffer, options: Record<string, unknown>) => Buffer[];
const wsFrame = (ws as unknown as { Sender: { frame: FrameFn } }).Sender.frame;

function reference(data: Buffer, binary: boolean): Buffer {
  const list = wsFrame(data, {
    fin: true,
    rsv1: false,
    opcode: binary ? 2 : 1,
    mask: false,
    readOnly: true,
  });
  return Buffer.concat(list);
}

const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, JOIN_FRAME_LIMIT - 4, JOIN_FRAME_LIMIT, 70000];

describe("encodeFrame", () => {
  for (const length of LENGTHS) {
    test(`text and binary of ${length} bytes match ws`, () => {
      const text = "a".repeat(length);
      assert.deepEqual(
        Buffer.concat(encodeFrame(text, false)),
        reference(Buffer.from(text), false),
      );
      const bytes = Buffer.alloc(length, 7);
      assert.deepEqual(Buffer.concat(encodeFrame(bytes, true)), reference(bytes, true));
    });
  }

  test("multi-byte UTF-8 is measured in bytes, not characters", () => {
    const text = `4["é","😀"]${"ü".repeat(100)}`;
    assert.deepEqual(Buffer.concat(encodeFrame(text, false)), reference(Buffer.from(text), false));
  });

  test("one buffer up to the limit, header and payload apart above it", () => {
    assert.equal(encodeFrame("x".repeat(1000), false).length, 1);
    assert.equal(encodeFrame(Buffer.alloc(JOIN_FRAME_LIMIT - 4), true).length, 1);
    const big = Buffer.alloc(JOIN_FRAME_LIMIT);
    const parts = encodeFrame(big, true);
    assert.equal(parts.length, 2);
    assert.equal(parts[1], big, "the payload is not copied");
  });
});
