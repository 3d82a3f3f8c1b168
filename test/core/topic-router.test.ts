import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sioTopic, TopicRouter } from "../../src/core/index.js";

describe("TopicRouter", () => {
  it("keeps both directions and reports created and deleted topics", () => {
    const created: string[] = [];
    const deleted: string[] = [];
    const router = new TopicRouter<string>({
      onCreate: (t) => created.push(t),
      onDelete: (t) => deleted.push(t),
    });
    assert.equal(router.subscribe("a", "lobby"), true);
    assert.equal(router.subscribe("a", "lobby"), false);
    router.subscribe("b", "lobby");
    router.subscribe("b", "admins");
    assert.deepEqual(created, ["lobby", "admins"]);
    assert.deepEqual([...(router.subscribers("lobby") ?? [])], ["a", "b"]);
    assert.deepEqual([...(router.topicsOf("b") ?? [])], ["lobby", "admins"]);
    assert.equal(router.unsubscribe("a", "lobby"), true);
    assert.equal(router.unsubscribe("a", "lobby"), false);
    assert.equal(router.subscriptions.has("a"), false, "empty subscriber entry removed");
    assert.deepEqual([...(router.unsubscribeAll("b") ?? [])], ["lobby", "admins"]);
    assert.deepEqual(deleted, ["lobby", "admins"]);
    assert.equal(router.topics.size, 0);
    assert.equal(router.has("lobby"), false);
  });

  it("unions several topics minus exclusions, visiting each subscriber once", () => {
    const router = new TopicRouter<string>();
    router.subscribe("a", "r1");
    router.subscribe("b", "r1");
    router.subscribe("b", "r2");
    router.subscribe("c", "r2");
    router.subscribe("c", "muted");
    router.subscribe("d", "r3");
    const visited: string[] = [];
    const n = router.forEach(["r1", "r2"], new Set(["muted"]), (s) => visited.push(s));
    assert.equal(n, 2);
    assert.deepEqual(visited, ["a", "b"]);
    assert.deepEqual([...router.collect(undefined, ["r1"])].sort(), ["c", "d"]);
    assert.deepEqual([...router.collect(["r3"])], ["d"]);
    assert.deepEqual([...router.collect(["nope"])], []);
    assert.deepEqual([...router.collect(new Set(["r2", "r3"]), [])].sort(), ["b", "c", "d"]);
  });

  it("names Socket.IO topics by namespace and room", () => {
    assert.equal(sioTopic("/chat", "lobby"), "sio//chat/lobby");
  });
});
