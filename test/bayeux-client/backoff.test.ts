/** Backoff: exponential growth, the cap, full jitter, reset, bad options. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Backoff } from "../../src/bayeux/client/index.js";

describe("Backoff", () => {
  test("grows by factor up to maxDelay; each delay is random * ceiling", () => {
    const backoff = new Backoff({ initialDelay: 100, maxDelay: 1000, factor: 3 }, () => 0.5);
    const ceilings: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      ceilings.push(backoff.ceiling());
      delays.push(backoff.next());
    }
    assert.deepEqual(ceilings, [100, 300, 900, 1000, 1000]);
    assert.deepEqual(delays, [50, 150, 450, 500, 500]);
    assert.equal(backoff.attempt, 5);
  });

  test("full jitter spans [0, ceiling)", () => {
    const low = new Backoff({ initialDelay: 200 }, () => 0);
    const high = new Backoff({ initialDelay: 200 }, () => 0.9999);
    assert.equal(low.next(), 0);
    assert.equal(high.next(), 199);
    let seen = 0;
    const real = new Backoff({ initialDelay: 1000, maxDelay: 1000 });
    for (let i = 0; i < 200; i++) {
      const d = real.next();
      assert.ok(d >= 0 && d < 1000);
      seen += d;
    }
    // The mean of uniform jitter is near half the ceiling.
    assert.ok(seen / 200 > 300 && seen / 200 < 700);
  });

  test("reset starts over; huge attempt counts stay at the cap", () => {
    const backoff = new Backoff({ initialDelay: 10, maxDelay: 50 }, () => 0.999);
    for (let i = 0; i < 2000; i++) backoff.next();
    assert.equal(backoff.ceiling(), 50);
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 9);
  });

  test("defaults and refused options", () => {
    const backoff = new Backoff();
    assert.equal(backoff.initialDelay, 500);
    assert.equal(backoff.maxDelay, 30_000);
    assert.equal(backoff.factor, 2);
    assert.throws(() => new Backoff({ initialDelay: -1 }), RangeError);
    assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
    assert.throws(() => new Backoff({ maxDelay: Number.NaN }), RangeError);
  });
});
