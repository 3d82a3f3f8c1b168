/**
 * The chunked body decoder against wire vectors: multi-chunk bodies with
 * extensions and trailers fed at every split point and byte by byte, a
 * pipelined request after the body, malformed sizes and line ends, limits at
 * their exact boundary, and random corruption.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ChunkedDecoder,
  type ChunkedLimits,
  HttpParseError,
  type HttpParseErrorCode,
} from "../../src/http1/index.js";

const wire = (text: string) => Buffer.from(text, "latin1");

const BODY = wire(
  "5;name=value\r\nhello\r\n" +
    '0007 ; quoted="a b";flag\r\n, world\r\n' +
    "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
    "0;last\r\n" +
    "Expires: never\r\nX-Checksum:\tabc \r\n\r\n",
);
const DATA = "hello, worldabcdefghijklmnopqrstuvwxyz";

/** Feeds `pieces` in order, keeping unconsumed bytes for the next push as a caller would. */
function decode(pieces: Buffer[], limits?: Partial<ChunkedLimits>) {
  const decoder = new ChunkedDecoder(limits);
  const data: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let done = false;
  for (const piece of pieces) {
    pending = Buffer.concat([pending, piece]);
    const result = decoder.push(pending, 0);
    data.push(...result.chunks);
    pending = pending.subarray(result.consumed);
    done = result.done;
    assert.equal(decoder.done, done);
  }
  return { data: Buffer.concat(data).toString("latin1"), done, rest: pending };
}

function rejects(bytes: Buffer, code: HttpParseErrorCode, limits?: Partial<ChunkedLimits>) {
  assert.throws(
    () => new ChunkedDecoder(limits).push(bytes, 0),
    (error: unknown) => {
      assert.ok(error instanceof HttpParseError, `not an HttpParseError: ${error}`);
      assert.equal(
        error.code,
        code,
        `${JSON.stringify(bytes.toString("latin1"))}: ${error.message}`,
      );
      assert.equal(error.status, code === "TRAILERS_TOO_LARGE" ? 431 : 400);
      return true;
    },
  );
}

describe("ChunkedDecoder: well-formed bodies", () => {
  it("decodes a multi-chunk body with extensions and trailers in one push", () => {
    const decoder = new ChunkedDecoder();
    const result = decoder.push(BODY, 0);
    assert.equal(Buffer.concat(result.chunks).toString("latin1"), DATA);
    assert.equal(result.consumed, BODY.length);
    assert.equal(result.done, true);
    assert.equal(decoder.done, true);
  });

  it("hands out subarrays of the input, not copies", () => {
    const input = wire("3\r\nabc\r\n0\r\n\r\n");
    const [chunk] = new ChunkedDecoder().push(input, 0).chunks;
    assert.equal(chunk.buffer, input.buffer);
    assert.equal(chunk.byteOffset, input.byteOffset + 3);
  });

  it("decodes the same at every split point", () => {
    for (let k = 0; k <= BODY.length; k++) {
      const result = decode([BODY.subarray(0, k), BODY.subarray(k)]);
      assert.equal(result.data, DATA, `split at ${k}`);
      assert.equal(result.done, true);
      assert.equal(result.rest.length, 0);
    }
  });

  it("decodes the same fed byte by byte, done only at the last byte", () => {
    const decoder = new ChunkedDecoder();
    const data: Buffer[] = [];
    for (let k = 0; k < BODY.length; k++) {
      const result = decoder.push(BODY.subarray(k, k + 1), 0);
      assert.equal(result.consumed, 1, `byte ${k}`);
      data.push(...result.chunks);
      assert.equal(result.done, k === BODY.length - 1, `byte ${k}`);
    }
    assert.equal(Buffer.concat(data).toString("latin1"), DATA);
  });

  it("decodes from an offset into a larger buffer", () => {
    const stream = Buffer.concat([wire("xxxx"), BODY]);
    const result = new ChunkedDecoder().push(stream, 4);
    assert.equal(Buffer.concat(result.chunks).toString("latin1"), DATA);
    assert.equal(result.consumed, BODY.length);
  });

  it("stops at the end of the body and leaves a pipelined request unconsumed", () => {
    const next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    const stream = Buffer.concat([wire("POST-HEAD"), BODY, wire(next)]);
    const decoder = new ChunkedDecoder();
    const result = decoder.push(stream, 9);
    assert.equal(result.consumed, BODY.length);
    assert.equal(result.done, true);
    assert.equal(stream.subarray(9 + result.consumed).toString("latin1"), next);
    // Once done, it takes nothing more.
    assert.deepEqual(decoder.push(stream, 9 + result.consumed), {
      chunks: [],
      consumed: 0,
      done: true,
    });
  });

  it("accepts an empty body, leading zeros up to 15 digits and uppercase hex", () => {
    assert.equal(decode([wire("0\r\n\r\n")]).done, true);
    assert.equal(decode([wire("000000000000005\r\nhello\r\n0\r\n\r\n")]).data, "hello");
    assert.equal(decode([wire("a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n")]).data.length, 20);
  });

  it("returns nothing for an empty push", () => {
    const result = new ChunkedDecoder().push(Buffer.alloc(0), 0);
    assert.deepEqual(result, { chunks: [], consumed: 0, done: false });
  });
});

