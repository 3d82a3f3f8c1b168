import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBrokerHub, matchTopic } from "../../src/cluster/index.js";
import { brokerContract } from "./broker-contract.js";

describe("memory broker: contract", () => {
  brokerContract(async (n) => {
    const hub = new MemoryBrokerHub();
    return Array.from({ length: n }, () => hub.connect());
  });
});

describe("matchTopic", () => {
  it("matches exact topics, single-segment and trailing multi-segment wildcards", () => {
    assert.equal(matchTopic("a/b", "a/b"), true);
    assert.equal(matchTopic("a/*", "a/b"), true);
    assert.equal(matchTopic("a/*", "a/b/c"), false);
    assert.equal(matchTopic("a/**", "a/b/c"), true);
    assert.equal(matchTopic("a/**", "a"), false);
    assert.equal(matchTopic("a/*/c", "a/x/c"), true);
    assert.equal(matchTopic("a/*/c", "a/x/d"), false);
  });
});
