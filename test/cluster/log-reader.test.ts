/**
 * CoalescingLogReader on the memory log and on the shared Redis: a burst of
 * reads of one stream costs one `readAfter`, and every caller gets exactly
 * what its own `readAfter` would have answered.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CoalescingLogReader,
  MemoryMessageLog,
  type MessageLog,
  type MessageLogLimits,
  type ReadResult,
} from "../../src/cluster/index.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import { CLIENT_V6, suiteConnection } from "../helpers/redis-clients.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";

/** A log whose `readAfter` calls are counted (and, with `delay`, held that long). */
function counted(log: MessageLog, delay = 0): MessageLog & { reads: number } {
  const wrapper = Object.create(log) as MessageLog & { reads: number };
  wrapper.reads = 0;
  wrapper.readAfter = async (stream, offset, limit) => {
    wrapper.reads++;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return log.readAfter(stream, offset, limit);
  };
  wrapper.compare = (a, b) => log.compare(a, b);
  return wrapper;
}

const offsets = (r: ReadResult) => r.entries.map((e) => e.offset);

function readerSuite(make: (limits: MessageLogLimits) => MessageLog): void {
  it("answers 1000 concurrent restores of one stream with one read", async () => {
    const base = make({});
    const written: string[] = [];
    for (let i = 0; i < 50; i++) written.push(await base.append("burst", Buffer.from(`${i}`)));
    const log = counted(base);
    const reader = new CoalescingLogReader(log);
    const from = (i: number) => written[(i * 7) % 50];
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => reader.read("burst", from(i))),
    );
    assert.equal(log.reads, 1);
    assert.deepEqual(reader.stats, { requests: 1000, reads: 1, coalesced: 999 });
    for (let i = 0; i < 1000; i += 37) {
      const own = await base.readAfter("burst", from(i));
      assert.deepEqual(offsets(results[i]), offsets(own), `restore ${i}`);
      assert.equal(results[i].status, "complete");
    }
    await base.drop("burst");
  });

  it("joins reads that arrive while one is in flight into the next read", async () => {
    const base = make({});
    const first = await base.append("flight", Buffer.from("a"));
    const second = await base.append("flight", Buffer.from("b"));
    const log = counted(base, 30);
    const reader = new CoalescingLogReader(log);
    const early = reader.read("flight", first);
    await new Promise((resolve) => setImmediate(resolve));
    const late = Array.from({ length: 10 }, (_, i) =>
      reader.read("flight", i % 2 ? first : second),
    );
    const all = await Promise.all([early, ...late]);
    assert.equal(log.reads, 2, "the in-flight read, then one for everything that waited");
    assert.deepEqual(offsets(all[0]), [second]);
    assert.deepEqual(offsets(all[1]), [], "after the second");
    assert.deepEqual(offsets(all[2]), [second], "after the first");
    await base.drop("flight");
  });

  it("reads another epoch, a gap of the smallest, garbage and null apart, each answered as its own read", async () => {
    const base = make({ maxLength: 3 });
    const dropped = await base.append("mix", Buffer.from("old epoch"));
    await base.drop("mix");
    const written: string[] = [];
    for (let i = 0; i < 6; i++) written.push(await base.append("mix", Buffer.from(`${i}`)));
    const log = counted(base);
    const reader = new CoalescingLogReader(log);
    const asked: Array<string | null> = [
      written[0], // trimmed after it: gap
      written[3],
      written[4],
      written[5],
      dropped,
      "garbage",
      null,
      null,
    ];
    const results = await Promise.all(asked.map((o) => reader.read("mix", o)));
    for (let i = 0; i < asked.length; i++) {
      assert.deepEqual(results[i], await base.readAfter("mix", asked[i]), `offset ${asked[i]}`);
    }
    assert.equal(results[0].status, "gap");
    assert.equal(results[4].status, "gap");
    // written[0] (gap), then written[3..5] again, the old epoch, garbage, the nulls.
    assert.equal(log.reads, 5);
    assert.equal(reader.stats.reads, log.reads);
    await base.drop("mix");
  });

  it("rejects every caller of a read that failed", async () => {
    const base = make({});
    const at = await base.append("fail", Buffer.from("x"));
    const log = counted(base);
    log.readAfter = async () => {
      throw new Error("down");
    };
    const reader = new CoalescingLogReader(log);
    const results = await Promise.allSettled([reader.read("fail", at), reader.read("fail", at)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    await base.drop("fail");
  });
}

describe("coalescing log reader: memory", () => {
  readerSuite((limits) => new MemoryMessageLog(limits));
});

describe("coalescing log reader: redis", { skip: await redisSkip() }, () => {
  const redis = suiteConnection(CLIENT_V6, () => ({ url: REDIS_URL }));
  const prefix = uniquePrefix("log-reader");
  readerSuite((limits) => new RedisMessageLog(redis(), { ...limits, prefix }));
});
