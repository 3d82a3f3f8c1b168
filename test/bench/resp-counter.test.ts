/**
 * The RESP payload counter of the bench's Redis proxy, from wire vectors:
 * pub/sub messages in RESP2 arrays and RESP3 pushes counted, every other
 * reply type skipped without being counted, every split of a stream giving
 * the same counts, and a stream that does not parse stopping the count only.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RespPayloadCounter } from "../../bench/lib/resp-counter.js";

const bulk = (data: string): string => `$${Buffer.byteLength(data)}\r\n${data}\r\n`;
const aggregate = (type: string, ...items: string[]): string =>
  `${type}${items.length}\r\n${items.join("")}`;

interface Vector {
  name: string;
  wire: string;
  /** Payload bytes counted. */
  payload: number;
  messages: number;
}

/** Redis's pub/sub messages and subscription replies as they come on the wire. */
const PUBSUB: Vector[] = [
  {
    name: "RESP2 message",
    wire: aggregate("*", bulk("message"), bulk("sb1:r1"), bulk('{"a":1}')),
    payload: 7,
    messages: 1,
  },
  {
    name: "RESP2 smessage",
    wire: aggregate("*", bulk("smessage"), bulk("sb1:r1"), bulk("hello")),
    payload: 5,
    messages: 1,
  },
  {
    name: "RESP2 pmessage",
    wire: aggregate("*", bulk("pmessage"), bulk("sb1:*"), bulk("sb1:r1"), bulk("héllo")),
    payload: 6,
    messages: 1,
  },
  {
    name: "RESP3 message push",
    wire: aggregate(">", bulk("message"), bulk("c"), bulk("x".repeat(300))),
    payload: 300,
    messages: 1,
  },
  {
    name: "RESP3 smessage push",
    wire: aggregate(">", bulk("smessage"), bulk("c"), bulk("abc")),
    payload: 3,
    messages: 1,
  },
  {
    name: "RESP3 pmessage push",
    wire: aggregate(">", bulk("pmessage"), bulk("p*"), bulk("pq"), bulk("abcd")),
    payload: 4,
    messages: 1,
  },
  {
    name: "an empty payload",
    wire: aggregate("*", bulk("message"), bulk("c"), bulk("")),
    payload: 0,
    messages: 1,
  },
  {
    name: "a payload that looks like RESP",
    wire: aggregate("*", bulk("message"), bulk("c"), bulk("*3\r\n$7\r\nmessage\r\n")),
    payload: 17,
    messages: 1,
  },
  {
    name: "an attribute before a push",
    wire: `|1\r\n+key\r\n+value\r\n${aggregate(">", bulk("message"), bulk("c"), bulk("ab"))}`,
    payload: 2,
    messages: 1,
  },
  {
    name: "RESP2 subscribe reply",
    wire: aggregate("*", bulk("subscribe"), bulk("sb1:r1"), ":1\r\n"),
    payload: 0,
    messages: 0,
  },
  {
    name: "RESP3 ssubscribe and punsubscribe replies",
    wire:
      aggregate(">", bulk("ssubscribe"), bulk("c"), ":1\r\n") +
      aggregate(">", bulk("punsubscribe"), bulk("p*"), ":0\r\n"),
    payload: 0,
    messages: 0,
  },
  {
    name: "a message kind with the wrong element count",
    wire:
      aggregate("*", bulk("message"), bulk("c"), bulk("p"), bulk("x")) +
      aggregate("*", bulk("pmessage"), bulk("c"), bulk("x")) +
      aggregate("~", bulk("message"), bulk("c"), bulk("x")),
    payload: 0,
    messages: 0,
  },
  {
    name: "a kind that is not a bulk string, or a longer one",
    wire:
      aggregate("*", "+message\r\n", bulk("c"), bulk("x")) +
      aggregate("*", "$-1\r\n", bulk("c"), bulk("x")) +
      aggregate("*", bulk("messages"), bulk("c"), bulk("x")) +
      aggregate("*", bulk("smessage!"), bulk("c"), bulk("x")),
    payload: 0,
    messages: 0,
  },
  {
    name: "a message nested in a reply",
    wire: aggregate("*", aggregate("*", bulk("message"), bulk("c"), bulk("x")), ":1\r\n"),
    payload: 0,
    messages: 0,
  },
  {
    name: "a message whose payload is not a bulk string",
    wire:
      aggregate("*", bulk("message"), bulk("c"), ":5\r\n") +
      aggregate(">", bulk("message"), bulk("c"), aggregate("*", bulk("x"))),
    payload: 0,
    messages: 0,
  },
];

