/** The Redis broker's table of other nodes: up, down, patterns, and late frames after a goodbye. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PeerTable } from "../../src/cluster/redis-peers.js";

function table(): { peers: PeerTable; events: string[] } {
  const peers = new PeerTable((err) => {
    throw err;
  });
  const events: string[] = [];
  peers.listen((event, node) => events.push(`${event}:${node}`));
  return { peers, events };
}

describe("PeerTable", () => {
  it("counts each distinct pattern once however many nodes hold it", () => {
    const { peers, events } = table();
    peers.heard("a", ["bayeux//x/*"], 0);
    peers.heard("b", ["bayeux//x/*", "bayeux//**"], 0);
    assert.deepEqual(peers.matchingPatterns("bayeux//x/y").sort(), ["bayeux//**", "bayeux//x/*"]);
    peers.forget("b");
    assert.deepEqual(peers.matchingPatterns("bayeux//x/y"), ["bayeux//x/*"]);
    assert.deepEqual(events, ["up:a", "up:b", "down:b"]);
  });

  it("expires nodes not heard since the deadline", () => {
    const { peers, events } = table();
    peers.heard("a", [], 0);
    peers.heard("b", [], 100);
    assert.deepEqual(peers.expire(50), ["a"]);
    assert.deepEqual(peers.ids(), ["b"]);
    assert.deepEqual(events, ["up:a", "up:b", "down:a"]);
  });

  it("ignores a departed node's late state until the grace ends, but not its new hello", () => {
    const { peers, events } = table();
    peers.heard("a", ["p/*"], 0);
    assert.equal(peers.departed("a", 1000), true);
    // Its last STATE, sent before the GOODBYE, arrives after it (another shard).
    peers.heard("a", ["p/*"], 10);
    assert.equal(peers.has("a"), false);
    assert.deepEqual(peers.matchingPatterns("p/x"), []);
    // Restarted under the same id: its HELLO counts at once.
    peers.heard("a", [], 20, true);
    assert.equal(peers.has("a"), true);
    // A node that departed long ago is heard again after the grace.
    peers.departed("a", 1000);
    peers.heard("a", [], 1001);
    assert.equal(peers.has("a"), true);
    assert.deepEqual(events, ["up:a", "down:a", "up:a", "down:a", "up:a"]);
  });

  it("maps process tags back to node ids, a restart's new tag replacing nothing else", () => {
    const { peers } = table();
    peers.tagged("a", 1);
    peers.tagged("b", 2);
    peers.tagged("a", 3); // restarted under the same id
    assert.equal(peers.nodeOfTag(1), "a");
    assert.equal(peers.nodeOfTag(3), "a");
    assert.equal(peers.nodeOfTag(2), "b");
    peers.tagged("c", 2); // a tag drawn again by another process
    assert.equal(peers.nodeOfTag(2), "c");
    assert.equal(peers.nodeOfTag(9), undefined);
    // Forgetting a node keeps its tag: a late publish still names its origin.
    peers.heard("a", [], 0);
    peers.forget("a");
    assert.equal(peers.nodeOfTag(3), "a");
  });
});