describe("ChunkedDecoder: malformed bodies", () => {
  const vectors: [string, string, HttpParseErrorCode][] = [
    ["empty size", "\r\nabc\r\n0\r\n\r\n", "BAD_CHUNK"],
    ["non-hex size", "g\r\n", "BAD_CHUNK"],
    ["negative size", "-1\r\n", "BAD_CHUNK"],
    ["0x prefix", "0x5\r\nhello\r\n", "BAD_CHUNK"],
    ["16 hex digits", "0000000000000005\r\nhello\r\n", "BAD_CHUNK"],
    ["size over 2^53-1", "20000000000000\r\n", "BAD_CHUNK"],
    ["15 f's", "fffffffffffffff\r\n", "BAD_CHUNK"],
    ["space inside the size", "1 2\r\n", "BAD_CHUNK"],
    ["whitespace after the size without an extension", "5 \r\nhello\r\n", "BAD_CHUNK"],
    ["bare LF after the size", "5\nhello\r\n", "BAD_CHUNK"],
    ["bare CR after the size", "5\rhello\r\n", "BAD_CHUNK"],
    ["CTL in an extension", "5;a=\x01\r\nhello\r\n", "BAD_CHUNK"],
    ["bare LF in an extension", "5;a\nb\r\nhello\r\n", "BAD_CHUNK"],
    ["data longer than the size", "5\r\nhello!\r\n0\r\n\r\n", "BAD_CHUNK"],
    ["data shorter than the size", "5\r\nhell\r\n0\r\n\r\n", "BAD_CHUNK"],
    ["bare LF after data", "5\r\nhello\n0\r\n\r\n", "BAD_CHUNK"],
    ["bare LF ending the body", "0\r\n\n", "BAD_CHUNK"],
    ["bare CR ending the body", "0\r\n\rX", "BAD_CHUNK"],
    ["trailer without a colon", "0\r\nExpires\r\n\r\n", "BAD_HEADER"],
    ["trailer with a space before the colon", "0\r\nExpires : x\r\n\r\n", "BAD_HEADER"],
    ["trailer with an empty name", "0\r\n: x\r\n\r\n", "BAD_HEADER"],
    ["obs-fold in trailers", "0\r\nA: b\r\n c\r\n\r\n", "BAD_HEADER"],
    ["CTL in a trailer value", "0\r\nA: \x00\r\n\r\n", "BAD_HEADER"],
    ["bare CR in a trailer", "0\r\nA: b\rC: d\r\n\r\n", "BAD_HEADER"],
  ];
  for (const [label, body, code] of vectors) {
    it(`${label} → ${code}`, () => rejects(wire(body), code));
  }

  it("fails at the same place whatever the split, and stays failed", () => {
    const bad = wire("5\r\nhello\r\n3\r\nabcX\r\n");
    for (let k = 0; k <= bad.length; k++) {
      const decoder = new ChunkedDecoder();
      assert.throws(() => {
        decoder.push(bad.subarray(0, k), 0);
        decoder.push(bad.subarray(k), 0);
      }, HttpParseError);
      assert.throws(() => decoder.push(wire("0\r\n\r\n"), 0), HttpParseError);
      assert.equal(decoder.done, false);
    }
  });
});

describe("ChunkedDecoder: limits at their boundary", () => {
  it("maxExtensionSize: exactly the limit passes, one byte more fails", () => {
    const line = (ext: string) => wire(`5${ext}\r\nhello\r\n0\r\n\r\n`);
    const ext = `;${"e".repeat(9)}`; // 10 bytes
    assert.equal(decode([line(ext)], { maxExtensionSize: 10 }).data, "hello");
    rejects(line(ext), "BAD_CHUNK", { maxExtensionSize: 9 });
    // The default: 1024 bytes per chunk line.
    assert.equal(decode([line(`;${"e".repeat(1023)}`)]).done, true);
    rejects(line(`;${"e".repeat(1024)}`), "BAD_CHUNK");
    // Counted per line, not per body.
    assert.equal(
      decode([wire(`1${ext}\r\na\r\n1${ext}\r\nb\r\n0${ext}\r\n\r\n`)], { maxExtensionSize: 10 })
        .data,
      "ab",
    );
  });

  it("maxTrailerSize: exactly the limit passes, one byte more fails", () => {
    const trailers = "A: 1\r\nBB: 22\r\n"; // 14 bytes
    const body = wire(`0\r\n${trailers}\r\n`);
    assert.equal(decode([body], { maxTrailerSize: 14 }).done, true);
    rejects(body, "TRAILERS_TOO_LARGE", { maxTrailerSize: 13 });
    const big = wire(`0\r\nX: ${"v".repeat(16384)}\r\n\r\n`);
    rejects(big, "TRAILERS_TOO_LARGE");
  });
});

describe("ChunkedDecoder: hostile input", () => {
  it("only ever throws HttpParseError on random corruption, fed in random pieces", () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x00, 0x30, 0x66, 0x46, 0x7f, 0xff];
    let ended = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(BODY);
      for (let n = Math.floor(random() * 4); n > 0; n--) {
        bytes[Math.floor(random() * bytes.length)] =
          alphabet[Math.floor(random() * alphabet.length)];
      }
      const decoder = new ChunkedDecoder();
      try {
        for (let at = 0; at < bytes.length && !decoder.done; ) {
          const end = Math.min(bytes.length, at + 1 + Math.floor(random() * 20));
          const { consumed } = decoder.push(bytes.subarray(at, end), 0);
          assert.ok(consumed <= end - at);
          at += consumed;
          if (consumed === 0) break;
        }
        if (decoder.done) ended++;
      } catch (error) {
        assert.ok(error instanceof HttpParseError, `threw ${error}`);
      }
    }
    assert.ok(ended > 0);
  });
});
