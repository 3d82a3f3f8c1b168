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

  it("stores a lone member without a Set, upgrading on the second and reading the same", () => {
    const router = new TopicRouter<string>();
    router.subscribe("a", "a");
    assert.equal(router.topics.get("a"), "a", "one subscriber is stored as itself");
    assert.equal(router.subscriptions.get("a"), "a", "one topic is stored as itself");
    assert.deepEqual([...(router.subscribers("a") ?? [])], ["a"]);
    assert.equal(router.subscribers("a")?.size, 1);
    assert.equal(router.subscribers("a")?.has("a"), true);
    assert.deepEqual([...(router.topicsOf("a") ?? [])], ["a"]);
    assert.equal(router.topicCount("a"), 1);
    assert.equal(router.isSubscribed("a", "a"), true);
    assert.equal(router.isSubscribed("a", "b"), false);
    router.subscribe("b", "a");
    router.subscribe("a", "lobby");
    assert.ok(router.topics.get("a") instanceof Set);
    assert.deepEqual([...(router.subscribers("a") ?? [])], ["a", "b"]);
    assert.deepEqual([...(router.topicsOf("a") ?? [])], ["a", "lobby"]);
    assert.equal(router.topicCount("a"), 2);
    // Leaving back to one topic stores it alone again.
    router.unsubscribe("a", "lobby");
    assert.equal(router.subscriptions.get("a"), "a");
    assert.equal(router.unsubscribe("a", "nope"), false);
    assert.deepEqual([...(router.unsubscribeAll("a") ?? [])], ["a"]);
    assert.deepEqual([...(router.subscribers("a") ?? [])], ["b"]);
    assert.equal(router.unsubscribe("b", "a"), true);
    assert.equal(router.topics.size, 0);
    assert.equal(router.subscriptions.size, 0);
  });

  it("excludes a single subscriber or several, with lone and shared topics mixed", () => {
    const router = new TopicRouter<string>();
    for (const id of ["a", "b", "c"]) router.subscribe(id, id);
    router.subscribe("a", "room");
    router.subscribe("b", "room");
    router.subscribe("c", "solo");
    assert.deepEqual([...router.collect(undefined, ["a"])], ["b", "c"]);
    assert.deepEqual([...router.collect(["room"], ["a"])], ["b"]);
    assert.deepEqual([...router.collect(["a"], ["a"])], []);
    assert.deepEqual([...router.collect(["a"], ["b"])], ["a"]);
    assert.deepEqual([...router.collect(undefined, ["a", "solo"])], ["b"]);
    assert.deepEqual([...router.collect(undefined, ["room", "c"])], []);
    assert.deepEqual([...router.collect(["a", "b", "solo"], ["b"])].sort(), ["a", "c"]);
    assert.deepEqual([...router.collect(["room", "c"], ["nope"])].sort(), ["a", "b", "c"]);
  });

  it("expand() turns every entry into a live Set, for good", () => {
    const created: string[] = [];
    const router = new TopicRouter<string>({ onCreate: (t) => created.push(t) });
    router.subscribe("a", "a");
    router.subscribe("b", "b");
    router.subscribe("b", "lobby");
    router.expand();
    const topics = router.topics as Map<string, Set<string>>;
    const subscriptions = router.subscriptions as Map<string, Set<string>>;
    assert.deepEqual([...(topics.get("a") ?? [])], ["a"]);
    assert.ok(topics.get("a") instanceof Set);
    assert.ok(subscriptions.get("a") instanceof Set);
    router.subscribe("c", "c");
    assert.ok(topics.get("c") instanceof Set, "new topics are Sets after expand");
    assert.ok(subscriptions.get("c") instanceof Set);
    const lobby = topics.get("lobby");
    router.subscribe("a", "lobby");
    assert.equal(topics.get("lobby"), lobby, "the same live Set grows");
    assert.deepEqual([...(lobby ?? [])], ["b", "a"]);
    router.unsubscribe("b", "lobby");
    assert.ok(subscriptions.get("b") instanceof Set, "no shrinking back after expand");
    assert.deepEqual(created, ["a", "b", "lobby", "c"]);
    assert.deepEqual([...router.collect(["lobby", "c"], ["a"])], ["c"]);
  });
});
