/**
 * Fuzz: Bayeux message batches (src/codec/bayeux). Every request body or
 * frame either decodes to a batch (each message within the depth limit and
 * encodable again) or raises a BayeuxParseError whose error field follows
 * the grammar; `checkMessage` types each message or names its error. The
 * decoded batches then go through a transport-free server's `process()`,
 * which must answer every one with encodable replies and never reject.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BayeuxServer } from "../../src/bayeux/index.js";
import {
  BayeuxParseError,
  checkMessage,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  decodeBatch,
  encodeBatch,
  parseBayeuxError,
  parseErrorReplies,
  valueDepthExceeds,
} from "../../src/codec/bayeux/index.js";
import { LONG_POLLING, transportFreeServers } from "../bayeux/helpers.js";
import {
  deepJson,
  FUZZ_MS,
  fuzz,
  fuzzAsync,
  invalidUtf8,
  mutate,
  type Prng,
  prototypePolluted,
  randomBytes,
  randomText,
  randomValue,
} from "./fuzz-helpers.js";

const LIMITS = { maxBatchLength: 10, maxPayloadDepth: DEFAULT_MAX_PAYLOAD_DEPTH };

/** Valid batches of every meta channel and a publish (Bayeux 1.0 section 3). */
const SEEDS = [
  '[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling","websocket"],"id":"1"}]',
  '[{"channel":"/meta/connect","clientId":"abc","connectionType":"long-polling","id":"2"}]',
  '[{"channel":"/meta/subscribe","clientId":"abc","subscription":["/a/*","/b/**"],"id":"3"}]',
  '[{"channel":"/meta/unsubscribe","clientId":"abc","subscription":"/a/*","id":4}]',
  '[{"channel":"/chat/room","clientId":"abc","data":{"text":"hi","n":[1,2,{"x":null}]},"id":"5","ext":{"ack":true}}]',
  '{"channel":"/meta/disconnect","clientId":"abc"}',
  '[{"channel":"/service/echo","clientId":"abc","data":"x"},{"channel":"/meta/connect","clientId":"abc","connectionType":"websocket","advice":{"timeout":0}}]',
  "[]",
];

function hostileBody(rng: Prng): string {
  switch (rng.int(7)) {
    case 0:
      return randomText(rng, 80);
    case 1:
      return randomBytes(rng).toString("utf8");
    case 2:
      return Buffer.concat([Buffer.from(rng.pick(SEEDS)), invalidUtf8(rng)]).toString("utf8");
    case 3: {
      const depth = DEFAULT_MAX_PAYLOAD_DEPTH - 3 + rng.int(6);
      const data = deepJson(depth, rng.bool(), rng.bool() ? '"x"' : "1");
      return `${rng.bool() ? "[" : ""}{"channel":"/a","data":${data}}${rng.bool() ? "]" : ""}`;
    }
    case 4: {
      const batch: unknown[] = [];
      for (let i = rng.int(12); i > 0; i--) batch.push(randomValue(rng));
      return JSON.stringify(batch);
    }
    default:
      return mutate(rng, rng.pick(SEEDS));
  }
}

/** Decodes `body`: a batch of shallow, encodable values, or a BayeuxParseError. */
function decode(body: string): unknown[] | null {
  let batch: unknown[];
  try {
    batch = decodeBatch(body, LIMITS);
  } catch (err) {
    if (!(err instanceof BayeuxParseError)) throw err;
    assert.match(err.code, /^ERR_BAYEUX_/);
    assert.ok(parseBayeuxError(err.bayeuxError), err.bayeuxError);
    JSON.stringify(parseErrorReplies(err));
    return null;
  }
  assert.ok(Array.isArray(batch) && batch.length <= LIMITS.maxBatchLength);
  for (const item of batch) {
    assert.equal(
      valueDepthExceeds(item, DEFAULT_MAX_PAYLOAD_DEPTH),
      false,
      "deeper than the limit",
    );
    const message = checkMessage(item);
    if (typeof message === "string") assert.ok(parseBayeuxError(message), message);
    else assert.equal(typeof message.channel, "string");
  }
  // What a client published is what subscribers receive: it always encodes.
  JSON.stringify(batch);
  return batch;
}

describe("fuzz: Bayeux message batches", () => {
  test("valid batches decode, and round-trip through encodeBatch", () => {
    for (const seed of SEEDS) {
      const batch = decode(seed);
      assert.ok(batch !== null, seed);
      assert.deepEqual(decodeBatch(encodeBatch([], batch as object[]), LIMITS), batch);
    }
  });

  test("hostile bodies decode or raise BayeuxParseError", () => {
    fuzz((rng) => {
      decode(hostileBody(rng));
    });
    assert.equal(prototypePolluted(), false);
  });

  test("random valid message batches round-trip", () => {
    fuzz((rng) => {
      const batch: object[] = [];
      for (let i = 1 + rng.int(5); i > 0; i--) {
        batch.push({
          channel: rng.pick(["/a", "/a/b", "/meta/connect"]),
          id: String(rng.int(99)),
          data: randomValue(rng),
        });
      }
      assert.deepEqual(decodeBatch(encodeBatch([], batch), LIMITS), batch);
    }, FUZZ_MS / 3);
  });

  test("the depth limit: the message is level 1, a batch's own array does not count", () => {
    const max = DEFAULT_MAX_PAYLOAD_DEPTH;
    for (const object of [false, true]) {
      const at = `{"channel":"/a","data":${deepJson(max - 1, object)}}`;
      const over = `{"channel":"/a","data":${deepJson(max, object)}}`;
      for (const wrap of [
        (m: string) => m,
        (m: string) => `[${m}]`,
        (m: string) => ` \n[{"channel":"/b"},${m}]`,
      ]) {
        assert.equal(decodeBatch(wrap(at), LIMITS).length >= 1, true);
        for (const body of [wrap(over), wrap(over).replace('"/a"', '"/a","__proto__":{}')]) {
          assert.throws(
            () => decodeBatch(body, LIMITS),
            (err: unknown) => err instanceof BayeuxParseError && err.code === "ERR_BAYEUX_TOO_DEEP",
            body.slice(0, 40),
          );
        }
      }
      assert.throws(
        () =>
          decodeBatch(`[{"channel":"/a","data":${deepJson(100_000, object)}}]`, {
            maxBatchLength: 1,
          }),
        (err: unknown) => err instanceof BayeuxParseError && err.code === "ERR_BAYEUX_TOO_DEEP",
      );
    }
  });
});

describe("fuzz: Bayeux batches through the server's process()", () => {
  const makeServer = transportFreeServers({ timeout: 0, interval: 0 });

  async function handshake(server: BayeuxServer): Promise<string> {
    const result = await server.process(
      [{ channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] }],
      LONG_POLLING,
    );
    return result.replies[0].clientId as string;
  }

  test("every decoded batch is answered with encodable replies; process() never rejects", async () => {
    const server = makeServer();
    server.subscribe("/**", () => {});
    const clientId = await handshake(server);
    await fuzzAsync(async (rng) => {
      // Real clientIds in the messages, so the processor's deeper paths run.
      const body = hostileBody(rng).replaceAll('"abc"', JSON.stringify(clientId));
      const batch = decode(body);
      if (batch === null) return;
      const result = await server.process(batch, LONG_POLLING);
      encodeBatch(
        result.deliveries.map((d) => d.json),
        result.replies,
      );
    });
    assert.equal(prototypePolluted(), false);
  });
});
