import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BAYEUX_ERRORS,
  BayeuxParseError,
  bayeuxError,
  channelMatches,
  checkMessage,
  decodeBatch,
  encodeBatch,
  isChannelName,
  isChannelPattern,
  isMetaChannel,
  isServiceChannel,
  isSubscribable,
  MAX_CHANNEL_LENGTH,
  parseBayeuxError,
  wildcardPatterns,
} from "../../src/codec/bayeux/index.js";

describe("bayeux codec: channel grammar", () => {
  const names: [string, boolean][] = [
    ["/a", true],
    ["/chat/demo", true],
    ["/a-b_c!d~e(f)g$h@i/0", true],
    ["/meta/connect", true],
    ["", false],
    ["a", false],
    ["/", false],
    ["//a", false],
    ["/a/", false],
    ["/a b", false],
    ["/a.b", false],
    ["/a/*", false],
    ["/a/**", false],
    ["/a/*/b", false],
    ["/é", false],
  ];
  for (const [name, ok] of names) {
    it(`isChannelName(${JSON.stringify(name)}) is ${ok}`, () => {
      assert.equal(isChannelName(name), ok);
    });
  }

  const patterns: [string, boolean][] = [
    ["/*", true],
    ["/**", true],
    ["/a/*", true],
    ["/a/b/**", true],
    ["/a/***", false],
    ["/a/*/b", false],
    ["/a*", false],
    ["/a", false],
    ["*", false],
  ];
  for (const [pattern, ok] of patterns) {
    it(`isChannelPattern(${JSON.stringify(pattern)}) is ${ok}`, () => {
      assert.equal(isChannelPattern(pattern), ok);
    });
  }

  it("refuses non-strings and names past the length limit", () => {
    assert.equal(isChannelName(42), false);
    assert.equal(isChannelName(null), false);
    assert.equal(isSubscribable({}), false);
    assert.equal(isChannelName(`/${"a".repeat(MAX_CHANNEL_LENGTH)}`), false);
    assert.equal(isChannelName(`/${"a".repeat(MAX_CHANNEL_LENGTH - 1)}`), true);
  });

  it("tells meta and service channels apart", () => {
    assert.equal(isMetaChannel("/meta/handshake"), true);
    assert.equal(isMetaChannel("/meta"), true);
    assert.equal(isMetaChannel("/metadata"), false);
    assert.equal(isServiceChannel("/service/echo"), true);
    assert.equal(isServiceChannel("/services"), false);
  });
});

describe("bayeux codec: wildcards", () => {
  it("lists the patterns matching a channel, most specific first", () => {
    assert.deepEqual(wildcardPatterns("/a/b/c"), ["/a/b/*", "/a/b/**", "/a/**", "/**"]);
    assert.deepEqual(wildcardPatterns("/a"), ["/*", "/**"]);
  });

  const cases: [string, string, boolean][] = [
    ["/a/*", "/a/b", true],
    ["/a/*", "/a/b/c", false],
    ["/a/*", "/a", false],
    ["/a/**", "/a/b", true],
    ["/a/**", "/a/b/c", true],
    ["/a/**", "/a", false],
    ["/a/**", "/ab/c", false],
    ["/*", "/a", true],
    ["/*", "/a/b", false],
    ["/**", "/a/b/c", true],
    ["/a/b", "/a/b", true],
    ["/a/b", "/a/c", false],
  ];
  for (const [pattern, channel, ok] of cases) {
    it(`${pattern} ${ok ? "matches" : "does not match"} ${channel}`, () => {
      assert.equal(channelMatches(pattern, channel), ok);
      // The lookup list and the matcher agree.
      if (pattern.includes("*")) assert.equal(wildcardPatterns(channel).includes(pattern), ok);
    });
  }
});

