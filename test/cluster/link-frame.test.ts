/**
 * The forwarding link's frames from wire vectors: each vector encodes to its
 * bytes and decodes back, fed whole, split at every byte, and byte by byte;
 * and what a side must refuse (a frame type it does not read, an oversize
 * length, truncated fields, unknown flags) throws ERR_LINK_FRAME.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  encodeCancel,
  encodeData,
  encodeRequest,
  encodeResponse,
  FRAME_CANCEL,
  FRAME_DATA,
  FRAME_REQUEST,
  FRAME_RESPONSE,
  FrameDecoder,
  type LinkFrame,
  LinkFrameError,
} from "../../src/cluster/link-frame.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const text = (s: string): Buffer => Buffer.from(s);

interface Vector {
  name: string;
  bytes: Buffer;
  encode: () => Buffer;
  frame: LinkFrame;
}

const VECTORS: Vector[] = [
  {
    name: "request, one header, no body",
    // length 26 | type 1 | flags 0 | id 1 | "GET" | "/a" | 1 header h: v
    bytes: hex("0000001a 01 00 00000001 03 474554 00000002 2f61 0001 0001 68 00000001 76"),
    encode: () => encodeRequest(1, "GET", "/a", { h: "v" }, null),
    frame: {
      type: FRAME_REQUEST,
      id: 1,
      method: "GET",
      url: "/a",
      headers: { h: "v" },
      body: text(""),
    },
  },
  {
    name: "request with a body and a repeated header",
    bytes: hex(
      "00000025 01 00 00000102 04 504f5354 00000001 2f 0002 0001 63 00000001 31 0001 63 00000001 32 34 6d 78",
    ),
    encode: () => encodeRequest(258, "POST", "/", { c: ["1", "2"] }, "4mx"),
    frame: {
      type: FRAME_REQUEST,
      id: 258,
      method: "POST",
      url: "/",
      headers: { c: ["1", "2"] },
      body: text("4mx"),
    },
  },
  {
    name: "request: latin1 header bytes pass unchanged",
    bytes: hex("0000001a 01 00 00000007 03 474554 00000001 2f 0001 0001 78 00000002 e9ff"),
    encode: () => encodeRequest(7, "GET", "/", { x: "\u00e9\u00ff" }, null),
    frame: {
      type: FRAME_REQUEST,
      id: 7,
      method: "GET",
      url: "/",
      headers: { x: "\u00e9\u00ff" },
      body: text(""),
    },
  },
  {
    name: "whole response",
    bytes: hex("0000000c 02 01 00000002 00c8 0000 6f6b"),
    encode: () => encodeResponse(2, 200, {}, "ok", true),
    frame: { type: FRAME_RESPONSE, id: 2, fin: true, status: 200, headers: {}, body: text("ok") },
  },
  {
    name: "response head to be continued",
    bytes: hex("00000015 02 00 00000009 0190 0001 0001 74 00000004 74657874"),
    encode: () => encodeResponse(9, 400, { t: "text" }, Buffer.alloc(0), false),
    frame: {
      type: FRAME_RESPONSE,
      id: 9,
      fin: false,
      status: 400,
      headers: { t: "text" },
      body: text(""),
    },
  },
  {
    name: "data",
    bytes: hex("00000007 03 00 00000003 78"),
    encode: () => encodeData(3, "x", false),
    frame: { type: FRAME_DATA, id: 3, fin: false, body: text("x") },
  },
  {
    name: "last data, UTF-8 body",
    bytes: hex("00000008 03 01 00000003 c3a9"),
    encode: () => encodeData(3, "\u00e9", true),
    frame: { type: FRAME_DATA, id: 3, fin: true, body: hex("c3a9") },
  },
  {
    name: "cancel",
    bytes: hex("00000006 04 00 ffffffff"),
    encode: () => encodeCancel(0xffffffff),
    frame: { type: FRAME_CANCEL, id: 0xffffffff },
  },
];

const ALL = [FRAME_REQUEST, FRAME_RESPONSE, FRAME_DATA, FRAME_CANCEL];
const decoder = (maxFrame = 1 << 20, accepts = ALL) => new FrameDecoder({ maxFrame, accepts });

function plain(frames: LinkFrame[]): unknown[] {
  return frames.map((f) => ("body" in f ? { ...f, body: Buffer.from(f.body) } : f));
}

describe("forwarding link frames", () => {
  for (const v of VECTORS) {
    it(`encodes and decodes: ${v.name}`, () => {
      assert.equal(v.encode().toString("hex"), v.bytes.toString("hex"));
      assert.deepEqual(plain(decoder().push(v.bytes)), plain([v.frame]));
      // Split at every byte.
      for (let cut = 0; cut <= v.bytes.length; cut++) {
        const d = decoder();
        const got = [...d.push(v.bytes.subarray(0, cut)), ...d.push(v.bytes.subarray(cut))];
        assert.deepEqual(plain(got), plain([v.frame]), `cut at ${cut}`);
        assert.equal(d.buffered, 0);
      }
      // Byte by byte.
      const d = decoder();
      const got: LinkFrame[] = [];
      for (const byte of v.bytes) got.push(...d.push(Buffer.from([byte])));
      assert.deepEqual(plain(got), plain([v.frame]));
    });
  }

  it("decodes every vector from one chunk, in order", () => {
    const all = Buffer.concat(VECTORS.map((v) => v.bytes));
    assert.deepEqual(plain(decoder().push(all)), plain(VECTORS.map((v) => v.frame)));
  });

  const refused: [string, Buffer, FrameDecoder][] = [
    ["a length below the frame header", hex("00000005 04 00 000000"), decoder()],
    ["a length over the limit, before its bytes arrive", hex("00000101 02"), decoder(256)],
    [
      "a frame type this side does not read",
      hex("00000006 04 00 00000001"),
      decoder(256, [FRAME_REQUEST]),
    ],
    ["an unknown type", hex("00000006 09 00 00000001"), decoder()],
    ["unknown flags", hex("00000007 03 02 00000001 78"), decoder()],
    ["a cancel with a payload", hex("00000007 04 00 00000001 78"), decoder()],
    ["a header running past the frame", hex("0000000b 02 00 00000001 00c8 0001 ff"), decoder()],
    ["a URL running past the frame", hex("0000000e 01 00 00000001 01 47 000000ff 2f2f"), decoder()],
  ];
  for (const [name, bytes, d] of refused) {
    it(`refuses ${name} with ERR_LINK_FRAME`, () => {
      assert.throws(
        () => d.push(bytes),
        (err: unknown) => err instanceof LinkFrameError && err.code === "ERR_LINK_FRAME",
      );
    });
  }

  it("holds an incomplete frame until its last byte", () => {
    const d = decoder();
    const bytes = encodeData(1, Buffer.alloc(1000, 1), true);
    assert.deepEqual(d.push(bytes.subarray(0, 500)), []);
    assert.equal(d.buffered, 500);
    const [frame] = d.push(bytes.subarray(500));
    assert.equal(frame.type, FRAME_DATA);
    assert.equal(d.buffered, 0);
  });
});
