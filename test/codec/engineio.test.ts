/**
 * Engine.IO codec, driven by the wire vectors in test/vectors/engineio-v*.json
 * (the protocol documentation's examples). Every payload is also replayed
 * through the streaming body reader, split at every byte.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import {
  decodePacket,
  decodePacketV3,
  decodePayload,
  decodePayloadV3,
  decodePayloadV3Binary,
  EngineParseError,
  encodePacket,
  encodePacketToString,
  encodePacketToStringV3,
  encodePacketV3,
  encodePayload,
  encodePayloadV3,
  encodePayloadV3Binary,
  type Packet,
  type PacketType,
} from "../../src/codec/engineio/index.js";
import { BodyReader } from "../../src/transport/body-reader.js";

interface VectorPacket {
  type: PacketType;
  data?: string;
  bytes?: number[];
}

function toPacket(v: VectorPacket): Packet {
  if (v.bytes !== undefined) return { type: v.type, data: Buffer.from(v.bytes) };
  return v.data === undefined ? { type: v.type } : { type: v.type, data: v.data };
}

function load(name: string) {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), "utf8"));
}

const v4 = load("engineio-v4.json");
const v3 = load("engineio-v3.json");

/** Feeds `bytes` to a BodyReader in the given chunks and returns it. */
function readInChunks(bytes: Buffer, cuts: number[]): BodyReader {
  const reader = new BodyReader(1e6);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    assert.equal(reader.push(bytes.subarray(start, cut)), true);
    start = cut;
  }
  return reader;
}

/** Calls `check` with the body re-assembled from every split of `bytes`. */
function forEverySplit(bytes: Buffer, check: (reader: BodyReader) => void): void {
  for (let i = 0; i <= bytes.length; i++) check(readInChunks(bytes, [i]));
  // And one byte per chunk, which splits every multi-byte UTF-8 character.
  check(
    readInChunks(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
    ),
  );
}

describe("engine.io v4 packets", () => {
  for (const vector of v4.packets) {
    test(`encodes and decodes ${vector.name}`, () => {
      const packet = toPacket(vector.packet);
      assert.equal(encodePacketToString(packet), vector.text);
      assert.deepEqual(decodePacket(vector.text), packet);
    });
  }

  test("binary messages travel over websocket as raw bytes", () => {
    const bytes = Buffer.from([1, 2, 3]);
    assert.equal(encodePacket({ type: "message", data: bytes }), bytes);
    assert.deepEqual(decodePacket(bytes), { type: "message", data: bytes });
    assert.equal(encodePacket({ type: "message", data: "x" }), "4x");
  });
});

describe("engine.io v4 payloads", () => {
  for (const vector of v4.payloads) {
    const packets = vector.packets.map(toPacket);
    test(`encodes and decodes ${vector.name}`, () => {
      assert.equal(encodePayload(packets), vector.text);
      assert.deepEqual(decodePayload(vector.text), packets);
    });
    test(`decodes ${vector.name} split at every byte`, () => {
      forEverySplit(Buffer.from(vector.text, "utf8"), (reader) => {
        assert.deepEqual(decodePayload(reader.text()), packets);
      });
    });
  }

  for (const vector of v4.invalid) {
    test(`rejects ${vector.name}`, () => {
      assert.throws(() => decodePayload(vector.text), EngineParseError);
    });
  }
});

describe("engine.io v3 packets and payloads", () => {
  for (const vector of v3.packets) {
    test(`encodes and decodes packet ${vector.name}`, () => {
      const packet = toPacket(vector.packet);
      assert.equal(encodePacketToStringV3(packet), vector.text);
      assert.deepEqual(decodePacketV3(vector.text), packet);
    });
  }

  test("binary v3 websocket frames lead with the type byte", () => {
    const frame = encodePacketV3({ type: "message", data: Buffer.from([9, 8]) });
    assert.deepEqual(frame, Buffer.from([4, 9, 8]));
    assert.deepEqual(decodePacketV3(Buffer.from([4, 9, 8])), {
      type: "message",
      data: Buffer.from([9, 8]),
    });
  });

  for (const vector of v3.payloads) {
    const packets = vector.packets.map(toPacket);
    test(`encodes and decodes text payload ${vector.name}`, () => {
      assert.equal(encodePayloadV3(packets), vector.text);
      assert.deepEqual(decodePayloadV3(vector.text), packets);
    });
    test(`decodes text payload ${vector.name} split at every byte`, () => {
      forEverySplit(Buffer.from(vector.text, "utf8"), (reader) => {
        assert.deepEqual(decodePayloadV3(reader.text()), packets);
      });
    });
  }

  for (const vector of v3.binaryPayloads) {
    const packets = vector.packets.map(toPacket);
    const bytes = Buffer.from(vector.hex, "hex");
    test(`encodes and decodes binary payload ${vector.name}`, () => {
      assert.deepEqual(encodePayloadV3Binary(packets), bytes);
      assert.deepEqual(decodePayloadV3Binary(bytes), packets);
    });
    test(`decodes binary payload ${vector.name} split at every byte`, () => {
      forEverySplit(bytes, (reader) => {
        assert.deepEqual(decodePayloadV3Binary(reader.bytes()), packets);
      });
    });
  }

  for (const vector of v3.invalid) {
    test(`rejects text payload: ${vector.name}`, () => {
      assert.throws(() => decodePayloadV3(vector.text), EngineParseError);
    });
  }

  for (const vector of v3.invalidBinary) {
    test(`rejects binary payload: ${vector.name}`, () => {
      assert.throws(() => decodePayloadV3Binary(Buffer.from(vector.hex, "hex")), EngineParseError);
    });
  }
});

describe("body reader", () => {
  test("refuses a body past its limit while streaming", () => {
    const reader = new BodyReader(10);
    assert.equal(reader.push(Buffer.alloc(6)), true);
    assert.equal(reader.push(Buffer.alloc(4)), true);
    assert.equal(reader.push(Buffer.alloc(1)), false);
    assert.equal(reader.exceeded, true);
    assert.equal(reader.push(Buffer.alloc(1)), false);
  });

  test("an empty body is empty", () => {
    assert.equal(new BodyReader(1).text(), "");
  });
});
