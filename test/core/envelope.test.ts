/** The hub envelope (version 2), from wire vectors: every vector decodes, re-encodes byte for byte, and refuses every truncation. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type DecodedEnvelope,
  decodeEnvelope,
  ENVELOPE_VERSION,
  EnvelopeError,
  encodeEnvelope,
} from "../../src/core/index.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

interface Vector {
  name: string;
  wire: string;
  decoded: DecodedEnvelope;
}

const VECTORS: Vector[] = [
  {
    name: "a plain room broadcast: no header, one text frame (6 bytes around the packet)",
    // H, version 2, type "b", header length 0, 1 frame, tag 0x16 = 11 bytes × 2 + text
    wire: "48 02 62 00 01 16 325b226e657773222c315d",
    decoded: { type: "b", header: {}, frames: ['2["news",1]'] },
  },
  {
    name: "a Bayeux publish",
    wire: "48 02 70 00 01 32 7b226368616e6e656c223a222f61222c2264617461223a317d",
    decoded: { type: "p", header: {}, frames: ['{"channel":"/a","data":1}'] },
  },
  {
    name: "a header, a text frame and a binary attachment",
    // header length 0x1e = 30 bytes; 2 frames: tag 0x5c = 46 × 2 + text, tag 0x05 = 2 × 2 + binary
    wire:
      "48 02 62 1e 7b226e7370223a222f63686174222c22657863657074223a5b2278225d7d 02" +
      " 5c 35312d2f636861742c5b2262696e222c7b225f706c616365686f6c646572223a747275652c226e756d223a307d5d" +
      " 05 00ff",
    decoded: {
      type: "b",
      header: { nsp: "/chat", except: ["x"] },
      frames: ['51-/chat,["bin",{"_placeholder":true,"num":0}]', Buffer.from([0, 255])],
    },
  },
  {
    name: "an answer without header or frames",
    wire: "48 02 72 00 00",
    decoded: { type: "r", header: {}, frames: [] },
  },
  {
    name: "a 200-byte frame: a two-byte length (0x90 0x03 = 400 = 200 × 2 + text)",
    wire: `48 02 62 00 01 9003 ${"78".repeat(200)}`,
    decoded: { type: "b", header: {}, frames: ["x".repeat(200)] },
  },
  {
    name: "UTF-8 in the header and the frames, and an empty frame",
    // "é" is 2 bytes: header {"r":"é"} is 10 bytes; frame 2["é"] is 7 bytes
    wire: "48 02 6b 0a 7b2272223a22c3a9227d 02 0e 325b22c3a9225d 00",
    decoded: { type: "k", header: { r: "é" }, frames: ['2["é"]', ""] },
  },
];

describe("envelope v2 wire vectors", () => {
  it("is version 2", () => {
    assert.equal(ENVELOPE_VERSION, 2);
  });

  for (const vector of VECTORS) {
    it(`decodes and encodes ${vector.name}`, () => {
      const wire = hex(vector.wire);
      const decoded = decodeEnvelope(wire);
      assert.equal(decoded.type, vector.decoded.type);
      assert.deepEqual(decoded.header, vector.decoded.header);
      assert.deepEqual(decoded.frames, vector.decoded.frames);
      const header = Object.keys(vector.decoded.header).length > 0 ? vector.decoded.header : {};
      const again = encodeEnvelope({
        type: vector.decoded.type,
        header,
        frames: vector.decoded.frames,
      });
      assert.equal(again.toString("hex"), wire.toString("hex"));
    });

    it(`refuses every truncation and a trailing byte of ${vector.name}`, () => {
      const wire = hex(vector.wire);
      for (let end = 0; end < wire.length; end++) {
        assert.throws(() => decodeEnvelope(wire.subarray(0, end)), {
          code: "ERR_ENVELOPE_MALFORMED",
        });
      }
      assert.throws(() => decodeEnvelope(Buffer.concat([wire, Buffer.from([0])])), {
        code: "ERR_ENVELOPE_MALFORMED",
      });
    });
  }

  it("a plain broadcast costs 6 or 7 bytes beyond its packet", () => {
    for (const size of [1, 63, 64, 8191]) {
      const packet = "x".repeat(size);
      const bytes = encodeEnvelope({ type: "b", frames: [packet] });
      assert.equal(bytes.length - size, size < 64 ? 6 : 7, `packet of ${size}`);
    }
  });

  it("writes no header for an empty one, and decodes a missing header as {}", () => {
    const bytes = encodeEnvelope({ type: "b", header: {}, frames: [] });
    assert.equal(bytes.toString("hex"), "4802620000");
    assert.deepEqual(decodeEnvelope(bytes).header, {});
  });

  it("carries binary frames from any Uint8Array view, copied on the way in", () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    const view = backing.subarray(1, 4);
    const bytes = encodeEnvelope({ type: "b", frames: [view] });
    const decoded = decodeEnvelope(new Uint8Array(bytes));
    assert.deepEqual([...(decoded.frames[0] as Buffer)], [1, 2, 3]);
    bytes[bytes.length - 1] = 7;
    assert.equal((decoded.frames[0] as Buffer)[2], 3, "the decoded frame owns its bytes");
  });
});

describe("envelope v2 refusals", () => {
  it("refuses other versions, with their own code", () => {
    for (const version of [1, 3, 0xff]) {
      assert.throws(
        () => decodeEnvelope(hex(`48 ${version.toString(16).padStart(2, "0")} 62 00 00`)),
        {
          code: "ERR_ENVELOPE_VERSION",
        },
      );
    }
    // A version-1 envelope as the previous format wrote it: refused, not misread.
    assert.throws(() => decodeEnvelope(hex("48 01 00000002 7b7d 0000")), EnvelopeError);
  });

  it("refuses foreign bytes, bad type bytes, bad headers, bad varints", () => {
    const malformed = [
      "",
      "7b2274223a317d", // {"t":1}
      "48", // magic alone
      "48 02 00 00 00", // type byte not printable
      "48 02 20 00 00", // space is not a type
      "48 02 7f 00 00", // DEL is not a type
      "48 02 62 02 5b5d 00", // header [] is not an object
      "48 02 62 04 6e756c6c 00", // header null
      "48 02 62 02 7b7b 00", // header not JSON
      "48 02 62 ffffffff7f 00", // header length past 2^32
      "48 02 62 00 ff", // frame count cut inside its varint
      "48 02 62 00 01 05", // a frame longer than the envelope
      "48 02 62 00 83800400", // 65539 frames announced: more than allowed
    ];
    for (const wire of malformed) {
      assert.throws(() => decodeEnvelope(hex(wire)), { code: "ERR_ENVELOPE_MALFORMED" }, wire);
    }
  });

  it("refuses to encode a type that is not one printable ASCII character", () => {
    for (const type of ["", "bb", " ", "é", "\n"]) {
      assert.throws(() => encodeEnvelope({ type, frames: [] }), { code: "ERR_ENVELOPE_MALFORMED" });
    }
  });
});
