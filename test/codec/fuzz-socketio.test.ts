/**
 * Fuzz: the Socket.IO decoder, fed sequences of Engine.IO messages (text
 * headers and binary attachments) as one connection would send them. Every
 * message either completes a well-formed packet (or awaits more attachments)
 * or raises a SocketIOProtocolError; nothing else is thrown, nothing decoded
 * is deeper than the limit or unencodable, and no prototype is reached.
 * Random valid packets, binary ones included, round-trip through the encoder.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { valueDepthExceeds } from "../../src/codec/json-depth.js";
import {
  DEFAULT_MAX_PAYLOAD_DEPTH,
  Decoder,
  encodePacket,
  isPlaceholder,
  isPlainObject,
  type Packet,
  PacketType,
  SOCKETIO_ERRORS,
  SocketIOProtocolError,
} from "../../src/codec/socketio/index.js";
import {
  deepJson,
  FUZZ_MS,
  fuzz,
  invalidUtf8,
  mutate,
  type Prng,
  prototypePolluted,
  randomBytes,
  randomText,
  randomValue,
  vectors,
} from "./fuzz-helpers.js";

type Message = string | { base64: string };
interface SocketIOVectors {
  valid: { messages: Message[] }[];
  invalid: { messages: Message[] }[];
}

const table = vectors<SocketIOVectors>("socketio-packets.json");
const toWire = (m: Message) => (typeof m === "string" ? m : Buffer.from(m.base64, "base64"));
const SEQUENCES = [...table.valid, ...table.invalid].map((v) => v.messages.map(toWire));
const TEXT_SEEDS = SEQUENCES.flat().filter((m): m is string => typeof m === "string");

/** Whether placeholders are gone and every binary leaf is a Buffer. */
function noPlaceholders(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== "object" || Buffer.isBuffer(value)) return true;
  if (depth > DEFAULT_MAX_PAYLOAD_DEPTH || isPlaceholder(value)) return false;
  return Object.values(value).every((item) => noPlaceholders(item, depth + 1));
}

/** A completed packet has the shape its type requires. */
function assertPacket(packet: Packet): void {
  assert.ok(Number.isInteger(packet.type) && packet.type >= 0 && packet.type <= 6);
  assert.equal(typeof packet.nsp, "string");
  assert.ok(packet.nsp.startsWith("/"), packet.nsp);
  if (packet.id !== undefined) assert.ok(Number.isSafeInteger(packet.id) && packet.id >= 0);
  const { data } = packet;
  switch (packet.type) {
    case PacketType.CONNECT:
      assert.ok(data === undefined || isPlainObject(data));
      break;
    case PacketType.DISCONNECT:
      assert.equal(data, undefined);
      break;
    case PacketType.CONNECT_ERROR:
      assert.ok(typeof data === "string" || isPlainObject(data));
      break;
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT:
      assert.ok(Array.isArray(data) && typeof data[0] === "string");
      break;
    default:
      assert.ok(Array.isArray(data));
      assert.notEqual(packet.id, undefined);
  }
  assert.equal(valueDepthExceeds(data, DEFAULT_MAX_PAYLOAD_DEPTH), false, "deeper than the limit");
  // Only binary packets have placeholders replaced: elsewhere one is plain data.
  if (packet.attachments !== undefined) {
    assert.ok(noPlaceholders(data), "a placeholder was left in the payload");
  }
  // What a listener gets can be echoed back: it always encodes.
  encodePacket(packet);
}

/** Feeds `messages` to one decoder as a connection would; stops at the first error. */
function feed(messages: readonly (string | Buffer)[]): void {
  const decoder = new Decoder();
  for (const message of messages) {
    let packet: Packet | null;
    try {
      packet = decoder.add(message);
    } catch (err) {
      if (!(err instanceof SocketIOProtocolError)) throw err;
      assert.ok(Object.hasOwn(SOCKETIO_ERRORS, err.code), err.code);
      assert.equal(err.closeReason, "forced close");
      return; // the server closes the connection here
    }
    if (packet !== null) assertPacket(packet);
  }
}

/** A header whose declared attachments and placeholders may disagree. */
function binaryHeader(rng: Prng): string {
  const declared = rng.pick([0, 1, 2, 3, 10, 11, 999999, 1234567]);
  const refs: string[] = [];
  for (let i = rng.int(4); i > 0; i--) {
    refs.push(
      `{"_placeholder":true,"num":${rng.pick(["0", "1", "2", "-1", "1.5", '"0"', "1e3"])}}`,
    );
  }
  const nsp = rng.bool(0.3) ? "/admin," : "";
  const id = rng.bool(0.3) ? String(rng.int(1000)) : "";
  return `${rng.pick(["5", "6"])}${declared}-${nsp}${id}["f",${refs.join(",") || "1"}]`;
}

