import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  TimerEntry,
  TimerLists,
  type TimerTarget,
  TimerWheel,
} from "../../src/shared/timer-wheel.js";

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

function manualLists() {
  let now = 1000;
  const lists = new TimerLists({ now: () => now, autoStart: false });
  return {
    lists,
    advanceTo(ms: number) {
      now = 1000 + ms;
      lists.advance();
    },
  };
}

describe("timer lists", () => {
  test("fires each entry at its exact deadline, never before", () => {
    const { lists, advanceTo } = manualLists();
    const r = new Recorder();
    lists.schedule(new TimerEntry(r, 1), 25);
    lists.schedule(new TimerEntry(r, 2), 7);
    advanceTo(6.9);
    assert.deepEqual(r.fired, []);
    advanceTo(7);
    assert.deepEqual(r.fired, [2]);
    advanceTo(24.9);
    assert.deepEqual(r.fired, [2]);
    advanceTo(25);
    assert.deepEqual(r.fired, [2, 1]);
    assert.equal(lists.size, 0);
    assert.equal(lists.lists, 0);
  });

  test("entries of one delay fire in the order they were scheduled", () => {
    const { lists, advanceTo } = manualLists();
    const r = new Recorder();
    for (let i = 0; i < 5; i++) {
      advanceTo(i);
      lists.schedule(new TimerEntry(r, i), 100);
    }
    assert.equal(lists.lists, 1);
    advanceTo(102);
    assert.deepEqual(r.fired, [0, 1, 2]);
    advanceTo(104);
    assert.deepEqual(r.fired, [0, 1, 2, 3, 4]);
  });

  test("cancel unlinks at once and drops emptied lists; reschedule moves lists", () => {
    const { lists, advanceTo } = manualLists();
    const r = new Recorder();
    const a = new TimerEntry(r, 1);
    const b = new TimerEntry(r, 2);
    lists.schedule(a, 10);
    lists.schedule(b, 10);
    lists.cancel(a);
    assert.equal(a.scheduled, false);
    assert.equal(a.next, null);
    assert.equal(b.prev, null);
    lists.schedule(b, 50);
    assert.equal(lists.lists, 1);
    advanceTo(20);
    assert.deepEqual(r.fired, []);
    advanceTo(50);
    assert.deepEqual(r.fired, [2]);
    lists.cancel(b);
    assert.equal(lists.size, 0);
    assert.equal(lists.lists, 0);
  });

  test("scheduleNext counts from the deadline just fired, catching up at most a tenth", () => {
    const { lists, advanceTo } = manualLists();
    const fired: number[] = [];
    let now = 0;
    const entry: TimerEntry = new TimerEntry(
      {
        onTimer() {
          fired.push(now);
          if (fired.length === 1) lists.scheduleNext(entry, 200);
        },
      },
      0,
    );
    lists.schedule(entry, 300);
    now = 304;
    advanceTo(now); // 4 ms late
    // Deadlines count from the lists' origin (the clock at construction).
    assert.equal(entry.tick, 500);
    now = 499;
    advanceTo(now);
    assert.deepEqual(fired, [304]);
    now = 500;
    advanceTo(now);
    assert.deepEqual(fired, [304, 500]);
    // After a long stall only a tenth of the delay is made up.
    const late = new TimerEntry({ onTimer: () => lists.scheduleNext(late, 200) }, 0);
    lists.schedule(late, 100);
    advanceTo(1500);
    assert.equal(late.tick, 1500 - 20 + 200);
    lists.cancel(late);
  });

  test("deadlines stay small integers: whole ms, and the origin moves forward after ~12 days", () => {
    const { lists, advanceTo } = manualLists();
    const r = new Recorder();
    const a = new TimerEntry(r, 1);
    const b = new TimerEntry(r, 2);
    advanceTo(0.25);
    lists.schedule(a, 2 ** 30 - 10);
    assert.equal(a.tick, 2 ** 30 - 9);
    const late = 2 ** 30 - 100;
    advanceTo(late);
    lists.schedule(b, 5000);
    // b's deadline would pass 2^30: the origin moved to now, and a's deadline with it.
    assert.equal(b.tick, 5000);
    assert.equal(a.tick, 91);
    advanceTo(2 ** 30 - 9.5);
    assert.deepEqual(r.fired, []);
    advanceTo(2 ** 30 - 9);
    assert.deepEqual(r.fired, [1]);
    advanceTo(late + 4999);
    assert.deepEqual(r.fired, [1]);
    advanceTo(late + 5000);
    assert.deepEqual(r.fired, [1, 2]);
  });

  test("a callback may cancel or reschedule entries due in the same firing", () => {
    const { lists, advanceTo } = manualLists();
    const fired: string[] = [];
    let other: TimerEntry;
    const first = new TimerEntry(
      {
        onTimer() {
          fired.push("first");
          lists.cancel(other);
          lists.schedule(first, 0);
        },
      },
      0,
    );
    other = new TimerEntry({ onTimer: () => fired.push("other") }, 0);
    lists.schedule(first, 10);
    lists.schedule(other, 10);
    advanceTo(10);
    // A zero delay rescheduled from a callback waits for the next firing.
    assert.deepEqual(fired, ["first"]);
    advanceTo(10);
    assert.deepEqual(fired, ["first", "first"]);
    assert.equal(lists.size, 1);
  });

  test("drives itself with an unref'd timer, as late as a plain setTimeout", async () => {
    const lists = new TimerLists();
    const keepAlive = setTimeout(() => {}, 5000);
    const start = performance.now();
    let plain = 0;
    // A plain timer for the same delay: as late as the (possibly loaded) event loop.
    setTimeout(() => {
      plain = performance.now() - start;
    }, 40);
    const fired = await new Promise<number>((resolve) => {
      lists.schedule(new TimerEntry({ onTimer: () => resolve(performance.now() - start) }, 0), 40);
      lists.schedule(new TimerEntry({ onTimer: () => {} }, 1), 400);
    });
    while (plain === 0) await new Promise((resolve) => setImmediate(resolve));
    clearTimeout(keepAlive);
    assert.ok(fired >= 40, `fired after ${fired} ms`);
    // A 10 ms tick wheel would be up to 20 ms later than the plain timer.
    assert.ok(fired - plain < 10, `fired after ${fired} ms, the plain timer after ${plain} ms`);
    assert.equal(lists.size, 1);
    lists.close();
    assert.equal(lists.size, 0);
  });
});
