/** The contract every broker backend passes; run by each backend's test file. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Broker, BrokerTimeoutError } from "../../src/cluster/index.js";

export function brokerContract(makeNodes: (n: number) => Promise<Broker[]>): void {
  it("delivers a publish to other nodes' matching subscriptions, never back to itself", async () => {
    const [a, b, c] = await makeNodes(3);
    const got: string[] = [];
    await a.subscribe("sio/*/events", (t, p) => got.push(`a:${t}:${p}`));
    await b.subscribe("sio/**", (t, p, origin) => got.push(`b:${t}:${p}:${origin === a.nodeId}`));
    await c.subscribe("bayeux/**", () => got.push("c"));
    await a.publish("sio/chat/events", Buffer.from("x"));
    await sleep(10);
    assert.deepEqual(got, ["b:sio/chat/events:x:true"]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("unsubscribe stops delivery", async () => {
    const [a, b] = await makeNodes(2);
    let count = 0;
    const off = await b.subscribe("t", () => count++);
    await a.publish("t", Buffer.from("1"));
    await sleep(5);
    await off();
    await a.publish("t", Buffer.from("2"));
    await sleep(5);
    assert.equal(count, 1);
    await Promise.all([a.close(), b.close()]);
  });

  it("request collects every other node's answer", async () => {
    const [a, b, c] = await makeNodes(3);
    await a.respond("q/*", () => Buffer.from("self"));
    await b.respond("q/*", (_t, p) => Buffer.from(`b${p}`));
    await c.respond("q/*", async (_t, p) => Buffer.from(`c${p}`));
    const answers = await a.request("q/x", Buffer.from("?"), { timeout: 500 });
    assert.deepEqual(answers.map(String).sort(), ["b?", "c?"]);
    assert.deepEqual(await a.request("none", Buffer.alloc(0)), []);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("request times out with the answers received so far", async () => {
    const [a, b, c] = await makeNodes(3);
    await b.respond("slow", () => Buffer.from("fast"));
    await c.respond("slow", () => new Promise<Buffer>(() => {}));
    await assert.rejects(a.request("slow", Buffer.alloc(0), { timeout: 30 }), (err: unknown) => {
      assert.ok(err instanceof BrokerTimeoutError);
      assert.deepEqual(err.responses.map(String), ["fast"]);
      return true;
    });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("a closed node neither receives nor answers", async () => {
    const [a, b] = await makeNodes(2);
    let count = 0;
    await b.subscribe("t", () => count++);
    await b.respond("r", () => Buffer.from("x"));
    await b.close();
    await a.publish("t", Buffer.from("1"));
    await sleep(5);
    assert.equal(count, 0);
    assert.deepEqual(await a.request("r", Buffer.alloc(0), { timeout: 50 }), []);
    await a.close();
  });
}
