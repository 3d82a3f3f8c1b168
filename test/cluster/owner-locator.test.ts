/**
 * The owner locator remembers a session's owner for a few seconds, so a
 * polling client whose requests keep landing on the wrong node costs one
 * store read, not one per request; a failed forward makes it ask again.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import { OwnerLocator } from "../../src/cluster/owner-locator.js";
import type { SessionStore } from "../../src/cluster/session-store.js";

/** A store that is not the memory one (so the locator awaits it), counting reads. */
function countingStore(inner: MemorySessionStore): SessionStore & { reads: number } {
  const store = {
    reads: 0,
    create: inner.create.bind(inner),
    get: (id: string) => {
      store.reads++;
      return inner.get(id);
    },
    owner: inner.owner.bind(inner),
    claim: inner.claim.bind(inner),
    touch: inner.touch.bind(inner),
    update: inner.update.bind(inner),
    delete: inner.delete.bind(inner),
    close: inner.close.bind(inner),
  };
  return store;
}

function locate(locator: OwnerLocator, id: string): Promise<string | null> {
  return new Promise((resolve) =>
    locator.locate(id, (target) => resolve(target ? `${target.host}:${target.port}` : null)),
  );
}

describe("OwnerLocator", () => {
  it("reads a foreign session's owner once, then from memory until forgotten", async () => {
    const inner = new MemorySessionStore();
    await inner.create("s1", { owner: "b", ttl: 60_000, data: { at: "http://127.0.0.1:4001" } });
    const store = countingStore(inner);
    const locator = new OwnerLocator({ store, nodeId: "a", advertise: "http://127.0.0.1:4000" });
    for (let i = 0; i < 5; i++) assert.equal(await locate(locator, "s1"), "127.0.0.1:4001");
    assert.equal(store.reads, 1);
    locator.forget("s1");
    assert.equal(await locate(locator, "s1"), "127.0.0.1:4001");
    assert.equal(store.reads, 2);
  });

  it("does not remember sessions it found no foreign owner for", async () => {
    const inner = new MemorySessionStore();
    await inner.create("mine", { owner: "a", ttl: 60_000, data: { at: "http://127.0.0.1:4000" } });
    const store = countingStore(inner);
    const locator = new OwnerLocator({ store, nodeId: "a", advertise: "http://127.0.0.1:4000" });
    assert.equal(await locate(locator, "mine"), null);
    assert.equal(await locate(locator, "nobody"), null);
    assert.equal(await locate(locator, "mine"), null);
    assert.equal(store.reads, 3);
  });
});
