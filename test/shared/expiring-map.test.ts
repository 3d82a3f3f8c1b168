/** The expiring, bounded map behind the in-memory idempotency records. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExpiringMap } from "../../src/shared/expiring-map.js";

describe("ExpiringMap", () => {
  it("answers a key until its expiry, and forgets expired entries from the oldest on", () => {
    const map = new ExpiringMap<number>();
    map.set("a", 1, 100, 10);
    map.set("b", 2, 200, 10);
    assert.equal(map.get("a", 99), 1);
    assert.equal(map.get("a", 100), undefined, "gone at its expiry");
    map.expire(150);
    assert.equal(map.size, 1);
    assert.equal(map.get("b", 150), 2);
  });

  it("keeps at most `max` entries, the newest; a key set again counts as new", () => {
    const map = new ExpiringMap<number>();
    map.set("a", 1, 1000, 2);
    map.set("b", 2, 1000, 2);
    map.set("a", 3, 1000, 2);
    map.set("c", 4, 1000, 2);
    assert.equal(map.size, 2);
    assert.equal(map.get("b", 0), undefined, "b was the oldest");
    assert.equal(map.get("a", 0), 3);
    assert.equal(map.get("c", 0), 4);
  });

  it("lets an earlier insertion's expiry leave a key deleted and set again alone", () => {
    const map = new ExpiringMap<string>();
    map.set("k", "first", 100, 10);
    map.delete("k");
    map.set("k", "second", 300, 10);
    map.expire(200);
    assert.equal(map.get("k", 200), "second");
  });

  it("stays bounded and correct over many entries (its queue compacts)", () => {
    const map = new ExpiringMap<number>();
    for (let i = 0; i < 50_000; i++) map.set(`k${i}`, i, 1_000_000, 500);
    assert.equal(map.size, 500);
    assert.equal(map.get("k49999", 0), 49999);
    assert.equal(map.get("k49500", 0), 49500);
    assert.equal(map.get("k49499", 0), undefined);
    map.clear();
    assert.equal(map.size, 0);
  });
});
