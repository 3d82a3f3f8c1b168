import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  Decoder,
  encodePacket,
  hasBinary,
  type Packet,
  PacketType,
  SocketIOProtocolError,
  safeJsonParse,
} from "../../src/codec/socketio/index.js";

type Message = string | { base64: string };
interface ValidVector {
  name: string;
  messages: Message[];
  packet: Packet;
}
interface InvalidVector {
  name: string;
  messages: Message[];
  code: string;
}

const vectors = JSON.parse(
  readFileSync(new URL("../vectors/socketio-packets.json", import.meta.url), "utf8"),
) as { valid: ValidVector[]; invalid: InvalidVector[] };

function toWire(message: Message): string | Buffer {
  return typeof message === "string" ? message : Buffer.from(message.base64, "base64");
}

/** Turns `{ base64 }` leaves of an expected packet into Buffers. */
function expectedData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expectedData);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.base64 === "string" && Object.keys(record).length === 1) {
      return Buffer.from(record.base64, "base64");
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, expectedData(v)]));
  }
  return value;
}

function expectedPacket(vector: ValidVector): Packet {
  const packet: Packet = { ...vector.packet };
  if ("data" in vector.packet) packet.data = expectedData(vector.packet.data);
  return packet;
}

describe("socket.io codec: valid vectors", () => {
  for (const vector of vectors.valid) {
    it(`decodes ${vector.name}, one message at a time`, () => {
      const decoder = new Decoder();
      const messages = vector.messages.map(toWire);
      for (let i = 0; i < messages.length - 1; i++) {
        assert.equal(decoder.add(messages[i]), null, "incomplete until the last attachment");
        assert.equal(decoder.reconstructing, true);
      }
      const packet = decoder.add(messages[messages.length - 1]);
      assert.deepEqual(packet, expectedPacket(vector));
      assert.equal(decoder.reconstructing, false);
    });

    it(`encodes ${vector.name} back to the same messages`, () => {
      const packet = expectedPacket(vector);
      const encoded = encodePacket(packet);
      assert.deepEqual(encoded, vector.messages.map(toWire));
    });

    it(`decodes ${vector.name} after another packet on the same decoder`, () => {
      const decoder = new Decoder();
      assert.deepEqual(decoder.add('2["before"]'), { type: 2, nsp: "/", data: ["before"] });
      let packet: Packet | null = null;
      for (const message of vector.messages) packet = decoder.add(toWire(message));
      assert.deepEqual(packet, expectedPacket(vector));
      assert.deepEqual(decoder.add('2["after"]'), { type: 2, nsp: "/", data: ["after"] });
    });

    it(`${vector.name}: every truncation of the header decodes or fails with a ProtocolError`, () => {
      const text = vector.messages[0] as string;
      for (let cut = 0; cut <= text.length; cut++) {
        const decoder = new Decoder();
        try {
          decoder.add(text.slice(0, cut));
        } catch (err) {
          assert.ok(err instanceof SocketIOProtocolError, `cut ${cut}: ${String(err)}`);
          assert.equal(err.closeReason, "forced close");
        }
      }
    });
  }

  it("a binary packet's attachments may come split across any number of adds", () => {
    const decoder = new Decoder();
    const header =
      '53-["m",{"_placeholder":true,"num":2},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]';
    assert.equal(decoder.add(header), null);
    assert.equal(decoder.add(new Uint8Array([0])), null);
    assert.equal(decoder.add(new Uint8Array([1]).buffer), null);
    const packet = decoder.add(Buffer.from([2]));
    assert.deepEqual(packet?.data, ["m", Buffer.from([2]), Buffer.from([0]), Buffer.from([1])]);
  });
});