/** Replies of every type: none is a message; each must be skipped exactly. */
const REPLIES: Vector[] = [
  { name: "simple string", wire: "+OK\r\n", payload: 0, messages: 0 },
  { name: "error", wire: "-ERR unknown command 'x'\r\n", payload: 0, messages: 0 },
  { name: "integer", wire: ":-12\r\n", payload: 0, messages: 0 },
  { name: "bulk string with CRLF inside", wire: bulk("a\r\nb"), payload: 0, messages: 0 },
  { name: "null bulk and null array", wire: "$-1\r\n*-1\r\n", payload: 0, messages: 0 },
  { name: "RESP3 null", wire: "_\r\n", payload: 0, messages: 0 },
  { name: "double", wire: ",3.14\r\n,inf\r\n", payload: 0, messages: 0 },
  { name: "boolean", wire: "#t\r\n#f\r\n", payload: 0, messages: 0 },
  { name: "big number", wire: `(${"9".repeat(60)}\r\n`, payload: 0, messages: 0 },
  { name: "verbatim string", wire: "=15\r\ntxt:Some string\r\n", payload: 0, messages: 0 },
  { name: "blob error", wire: "!21\r\nSYNTAX invalid syntax\r\n", payload: 0, messages: 0 },
  { name: "empty array", wire: "*0\r\n", payload: 0, messages: 0 },
  {
    name: "map (HELLO 3 reply)",
    wire: aggregate(
      "%",
      "+server\r\n",
      "+redis\r\n",
      "+proto\r\n",
      ":3\r\n",
      "+modules\r\n",
      "*0\r\n",
    ).replace("%6", "%3"),
    payload: 0,
    messages: 0,
  },
  {
    name: "set",
    wire: aggregate("~", bulk("message"), bulk("c"), bulk("x")),
    payload: 0,
    messages: 0,
  },
  {
    name: "nested arrays",
    wire: aggregate("*", aggregate("*", ":1\r\n", aggregate("*", bulk("a"))), "*0\r\n", "_\r\n"),
    payload: 0,
    messages: 0,
  },
];

/** Every vector after another: the short stream replayed at every split point. */
const STREAM = [...REPLIES, ...PUBSUB].map((v) => v.wire).join("");
const STREAM_PAYLOAD = PUBSUB.reduce((sum, v) => sum + v.payload, 0);
const STREAM_MESSAGES = PUBSUB.reduce((sum, v) => sum + v.messages, 0);

function feed(chunks: Buffer[]): { counter: RespPayloadCounter; returned: number } {
  const counter = new RespPayloadCounter();
  let returned = 0;
  for (const chunk of chunks) returned += counter.write(chunk);
  return { counter, returned };
}

