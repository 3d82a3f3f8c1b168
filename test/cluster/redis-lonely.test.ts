/** The Redis broker's lonely channels: when a mark is made, kept, re-checked and forgotten. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LonelyChannels } from "../../src/cluster/redis-lonely.js";

describe("LonelyChannels", () => {
  it("marks a channel nobody else received, and skips it until another node is interested", () => {
    const lonely = new LonelyChannels(10);
    assert.equal(lonely.skip("t:a"), false);
    lonely.learn("t:a", 0, lonely.epoch);
    lonely.learn("t:b", 1, lonely.epoch);
    assert.equal(lonely.skip("t:a"), true);
    assert.equal(lonely.skip("t:b"), false);
    lonely.forget(["t:a"]);
    assert.equal(lonely.skip("t:a"), false);
  });

  it("ignores a reply sent before something changed, but not one saying others received it", () => {
    const lonely = new LonelyChannels(10);
    const before = lonely.epoch;
    lonely.forget(["t:x"]); // a newcomer's INTEREST overtook the reply
    lonely.learn("t:a", 0, before);
    assert.equal(lonely.skip("t:a"), false);
    lonely.learn("t:a", 0, lonely.epoch);
    const sent = lonely.epoch;
    lonely.changed();
    lonely.learn("t:a", 2, sent);
    assert.equal(lonely.skip("t:a"), false);
  });

  it("a sweep returns the marks used since the last one for a probe and forgets the others", () => {
    const lonely = new LonelyChannels(10);
    lonely.learn("t:used", 0, lonely.epoch);
    lonely.learn("t:idle", 0, lonely.epoch);
    // Fresh marks are probed at the first sweep.
    assert.deepEqual(lonely.sweep().sort(), ["t:idle", "t:used"]);
    assert.equal(lonely.skip("t:used"), true);
    assert.deepEqual(lonely.sweep(), ["t:used"]);
    assert.equal(lonely.size, 1);
    // A probe that still finds nobody keeps the mark; one that finds a receiver drops it.
    lonely.learn("t:used", 0, lonely.epoch);
    assert.equal(lonely.skip("t:used"), true);
    lonely.learn("t:used", 1, lonely.epoch);
    assert.equal(lonely.skip("t:used"), false);
  });

  it("keeps at most `limit` marks, none with limit 0, and forgets all on clear", () => {
    const lonely = new LonelyChannels(2);
    for (const channel of ["t:1", "t:2", "t:3"]) lonely.learn(channel, 0, lonely.epoch);
    assert.equal(lonely.size, 2);
    assert.equal(lonely.skip("t:3"), false);
    lonely.clear();
    assert.equal(lonely.size, 0);
    const off = new LonelyChannels(0);
    off.learn("t:1", 0, off.epoch);
    assert.equal(off.skip("t:1"), false);
  });
});
