/**
 * Fuzz: the Engine.IO codec (v4 and v3 packets, text payloads and v3 binary
 * payloads). Every input, hostile or not, either decodes to well-formed
 * packets or raises an EngineParseError; nothing else is thrown. Whatever
 * decodes re-encodes to something that decodes the same, and the protocol's
 * wire vectors round-trip exactly.
 */
import assert from "node:assert/strict";
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
  PACKET_TYPES,
  type Packet,
  type PacketType,
} from "../../src/codec/engineio/index.js";
import {
  FUZZ_MS,
  fuzz,
  invalidUtf8,
  mutate,
  type Prng,
  randomBytes,
  randomText,
  vectors,
} from "./fuzz-helpers.js";

interface VectorPacket {
  type: PacketType;
  data?: string;
  bytes?: number[];
}
interface EngineVectors {
  packets: { packet: VectorPacket; text: string }[];
  payloads: { packets: VectorPacket[]; text: string }[];
  binaryPayloads?: { packets: VectorPacket[]; hex: string }[];
  invalid: { text: string }[];
  invalidBinary?: { hex: string }[];
}

const v4 = vectors<EngineVectors>("engineio-v4.json");
const v3 = vectors<EngineVectors>("engineio-v3.json");

function toPacket(v: VectorPacket): Packet {
  if (v.bytes !== undefined) return { type: v.type, data: Buffer.from(v.bytes) };
  return v.data === undefined ? { type: v.type } : { type: v.type, data: v.data };
}

/** A decoded packet is one of the seven types with text, bytes or nothing. */
function assertPacket(packet: Packet): void {
  assert.ok(Object.hasOwn(PACKET_TYPES, packet.type), `type ${String(packet.type)}`);
  const { data } = packet;
  assert.ok(data === undefined || typeof data === "string" || Buffer.isBuffer(data));
}

/** Runs `decode`: its packets must be well-formed, or it throws EngineParseError. */
function attempt<T extends Packet | Packet[]>(decode: () => T): T | null {
  let out: T;
  try {
    out = decode();
  } catch (err) {
    if (err instanceof EngineParseError) {
      assert.match(err.code, /^ERR_EIO_/);
      return null;
    }
    throw err;
  }
  for (const packet of Array.isArray(out) ? out : [out]) assertPacket(packet);
  return out;
}

/** A random valid packet. */
function randomPacket(rng: Prng, binary: boolean): Packet {
  const type = rng.pick(Object.keys(PACKET_TYPES) as PacketType[]);
  if (binary && rng.bool(0.3)) return { type: "message", data: randomBytes(rng, 32) };
  // Empty text and no data are one and the same on the wire.
  const text = randomText(rng, 20).replaceAll("\x1e", "");
  return text === "" ? { type } : { type, data: text };
}

/** Hostile text for a packet or payload decoder, built from `seeds`. */
function hostileText(rng: Prng, seeds: readonly string[]): string {
  switch (rng.int(5)) {
    case 0:
      return randomText(rng, 60);
    case 1:
      return randomBytes(rng).toString(rng.bool() ? "utf8" : "latin1");
    case 2:
      return Buffer.concat([Buffer.from(rng.pick(seeds)), invalidUtf8(rng)]).toString("utf8");
    default:
      return mutate(rng, rng.pick(seeds));
  }
}

function hostileBytes(rng: Prng, seeds: readonly Buffer[]): Buffer {
  switch (rng.int(4)) {
    case 0:
      return randomBytes(rng, 80);
    case 1: {
      const seed = Buffer.from(rng.pick(seeds));
      for (let i = rng.int(4); i >= 0 && seed.length > 0; i--)
        seed[rng.int(seed.length)] = rng.int(256);
      return seed;
    }
    case 2: {
      const seed = rng.pick(seeds);
      return seed.subarray(0, rng.int(seed.length + 1));
    }
    default:
      return Buffer.concat([rng.pick(seeds), invalidUtf8(rng), rng.pick(seeds)]);
  }
}

