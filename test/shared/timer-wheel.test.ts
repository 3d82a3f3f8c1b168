import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TimerEntry, type TimerTarget, TimerWheel } from "../../src/shared/timer-wheel.js";

class Recorder implements TimerTarget {
  fired: number[] = [];
  onTimer(entry: TimerEntry): void {
    this.fired.push(entry.kind);
  }
}

function manualWheel(resolution = 10, slots = 8) {
  let now = 1000;
  const wheel = new TimerWheel({ resolution, slots, now: () => now, autoStart: false });
  return {
    wheel,
    advanceTo(ms: number) {
      now = 1000 + ms;
      wheel.advance();
    },
  };
}

describe("timer wheel", () => {
  test("fires an entry once its delay has passed, never before", () => {
    const { wheel, advanceTo } = manualWheel();
    const r = new Recorder();
    wheel.schedule(new TimerEntry(r, 1), 25);
    advanceTo(20);
    assert.deepEqual(r.fired, []);
    advanceTo(30);
    assert.deepEqual(r.fired, [1]);
    advanceTo(100);
    assert.deepEqual(r.fired, [1]);
    assert.equal(wheel.size, 0);
  });

  test("delays longer than a rotation wait for their round", () => {
    const { wheel, advanceTo } = manualWheel(10, 8);
    const r = new Recorder();
    wheel.schedule(new TimerEntry(r, 7), 250); // 25 ticks, more than 3 rotations
    for (let ms = 0; ms < 250; ms += 10) {
      advanceTo(ms);
      assert.deepEqual(r.fired, [], `fired early at ${ms}`);
    }
    advanceTo(250);
    assert.deepEqual(r.fired, [7]);
  });

  test("cancel and reschedule", () => {
    const { wheel, advanceTo } = manualWheel();
    const r = new Recorder();
    const a = new TimerEntry(r, 1);
    const b = new TimerEntry(r, 2);
    wheel.schedule(a, 10);
    wheel.schedule(b, 10);
    wheel.cancel(a);
    assert.equal(a.scheduled, false);
    wheel.schedule(b, 50); // moving an entry replaces its deadline
    advanceTo(20);
    assert.deepEqual(r.fired, []);
    advanceTo(60);
    assert.deepEqual(r.fired, [2]);
    wheel.cancel(b); // cancelling an idle entry is a no-op
    assert.equal(wheel.size, 0);
  });

  test("a callback may cancel or reschedule entries due in the same tick", () => {
    const { wheel, advanceTo } = manualWheel();
    const fired: string[] = [];
    let other: TimerEntry;
    const first = new TimerEntry(
      {
        onTimer() {
          fired.push("first");
          wheel.cancel(other);
          wheel.schedule(first, 10);
        },
      },
      0,
    );
    other = new TimerEntry({ onTimer: () => fired.push("other") }, 0);
    wheel.schedule(other, 10);
    wheel.schedule(first, 10);
    advanceTo(10);
    assert.deepEqual(fired, ["first"]);
    advanceTo(20);
    assert.deepEqual(fired, ["first", "first"]);
    assert.equal(wheel.size, 1);
  });

  test("many entries fire in one pass after a long stall", () => {
    const { wheel, advanceTo } = manualWheel(10, 8);
    const r = new Recorder();
    for (let i = 0; i < 1000; i++) wheel.schedule(new TimerEntry(r, i), (i % 50) * 10);
    advanceTo(10_000);
    assert.equal(r.fired.length, 1000);
    assert.equal(wheel.size, 0);
  });

  test("drives itself with an unref'd interval", async () => {
    const wheel = new TimerWheel({ resolution: 5 });
    // The wheel's interval does not hold the process open; this does.
    const keepAlive = setTimeout(() => {}, 5000);
    const fired = await new Promise<number>((resolve) => {
      const start = Date.now();
      wheel.schedule(new TimerEntry({ onTimer: () => resolve(Date.now() - start) }, 0), 20);
    });
    clearTimeout(keepAlive);
    assert.ok(fired >= 20, `fired after ${fired} ms`);
    wheel.close();
  });
});
