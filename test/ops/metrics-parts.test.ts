/**
 * The small bounded structures the layers count into, at their limits: the
 * fixed-bucket histogram, the error tally (its ring of 50 and its cap of 100
 * codes), the slow-consumer list (the worst 20) and the per-topic traffic
 * (1000 topics, then untracked).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorTally, RECENT_ERRORS } from "../../src/shared/error-tally.js";
import { FANOUT_BUCKETS, Histogram, LATENCY_BUCKETS } from "../../src/shared/histogram.js";
import { SLOW_CONSUMERS_KEPT, SlowConsumers } from "../../src/shared/slow-consumers.js";
import { TOPIC_TRAFFIC_LIMIT, TopicTraffic } from "../../src/shared/topic-traffic.js";

describe("Histogram", () => {
  it("puts a value in the first bucket whose bound it does not exceed", () => {
    const h = new Histogram([1, 10]);
    for (const v of [0, 1, 1.5, 10, 11, 1e9]) h.observe(v);
    assert.deepEqual(h.counts, [2, 2, 2]);
    assert.deepEqual(h.cumulative(), [2, 4, 6]);
    assert.equal(h.count, 6);
    assert.equal(h.sum, 0 + 1 + 1.5 + 10 + 11 + 1e9);
  });

  it("has at most a dozen bounds in the shipped bucket sets", () => {
    assert.ok(FANOUT_BUCKETS.length <= 12 && LATENCY_BUCKETS.length <= 12);
    assert.doesNotThrow(() => new Histogram(FANOUT_BUCKETS));
    assert.throws(() => new Histogram([1, 1]), RangeError);
  });
});

describe("ErrorTally", () => {
  it("keeps the last 50 occurrences, oldest first", () => {
    const tally = new ErrorTally();
    for (let i = 0; i < RECENT_ERRORS + 7; i++) tally.add("E", `n${i}`);
    const recent = tally.recent();
    assert.equal(recent.length, RECENT_ERRORS);
    assert.equal(recent[0].message, "n7");
    assert.equal(recent.at(-1)?.message, `n${RECENT_ERRORS + 6}`);
    assert.equal(tally.counts.E, RECENT_ERRORS + 7);
  });

  it("counts at most 100 distinct codes, the rest as other", () => {
    const tally = new ErrorTally();
    for (let i = 0; i < 105; i++) tally.add(`C${i}`, "x");
    tally.add("C0", "x");
    assert.equal(Object.keys(tally.counts).length, 101);
    assert.equal(tally.counts.other, 5);
    assert.equal(tally.counts.C0, 2);
    assert.equal(tally.recent().at(-1)?.code, "C0");
  });
});

describe("SlowConsumers", () => {
  it("keeps the worst 20, replacing the least when a worse one comes", () => {
    const slow = new SlowConsumers();
    for (let i = 0; i < SLOW_CONSUMERS_KEPT; i++) slow.add(`s${i}`, i + 2);
    slow.add("light", 1);
    assert.equal(slow.list().length, SLOW_CONSUMERS_KEPT);
    assert.ok(!slow.list().some((e) => e.id === "light"));
    slow.add("heavy", 100);
    const list = slow.list();
    assert.equal(list.length, SLOW_CONSUMERS_KEPT);
    assert.equal(list[0].id, "heavy");
    assert.ok(!list.some((e) => e.id === "s0"), "the least (2 drops) made room");
    slow.add("s1", 200);
    assert.deepEqual(
      slow
        .list()
        .slice(0, 2)
        .map((e) => [e.id, e.dropped]),
      [
        ["s1", 203],
        ["heavy", 100],
      ],
    );
  });
});

describe("TopicTraffic", () => {
  it("tracks at most its limit of topics, counts the rest as untracked, frees forgotten ones", () => {
    const traffic = new TopicTraffic();
    assert.equal(traffic.limit, TOPIC_TRAFFIC_LIMIT);
    for (let i = 0; i < TOPIC_TRAFFIC_LIMIT; i++) traffic.count(`t${i}`);
    traffic.count("late");
    traffic.count("t3");
    assert.equal(traffic.counts.size, TOPIC_TRAFFIC_LIMIT);
    assert.equal(traffic.untracked, 1);
    assert.deepEqual(traffic.top(1), [["t3", 2]]);
    traffic.forget("t0");
    traffic.count("late");
    assert.equal(traffic.counts.get("late"), 1);
    assert.deepEqual(traffic.top(0), []);
  });
});
