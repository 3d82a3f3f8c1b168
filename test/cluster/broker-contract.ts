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

export function brokerContract(makeNodes: (n: number) => Promise<Broker[]>): void {
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
}
