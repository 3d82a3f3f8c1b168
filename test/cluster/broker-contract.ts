/**
 * The contract every broker backend passes; run by each backend's test file.
 * Absence is checked with a marker: a publisher's messages arrive in order, so
 * once a later marker arrived, an earlier message that should not have is known
 * not to come.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { Broker } from "../../src/cluster/index.js";
import { until } from "../socketio/raw-clients.js";

/** What a backend's test file provides besides fresh nodes. */
export interface ContractBackend {
  /**
   * Makes `broker` (made with `{ crashable: true }`) vanish without a goodbye,
   * as a killed process does. Backends without the notion leave it out.
   */
  crash?(broker: Broker): Promise<void>;
  /** How long a vanished node may stay listed (two heartbeats, plus slack). */
  deadWithin?: number;
  /**
   * Starts a new node under `broker`'s id in `broker`'s cluster (after it
   * closed or crashed), ready. Backends without the notion leave it out.
   */
  restart?(broker: Broker): Promise<Broker>;
}

/**
 * Runs the contract. `makeNodes(n)` returns `n` new nodes of a cluster of
 * their own; with `{ crashable: true }` the last one can be passed to
 * `backend.crash`.
 */
export function brokerContract(
  makeNodes: (n: number, options?: { crashable?: boolean }) => Promise<Broker[]>,
  backend: ContractBackend = {},
): void {
  it("delivers a publish to other nodes' matching subscriptions, never back to itself", async () => {
    const [a, b, c] = await makeNodes(3);
    const got: string[] = [];
    await a.subscribe("sio/*/events", (t, p) => got.push(`a:${t}:${p}`), { pattern: true });
    await b.subscribe("sio/**", (t, p, origin) => got.push(`b:${t}:${p}:${origin === a.nodeId}`), {
      pattern: true,
    });
    await c.subscribe("bayeux/**", () => got.push("c"), { pattern: true });
    await c.subscribe("mark", () => got.push("mark"));
    await a.publish("sio/chat/events", Buffer.from("x"));
    await a.publish("mark", Buffer.from(""));
    await until(() => got.includes("mark") && got.length >= 2, 5000, "delivery");
    assert.deepEqual(got.sort(), ["b:sio/chat/events:x:true", "mark"]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("an exact subscription takes wildcard characters literally", async () => {
    const [a, b] = await makeNodes(2);
    const got: string[] = [];
    await b.subscribe("sio//n/*", (t) => got.push(t));
    await a.publish("sio//n/x", Buffer.from("no"));
    await a.publish("sio//n/*", Buffer.from("yes"));
    await until(() => got.length >= 1, 5000, "delivery");
    assert.deepEqual(got, ["sio//n/*"]);
    await Promise.all([a.close(), b.close()]);
  });

  it("unsubscribe stops delivery", async () => {
    const [a, b] = await makeNodes(2);
    const got: string[] = [];
    const off = await b.subscribe("t", (_t, p) => got.push(String(p)));
    await b.subscribe("mark", () => got.push("mark"));
    await a.publish("t", Buffer.from("1"));
    await until(() => got.length === 1, 5000, "first delivery");
    await off();
    await a.publish("t", Buffer.from("2"));
    await a.publish("mark", Buffer.from(""));
    await until(() => got.includes("mark"), 5000, "marker");
    assert.deepEqual(got, ["1", "mark"]);
    await Promise.all([a.close(), b.close()]);
  });

  it("knows the other live nodes", async () => {
    const [a, b, c] = await makeNodes(3);
    await until(() => a.nodes().length === 2, 10_000, "nodes");
    assert.deepEqual(a.nodes().sort(), [b.nodeId, c.nodeId].sort());
    const events: string[] = [];
    a.onNodes((event, node) => events.push(`${event}:${node}`));
    await c.close();
    await until(() => events.includes(`down:${c.nodeId}`), 10_000, "node down");
    assert.deepEqual(a.nodes(), [b.nodeId]);
    await Promise.all([a.close(), b.close()]);
  });

  it("request collects every other node's answer", async () => {
    const [a, b, c] = await makeNodes(3);
    await until(() => a.nodes().length === 2, 10_000, "nodes");
    await a.respond("q/*", () => Buffer.from("self"));
    await b.respond("q/*", (_t, p) => Buffer.from(`b${p}`));
    await c.respond("q/*", async (_t, p) => Buffer.from(`c${p}`));
    const result = await a.request("q/x", Buffer.from("?"), { timeout: 5000 });
    assert.deepEqual(
      result.replies.map((r) => `${r.node === b.nodeId ? "b" : "c"}:${r.payload}`).sort(),
      ["b:b?", "c:c?"],
    );
    assert.deepEqual(result.missing, []);
    const none = await a.request("none", Buffer.alloc(0), { timeout: 5000 });
    assert.deepEqual(none, { replies: [], missing: [] });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("a request that times out on one node keeps the others' answers and names the missing node", async () => {
    const [a, b, c] = await makeNodes(3);
    await until(() => a.nodes().length === 2, 10_000, "nodes");
    await b.respond("slow", () => Buffer.from("fast"));
    await c.respond("slow", () => new Promise<Buffer>(() => {}));
    const result = await a.request("slow", Buffer.alloc(0), { timeout: 200 });
    assert.deepEqual(
      result.replies.map((r) => String(r.payload)),
      ["fast"],
    );
    assert.deepEqual(result.missing, [c.nodeId]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("a closed node neither receives nor answers", async () => {
    const [a, b] = await makeNodes(2);
    const got: string[] = [];
    await b.subscribe("t", () => got.push("t"));
    await b.respond("r", () => Buffer.from("x"));
    await b.close();
    await until(() => a.nodes().length === 0, 10_000, "node gone");
    await a.publish("t", Buffer.from("1"));
    assert.deepEqual(await a.request("r", Buffer.alloc(0), { timeout: 500 }), {
      replies: [],
      missing: [],
    });
    assert.deepEqual(got, []);
    await a.close();
  });

  it("wildcard subscriptions across nodes: each subscription gets each matching publish once", async () => {
    const [a, b, c, d] = await makeNodes(4);
    const got: string[] = [];
    await b.subscribe("bayeux/chat/*", (t) => got.push(`b*:${t}`), { pattern: true });
    await b.subscribe("bayeux/chat/room", (t) => got.push(`b=:${t}`));
    await c.subscribe("bayeux/**", (t) => got.push(`c**:${t}`), { pattern: true });
    await d.subscribe("bayeux/chat/*", (t) => got.push(`d*:${t}`), { pattern: true });
    await d.subscribe("mark", () => got.push("mark"));
    await a.publish("bayeux/chat/room", Buffer.from("1"));
    await a.publish("bayeux/chat/room/deep", Buffer.from("2"));
    await a.publish("bayeux/other", Buffer.from("3"));
    await a.publish("elsewhere/chat/room", Buffer.from("4"));
    const expected = [
      "b*:bayeux/chat/room",
      "b=:bayeux/chat/room",
      "c**:bayeux/chat/room",
      "c**:bayeux/chat/room/deep",
      "c**:bayeux/other",
      "d*:bayeux/chat/room",
    ];
    await until(() => got.length >= expected.length, 5000, "deliveries");
    await a.publish("mark", Buffer.from(""));
    await until(() => got.includes("mark"), 5000, "marker");
    assert.deepEqual(got.filter((g) => g !== "mark").sort(), expected);
    assert.equal(a.stats.published, 5);
    await Promise.all([a, b, c, d].map((n) => n.close()));
  });

  it("a pattern subscription is honoured by every publisher as soon as it resolves", async () => {
    const [a, b, c] = await makeNodes(3);
    await until(() => a.nodes().length === 2 && c.nodes().length === 2, 10_000, "nodes");
    const got: string[] = [];
    await b.subscribe(
      "news/*",
      (t, _p, origin) => got.push(`${t}:${origin === a.nodeId ? "a" : "c"}`),
      {
        pattern: true,
      },
    );
    await Promise.all([a.publish("news/x", Buffer.from("")), c.publish("news/y", Buffer.from(""))]);
    await until(() => got.length >= 2, 5000, "deliveries");
    assert.deepEqual(got.sort(), ["news/x:a", "news/y:c"]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("interest: a node without a matching subscription receives nothing", async () => {
    const [a, b, c] = await makeNodes(3);
    const got: string[] = [];
    await b.subscribe("room/1", () => got.push("b"));
    await b.subscribe("bayeux/*", () => got.push("b*"), { pattern: true });
    await c.subscribe("room/2", () => got.push("c"));
    for (let i = 0; i < 5; i++) {
      await a.publish("room/1", Buffer.from(String(i)));
      await a.publish("bayeux/x", Buffer.from(String(i)));
    }
    await until(() => got.length >= 10, 5000, "deliveries");
    await a.publish("room/2", Buffer.from("mark"));
    await until(() => got.includes("c"), 5000, "marker");
    assert.equal(b.stats.received, 10);
    assert.equal(c.stats.received, 1);
    assert.equal(a.stats.received, 0);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("a node subscribing after the publisher found nobody else listening gets the next publish", async () => {
    const [a, b] = await makeNodes(2);
    const own: string[] = [];
    // "lonely/own" has a subscriber on the publisher only, "lonely/none" none at all.
    await a.subscribe("lonely/own", () => own.push("echo"));
    for (let i = 0; i < 3; i++) {
      await a.publish("lonely/own", Buffer.from(String(i)));
      await a.publish("lonely/none", Buffer.from(String(i)));
    }
    const got: string[] = [];
    await b.subscribe("lonely/own", (t, p) => got.push(`${t}:${p}`));
    await b.subscribe("lonely/none", (t, p) => got.push(`${t}:${p}`));
    await a.publish("lonely/own", Buffer.from("next"));
    await a.publish("lonely/none", Buffer.from("next"));
    await until(() => got.length >= 2, 5000, "deliveries");
    assert.deepEqual(got.sort(), ["lonely/none:next", "lonely/own:next"]);
    assert.deepEqual(own, []);
    assert.equal(a.stats.lost, 0);
    await Promise.all([a.close(), b.close()]);
  });

  it("a pattern subscriber joining after the publisher found nobody listening gets the next publish", async () => {
    const [a, b] = await makeNodes(2);
    await until(() => a.nodes().length === 1, 10_000, "nodes");
    for (let i = 0; i < 3; i++) await a.publish("quiet/x", Buffer.from(String(i)));
    const got: string[] = [];
    await b.subscribe("quiet/*", (t, p, origin) => got.push(`${t}:${p}:${origin === a.nodeId}`), {
      pattern: true,
    });
    await b.subscribe("mark", () => got.push("mark"));
    await a.publish("quiet/x", Buffer.from("next"));
    await a.publish("mark", Buffer.from(""));
    await until(() => got.length >= 2, 5000, "deliveries");
    assert.deepEqual(got.sort(), ["mark", "quiet/x:next:true"]);
    await Promise.all([a.close(), b.close()]);
  });

  for (const how of ["closed", "crashed"] as const)
    it(`a node restarted under its id after it ${how} gets the next publish to a topic that went lonely meanwhile`, {
      skip:
        (backend.restart === undefined || (how === "crashed" && backend.crash === undefined)) &&
        "the backend has no restarts",
    }, async () => {
      const [a, b] = await makeNodes(2, { crashable: how === "crashed" });
      const got: string[] = [];
      await b.subscribe("room", (_t, p) => got.push(String(p)));
      await a.publish("room", Buffer.from("before"));
      await until(() => got.length === 1, 5000, "first delivery");
      if (how === "closed") {
        await b.close();
        await until(() => a.nodes().length === 0, 10_000, "node gone");
      } else await backend.crash?.(b);
      for (let i = 0; i < 3; i++) await a.publish("room", Buffer.from("away"));
      const again = await (backend.restart as (broker: Broker) => Promise<Broker>)(b);
      await again.subscribe("room", (_t, p, origin) => got.push(`${p}:${origin === a.nodeId}`));
      await a.publish("room", Buffer.from("after"));
      await until(() => got.length >= 2, 5000, "delivery after the restart");
      assert.deepEqual(got, ["before", "after:true"]);
      await Promise.all([a.close(), again.close(), b.close()]);
    });

  it("payloads arrive intact, binary and empty", async () => {
    const [a, b] = await makeNodes(2);
    const got: Buffer[] = [];
    await b.subscribe("bin", (_t, p) => got.push(p));
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x53, 0x42, 0]);
    await a.publish("bin", bytes);
    await a.publish("bin", new Uint8Array(0));
    await a.publish("bin", Buffer.alloc(256 * 1024, 7));
    await until(() => got.length === 3, 5000, "deliveries");
    assert.deepEqual(got[0], bytes);
    assert.equal(got[1].length, 0);
    assert.equal(got[2].length, 256 * 1024);
    assert.ok(got[2].every((x) => x === 7));
    await Promise.all([a.close(), b.close()]);
  });

  it("a node that vanishes without a goodbye is dropped, and requests stop waiting for it", {
    skip: backend.crash === undefined && "the backend has no crashed nodes",
  }, async () => {
    const [a, b, c] = await makeNodes(3, { crashable: true });
    await until(() => a.nodes().length === 2, 10_000, "nodes");
    await b.respond("who", () => Buffer.from("b"));
    await c.respond("who", () => new Promise<Buffer>(() => {}));
    const events: string[] = [];
    a.onNodes((event, node) => events.push(`${event}:${node === c.nodeId ? "c" : "?"}`));
    const pending = a.request("who", Buffer.alloc(0), { timeout: 60_000 });
    const started = Date.now();
    await backend.crash?.(c);
    const result = await pending;
    await until(() => events.includes("down:c"), backend.deadWithin ?? 10_000, "c dropped");
    assert.ok(Date.now() - started <= (backend.deadWithin ?? 10_000) + 500);
    assert.deepEqual(
      result.replies.map((r) => String(r.payload)),
      ["b"],
    );
    assert.deepEqual(result.missing, [c.nodeId]);
    assert.deepEqual(a.nodes(), [b.nodeId]);
    await Promise.all([a.close(), b.close()]);
  });
}