describe("bayeux codec: errors", () => {
  it("formats code:args:message from the table", () => {
    assert.equal(bayeuxError("clientUnknown", ["abc"]), "402:abc:Unknown client");
    assert.equal(bayeuxError("clientUnknown"), "402::Unknown client");
    assert.equal(bayeuxError("channelInvalid", ["/a", "/b"]), "405:/a,/b:Invalid channel");
    assert.equal(bayeuxError("publishDenied", [], "no way"), "403::no way");
  });

  it("replaces characters outside the error grammar so the field always parses", () => {
    const field = bayeuxError("badRequest", ["a:b,c"], "x:y\n");
    assert.equal(field, "400:a_b_c:x_y_");
    assert.deepEqual(parseBayeuxError(field), { code: 400, args: ["a_b_c"], message: "x_y_" });
  });

  it("parses and refuses error fields", () => {
    assert.deepEqual(parseBayeuxError("402::Unknown client"), {
      code: 402,
      args: [],
      message: "Unknown client",
    });
    assert.equal(parseBayeuxError("oops"), undefined);
  });

  it("keeps every code three digits", () => {
    for (const entry of Object.values(BAYEUX_ERRORS)) {
      assert.ok(entry.code >= 100 && entry.code <= 999);
    }
  });
});

describe("bayeux codec: messages", () => {
  const limits = { maxBatchLength: 3 };

  it("decodes an array or a single message", () => {
    assert.deepEqual(decodeBatch('[{"channel":"/a"}]', limits), [{ channel: "/a" }]);
    assert.deepEqual(decodeBatch('{"channel":"/a"}', limits), [{ channel: "/a" }]);
    assert.deepEqual(decodeBatch("[]", limits), []);
  });

  for (const [text, code] of [
    ["not json", "ERR_BAYEUX_JSON"],
    ["42", "ERR_BAYEUX_SHAPE"],
    ['"x"', "ERR_BAYEUX_SHAPE"],
    ["null", "ERR_BAYEUX_SHAPE"],
    ["[1,2,3,4]", "ERR_BAYEUX_BATCH_LENGTH"],
  ] as const) {
    it(`refuses ${text} with ${code}`, () => {
      assert.throws(
        () => decodeBatch(text, limits),
        (err: unknown) =>
          err instanceof BayeuxParseError &&
          err.code === code &&
          err.bayeuxError.startsWith("400:"),
      );
    });
  }

  it("drops __proto__ keys at any depth", () => {
    const [message] = decodeBatch(
      '[{"channel":"/a","__proto__":{"polluted":1},"data":{"__proto__":{"polluted":2}}}]',
      limits,
    ) as Record<string, unknown>[];
    assert.equal(Object.hasOwn(message, "__proto__"), false);
    assert.equal(Object.hasOwn(message.data as object, "__proto__"), false);
    const copy = Object.assign({}, message, message.data);
    assert.equal((copy as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("checks each message's field types", () => {
    assert.deepEqual(checkMessage({ channel: "/a", id: 1 }), { channel: "/a", id: 1 });
    assert.match(checkMessage(null) as string, /^400:/);
    assert.match(checkMessage([]) as string, /^400:/);
    assert.equal(checkMessage({}), "402:channel:Missing required parameter");
    assert.match(checkMessage({ channel: "/a", id: {} }) as string, /^400:id:/);
    assert.match(checkMessage({ channel: "/a", clientId: 3 }) as string, /^400:clientId:/);
    assert.match(checkMessage({ channel: "/a", ext: [] }) as string, /^400:ext:/);
  });

  it("splices pre-encoded deliveries before the replies", () => {
    const text = encodeBatch(['{"channel":"/a","data":1}'], [{ channel: "/meta/connect" }]);
    assert.deepEqual(JSON.parse(text), [{ channel: "/a", data: 1 }, { channel: "/meta/connect" }]);
    assert.equal(encodeBatch([], []), "[]");
    assert.equal(encodeBatch(["1", "2"], []), "[1,2]");
  });
});