describe("fuzz: Engine.IO v4", () => {
  const packetSeeds = v4.packets.map((v) => v.text);
  const payloadSeeds = [
    ...packetSeeds,
    ...v4.payloads.map((v) => v.text),
    ...v4.invalid.map((v) => v.text),
  ];

  test("wire vectors round-trip", () => {
    for (const v of v4.packets) {
      assert.deepEqual(decodePacket(v.text), toPacket(v.packet));
      assert.equal(encodePacketToString(toPacket(v.packet)), v.text);
    }
    for (const v of v4.payloads) {
      assert.deepEqual(decodePayload(v.text), v.packets.map(toPacket));
      assert.equal(encodePayload(v.packets.map(toPacket)), v.text);
    }
  });

  test("packets: hostile text and binary frames decode or raise EngineParseError", () => {
    fuzz((rng) => {
      const input = rng.bool(0.8) ? hostileText(rng, packetSeeds) : randomBytes(rng);
      const packet = attempt(() => decodePacket(input));
      if (packet === null) return;
      // Whatever decodes survives a trip through the encoder unchanged.
      const again =
        typeof input === "string"
          ? decodePacket(encodePacketToString(packet))
          : decodePacket(encodePacket(packet));
      assert.deepEqual(again, packet);
    });
  });

  test("payloads: hostile bodies decode or raise EngineParseError", () => {
    fuzz((rng) => {
      const packets = attempt(() => decodePayload(hostileText(rng, payloadSeeds)));
      if (packets === null) return;
      assert.deepEqual(decodePayload(encodePayload(packets)), packets);
    });
  });

  test("random valid payloads round-trip", () => {
    fuzz((rng) => {
      const packets: Packet[] = [];
      for (let i = 1 + rng.int(5); i > 0; i--) packets.push(randomPacket(rng, true));
      assert.deepEqual(decodePayload(encodePayload(packets)), packets);
    }, FUZZ_MS / 3);
  });
});

describe("fuzz: Engine.IO v3", () => {
  const packetSeeds = v3.packets.map((v) => v.text);
  const payloadSeeds = [
    ...packetSeeds,
    ...v3.payloads.map((v) => v.text),
    ...v3.invalid.map((v) => v.text),
  ];
  const binarySeeds = [
    ...(v3.binaryPayloads ?? []).map((v) => Buffer.from(v.hex, "hex")),
    ...(v3.invalidBinary ?? []).map((v) => Buffer.from(v.hex, "hex")),
  ];

  test("wire vectors round-trip", () => {
    for (const v of v3.packets) {
      assert.deepEqual(decodePacketV3(v.text), toPacket(v.packet));
      assert.equal(encodePacketToStringV3(toPacket(v.packet)), v.text);
    }
    for (const v of v3.payloads) {
      assert.deepEqual(decodePayloadV3(v.text), v.packets.map(toPacket));
      assert.equal(encodePayloadV3(v.packets.map(toPacket)), v.text);
    }
    for (const v of v3.binaryPayloads ?? []) {
      const bytes = Buffer.from(v.hex, "hex");
      assert.deepEqual(decodePayloadV3Binary(bytes), v.packets.map(toPacket));
      assert.deepEqual(encodePayloadV3Binary(v.packets.map(toPacket)), bytes);
    }
  });

  test("packets: hostile text and binary frames decode or raise EngineParseError", () => {
    fuzz((rng) => {
      const input = rng.bool(0.7) ? hostileText(rng, packetSeeds) : randomBytes(rng);
      const packet = attempt(() => decodePacketV3(input));
      if (packet === null) return;
      const again =
        typeof input === "string"
          ? decodePacketV3(encodePacketToStringV3(packet))
          : decodePacketV3(encodePacketV3(packet));
      assert.deepEqual(again, packet);
    });
  });

  test("text payloads: hostile bodies decode or raise EngineParseError", () => {
    fuzz((rng) => {
      const text = rng.bool(0.3)
        ? `${rng.pick(["", "9", "99999999999999999", "-1", "1e3", "0"])}:${randomText(rng, 10)}`
        : hostileText(rng, payloadSeeds);
      const packets = attempt(() => decodePayloadV3(text));
      if (packets === null || packets.length === 0) return;
      assert.deepEqual(decodePayloadV3(encodePayloadV3(packets)), packets);
    });
  });

  test("binary payloads: hostile bodies decode or raise EngineParseError", () => {
    fuzz((rng) => {
      const packets = attempt(() => decodePayloadV3Binary(hostileBytes(rng, binarySeeds)));
      if (packets === null || packets.length === 0) return;
      assert.deepEqual(decodePayloadV3Binary(encodePayloadV3Binary(packets)), packets);
    });
  });

  test("random valid payloads round-trip, as text and as binary", () => {
    fuzz((rng) => {
      const packets: Packet[] = [];
      for (let i = 1 + rng.int(5); i > 0; i--) packets.push(randomPacket(rng, true));
      assert.deepEqual(decodePayloadV3(encodePayloadV3(packets)), packets);
      // UTF-8 cannot carry a lone surrogate: the binary payload sends U+FFFD.
      const wellFormed = packets.map((p) =>
        typeof p.data === "string"
          ? { ...p, data: Buffer.from(p.data, "utf8").toString("utf8") }
          : p,
      );
      assert.deepEqual(decodePayloadV3Binary(encodePayloadV3Binary(packets)), wellFormed);
    }, FUZZ_MS / 3);
  });
});