describe("RESP payload counter", () => {
  for (const vector of [...PUBSUB, ...REPLIES]) {
    it(`counts ${vector.name}`, () => {
      const wire = Buffer.from(vector.wire);
      const { counter, returned } = feed([wire]);
      assert.equal(counter.error, undefined);
      assert.equal(counter.payloadBytes, vector.payload);
      assert.equal(returned, vector.payload);
      assert.equal(counter.messages, vector.messages);
      assert.equal(counter.bytes, wire.length);
      assert.equal(counter.otherBytes, wire.length - vector.payload);
      // The value is over: a message after it is counted from its start.
      const next = aggregate("*", bulk("message"), bulk("c"), bulk("tail"));
      counter.write(Buffer.from(next));
      assert.equal(counter.payloadBytes, vector.payload + 4);
      assert.equal(counter.messages, vector.messages + 1);
    });
  }

  it("gives the same counts for a stream split at every point, and byte by byte", () => {
    const wire = Buffer.from(STREAM);
    assert.ok(wire.length > 600 && STREAM_PAYLOAD > 300);
    for (let at = 0; at <= wire.length; at++) {
      const { counter, returned } = feed([wire.subarray(0, at), wire.subarray(at)]);
      assert.equal(counter.error, undefined, `split at ${at}`);
      assert.equal(counter.payloadBytes, STREAM_PAYLOAD, `split at ${at}`);
      assert.equal(returned, STREAM_PAYLOAD, `split at ${at}`);
      assert.equal(counter.messages, STREAM_MESSAGES, `split at ${at}`);
    }
    const bytes = Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1));
    const { counter } = feed(bytes);
    assert.equal(counter.payloadBytes, STREAM_PAYLOAD);
    assert.equal(counter.messages, STREAM_MESSAGES);
    assert.equal(counter.bytes, wire.length);
  });

  it("counts a payload's bytes as they pass, without waiting for its end", () => {
    const data = "y".repeat(100_000);
    const wire = Buffer.from(aggregate("*", bulk("message"), bulk("chan"), bulk(data)));
    const header = wire.length - data.length - 2;
    const counter = new RespPayloadCounter();
    assert.equal(counter.write(wire.subarray(0, header)), 0);
    let seen = 0;
    for (let at = header; at < header + data.length; at += 1000) {
      seen += counter.write(wire.subarray(at, at + 1000));
      assert.equal(counter.payloadBytes, seen);
    }
    assert.equal(seen, data.length);
    assert.equal(counter.write(wire.subarray(header + data.length)), 0);
    assert.equal(counter.otherBytes, wire.length - data.length);
    assert.equal(counter.error, undefined);
  });

  it("stops counting payloads, not bytes, at what does not parse", () => {
    const message = aggregate("*", bulk("message"), bulk("c"), bulk("abc"));
    const cases: [string, string, number][] = [
      ["PING\r\n", "ERR_RESP_TYPE", 0],
      ["$3\r\nabcX\r\n", "ERR_RESP_TERMINATOR", 7],
      ["$abc\r\n", "ERR_RESP_LENGTH", 5],
      ["$-2\r\n", "ERR_RESP_LENGTH", 4],
      ["*3\n", "ERR_RESP_TERMINATOR", 2],
      ["$?\r\n;4\r\nHell\r\n;0\r\n", "ERR_RESP_LENGTH", 3],
      [`*${"1".repeat(30)}\r\n`, "ERR_RESP_LENGTH", 25],
    ];
    for (const [bad, code, offset] of cases) {
      const counter = new RespPayloadCounter();
      counter.write(Buffer.from(message));
      assert.equal(counter.payloadBytes, 3);
      counter.write(Buffer.from(bad));
      assert.equal(counter.error?.code, code, bad);
      assert.equal(counter.error?.offset, Buffer.byteLength(message) + offset, bad);
      assert.equal(counter.write(Buffer.from(message)), 0);
      assert.equal(counter.payloadBytes, 3);
      const total = 2 * Buffer.byteLength(message) + Buffer.byteLength(bad);
      assert.equal(counter.bytes, total);
      assert.equal(counter.otherBytes, total - 3);
    }
  });

  it("stops inside a payload without counting past the point", () => {
    const counter = new RespPayloadCounter();
    // Declares 4 bytes, sends 6 before CRLF: 4 counted, then the terminator is wrong.
    counter.write(Buffer.from(`*3\r\n${bulk("message")}${bulk("c")}$4\r\nabcdef\r\n`));
    assert.equal(counter.payloadBytes, 4);
    assert.equal(counter.error?.code, "ERR_RESP_TERMINATOR");
  });
});