function hostileMessage(rng: Prng): string | Buffer {
  switch (rng.int(9)) {
    case 0:
      return randomText(rng, 60);
    case 1:
      return randomBytes(rng);
    case 2:
      return binaryHeader(rng);
    case 3:
      return `${rng.pick(["0", "2", "3", "4", "51-"])}${rng.pick(["", "/x,", "7"])}${deepJson(
        DEFAULT_MAX_PAYLOAD_DEPTH - 2 + rng.int(5),
        rng.bool(),
        rng.bool() ? '"e"' : "1",
      )}`;
    case 4:
      return `2${rng.bool() ? "/a," : ""}${JSON.stringify(["ev", randomValue(rng)])}`;
    case 5:
      return Buffer.concat([Buffer.from(rng.pick(TEXT_SEEDS)), invalidUtf8(rng)]).toString("utf8");
    default:
      return mutate(rng, rng.pick(TEXT_SEEDS));
  }
}

describe("fuzz: Socket.IO decoder", () => {
  test("hostile message sequences decode or raise SocketIOProtocolError", () => {
    fuzz((rng) => {
      const messages: (string | Buffer)[] = [];
      if (rng.bool(0.5)) messages.push(...rng.pick(SEQUENCES));
      for (let i = 1 + rng.int(4); i > 0; i--) {
        messages.push(rng.bool(0.2) ? rng.pick(rng.pick(SEQUENCES)) : hostileMessage(rng));
      }
      // Shuffle a little: attachments before headers, headers twice.
      if (rng.bool(0.3) && messages.length > 1) {
        const i = rng.int(messages.length);
        [messages[0], messages[i]] = [messages[i], messages[0]];
      }
      feed(messages);
    });
    assert.equal(prototypePolluted(), false);
  });

  test("over-deep payloads are refused for every packet type that carries JSON", () => {
    const max = DEFAULT_MAX_PAYLOAD_DEPTH;
    const ph = '{"_placeholder":true,"num":0}';
    // Each wraps a value one level deep inside the packet's own payload.
    const shapes: [string, (inner: string) => string][] = [
      ["CONNECT auth", (v) => `0{"a":${v}}`],
      ["CONNECT auth, namespace", (v) => `0/a,{"a":${v}}`],
      ["EVENT", (v) => `2["e",${v}]`],
      ["EVENT with ack id", (v) => `2/a,21["e",${v}]`],
      ["ACK", (v) => `31[${v}]`],
      ["CONNECT_ERROR", (v) => `4{"message":"m","data":${v}}`],
      ["BINARY_EVENT", (v) => `51-["e",${ph},${v}]`],
      ["BINARY_ACK", (v) => `61-7[${ph},${v}]`],
    ];
    for (const [name, wrap] of shapes) {
      for (const object of [false, true]) {
        const atLimit = wrap(deepJson(max - 1, object, '"x"'));
        assert.doesNotThrow(() => new Decoder().add(atLimit), `${name} at the limit`);
        for (const depth of [max, 100_000]) {
          assert.throws(
            () => new Decoder().add(wrap(deepJson(depth, object, '"x"'))),
            (err: unknown) =>
              err instanceof SocketIOProtocolError && err.code === "ERR_SIO_TOO_DEEP",
            `${name}, ${depth} deep ${object ? "objects" : "arrays"}`,
          );
        }
      }
    }
    // Text that takes the __proto__ reviver is measured before it is parsed.
    assert.throws(
      () => new Decoder().add(`2["e",{"__proto__":1},${deepJson(100_000, false)}]`),
      (err: unknown) => err instanceof SocketIOProtocolError && err.code === "ERR_SIO_TOO_DEEP",
    );
  });

  test("random valid packets, with and without attachments, round-trip", () => {
    fuzz((rng) => {
      const type = rng.pick([PacketType.EVENT, PacketType.ACK]);
      const data: unknown[] = type === PacketType.EVENT ? [rng.pick(["a", "chat", "x:y"])] : [];
      for (let i = rng.int(4); i > 0; i--) {
        data.push(
          rng.bool(0.3)
            ? randomBytes(rng, 16)
            : { v: randomValue(rng), b: rng.bool(0.5) ? randomBytes(rng, 4) : 0 },
        );
      }
      const packet: Packet = { type, nsp: rng.pick(["/", "/admin", "/a/b"]), data };
      if (type === PacketType.ACK || rng.bool(0.5)) packet.id = rng.int(1e6);
      const decoder = new Decoder({ maxAttachments: 100, rejectReservedEvents: false });
      let decoded: Packet | null = null;
      for (const message of encodePacket(packet)) decoded = decoder.add(message);
      assert.ok(decoded !== null);
      assert.deepEqual(JSON.parse(JSON.stringify(decoded.data)), JSON.parse(JSON.stringify(data)));
      assert.equal(decoded.nsp, packet.nsp);
      assert.equal(decoded.id, packet.id);
    }, FUZZ_MS / 3);
  });
});