describe("socket.io codec: invalid vectors", () => {
  for (const vector of vectors.invalid) {
    it(`rejects ${vector.name} with ${vector.code}`, () => {
      const decoder = new Decoder();
      const messages = vector.messages.map(toWire);
      assert.throws(
        () => {
          for (const message of messages) decoder.add(message);
        },
        (err: unknown) => err instanceof SocketIOProtocolError && err.code === vector.code,
      );
    });
  }

  it("maxAttachments is an option, enforced at its edge", () => {
    const header = (n: number) =>
      `5${n}-[${['"e"'].concat(Array.from({ length: n }, (_, i) => `{"_placeholder":true,"num":${i}}`)).join(",")}]`;
    const decoder = new Decoder({ maxAttachments: 3 });
    assert.equal(decoder.add(header(3)), null);
    decoder.destroy();
    assert.throws(() => new Decoder({ maxAttachments: 3 }).add(header(4)), {
      code: "ERR_SIO_TOO_MANY_ATTACHMENTS",
    });
  });

  it("maxNamespaceLength is enforced at its edge", () => {
    const decoder = new Decoder({ maxNamespaceLength: 8 });
    assert.equal(decoder.add("0/1234567,")?.nsp, "/1234567");
    assert.throws(() => decoder.add("0/12345678,"), { code: "ERR_SIO_BAD_NAMESPACE" });
  });

  it("reserved names are accepted when the option is off (client side decoding)", () => {
    const decoder = new Decoder({ rejectReservedEvents: false });
    assert.deepEqual(decoder.add('2["disconnect"]')?.data, ["disconnect"]);
  });

  it("deep nesting in a binary packet is a ProtocolError, not a stack overflow", () => {
    const deep = `${"[".repeat(100)}{"_placeholder":true,"num":0}${"]".repeat(100)}`;
    assert.throws(() => new Decoder().add(`51-["e",${deep}]`), { code: "ERR_SIO_TOO_DEEP" });
  });
});

describe("socket.io codec: prototype pollution", () => {
  it("drops __proto__ keys, literal or escaped, at any depth", () => {
    const decoder = new Decoder();
    const packet = decoder.add(
      '2["e",{"__proto__":{"polluted":1},"a":{"\\u005f_proto__":{"polluted":2}},"ok":true}]',
    );
    const arg = (packet?.data as unknown[] | undefined)?.[1] as Record<string, unknown>;
    assert.deepEqual(Object.keys(arg), ["a", "ok"]);
    assert.equal(Object.hasOwn(arg.a as object, "__proto__"), false);
    Object.assign({}, arg, arg.a);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("drops __proto__ in CONNECT auth", () => {
    const packet = new Decoder().add('0{"__proto__":{"isAdmin":true},"token":"t"}');
    assert.deepEqual(Object.keys(packet?.data as object), ["token"]);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  it("safeJsonParse keeps ordinary payloads intact", () => {
    assert.deepEqual(safeJsonParse('{"a":[1,"\\u00e9"],"proto":1}'), { a: [1, "é"], proto: 1 });
  });
});

describe("socket.io codec: encoder", () => {
  it("detects binary through arrays, objects, typed arrays and toJSON", () => {
    assert.equal(hasBinary(["a", { b: [1, 2] }]), false);
    assert.equal(hasBinary([{ b: [new Uint16Array(2)] }]), true);
    assert.equal(hasBinary([new ArrayBuffer(1)]), true);
    assert.equal(hasBinary([{ toJSON: () => ({ x: Buffer.alloc(1) }) }]), true);
  });

  it("turns EVENT with binary into BINARY_EVENT with ordered placeholders", () => {
    const encoded = encodePacket({
      type: PacketType.EVENT,
      nsp: "/chat",
      id: 3,
      data: ["e", { a: Buffer.from([1]), b: [new Uint8Array([2, 3])] }],
    });
    assert.deepEqual(encoded, [
      '52-/chat,3["e",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1}]}]',
      Buffer.from([1]),
      Buffer.from([2, 3]),
    ]);
    const decoder = new Decoder();
    let packet: Packet | null = null;
    for (const m of encoded) packet = decoder.add(m);
    assert.deepEqual(packet?.data, ["e", { a: Buffer.from([1]), b: [Buffer.from([2, 3])] }]);
  });

  it("turns ACK with binary into BINARY_ACK", () => {
    const [text] = encodePacket({ type: PacketType.ACK, nsp: "/", id: 9, data: [Buffer.alloc(2)] });
    assert.equal(text, '61-9[{"_placeholder":true,"num":0}]');
  });
});
