/** The contract every session store backend passes; run by session-store.test.ts per backend. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { type SessionStore, SessionStoreArgumentError } from "../../src/cluster/index.js";
import { eventually } from "../helpers/redis-server.js";

/** Two nodes' views of one backend, and how many keys the run left in it. */
export interface SessionStoreBackend {
  stores: [SessionStore, SessionStore];
  /** Keys (or records) of this run still held by the backend. */
  keyCount(): Promise<number>;
  close(): Promise<void>;
}

export function sessionStoreContract(make: () => Promise<SessionStoreBackend>): void {
  const withBackend = (fn: (b: SessionStoreBackend) => Promise<void>) => async () => {
    const backend = await make();
    try {
      await fn(backend);
    } finally {
      await backend.close();
    }
  };

  it(
    "creates, finds from another node, and deletes a record",
    withBackend(async ({ stores: [a, b], keyCount }) => {
      const before = Date.now();
      const data = { subscriptions: ["/a", "/b/*"], ack: { batch: 3 } };
      assert.equal(await a.create("s1", { owner: "node-a", ttl: 60000, data }), true);
      data.subscriptions.push("/mutated-after-create");
      const record = await b.get("s1");
      assert.ok(record);
      assert.equal(record.id, "s1");
      assert.equal(record.owner, "node-a");
      assert.deepEqual(record.data, { subscriptions: ["/a", "/b/*"], ack: { batch: 3 } });
      assert.ok(record.expiresAt >= before + 59000 && record.expiresAt <= Date.now() + 60000);
      assert.equal(await b.owner("s1"), "node-a");
      assert.equal(await a.create("s1", { owner: "node-b", ttl: 60000 }), false);
      assert.equal(await b.owner("s1"), "node-a", "a failed create changes nothing");
      assert.equal(await b.delete("s1"), true);
      assert.equal(await a.get("s1"), undefined);
      assert.equal(await a.owner("s1"), undefined);
      assert.equal(await a.delete("s1"), false);
      assert.equal(await keyCount(), 0);
    }),
  );

  it(
    "lets exactly one of many concurrent creates of one id win",
    withBackend(async ({ stores: [a, b] }) => {
      const attempts = Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).create("contested", { owner: `node-${i}`, ttl: 60000 }),
      );
      const results = await Promise.all(attempts);
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal(await a.owner("contested"), `node-${winner}`);
      await a.delete("contested");
    }),
  );

  it(
    "updates data fields in place: sets, removes, keeps the rest; never resurrects",
    withBackend(async ({ stores: [a, b] }) => {
      await a.create("u1", { owner: "n", ttl: 60000, data: { x: 1, y: "two" } });
      assert.equal(await a.update("u1", { y: undefined, z: { deep: [1, 2] } }), true);
      assert.deepEqual((await b.get("u1"))?.data, { x: 1, z: { deep: [1, 2] } });
      assert.equal(await a.update("u1", {}), true);
      await b.delete("u1");
      assert.equal(await a.update("u1", { x: 2 }), false);
      assert.equal(await a.get("u1"), undefined, "update after delete does not recreate");
    }),
  );

  it(
    "touch restarts the clock; a record expires after its ttl with nothing left behind",
    withBackend(async ({ stores: [a, b], keyCount }) => {
      const baseline = await keyCount();
      for (let i = 0; i < 5; i++) {
        await a.create(`e${i}`, { owner: "n", ttl: 150, data: { i, list: ["/x"] } });
      }
      await a.update("e1", { more: true });
      assert.equal(await b.touch("e0", 60000), true);
      assert.ok(((await a.get("e0"))?.expiresAt ?? 0) > Date.now() + 50000);
      assert.ok(await a.get("e4"), "alive before its ttl");
      await eventually(async () => {
        for (let i = 1; i < 5; i++) if ((await b.get(`e${i}`)) !== undefined) return false;
        return true;
      }, "records to expire");
      assert.ok(await a.get("e0"), "the touched record lives on");
      assert.equal(await a.touch("e3", 1000), false, "an expired record cannot be touched");
      assert.equal(await a.update("e3", { x: 1 }), false);
      await a.delete("e0");
      await eventually(async () => (await keyCount()) === baseline, "key count back to baseline");
    }),
  );

  it(
    "rejects an empty id and a ttl below 1 ms",
    withBackend(async ({ stores: [a] }) => {
      await assert.rejects(a.create("", { owner: "n", ttl: 1000 }), SessionStoreArgumentError);
      await assert.rejects(a.create("x", { owner: "n", ttl: 0 }), SessionStoreArgumentError);
      await assert.rejects(a.touch("x", Number.NaN), SessionStoreArgumentError);
      assert.equal(await a.create("x", { owner: "n", ttl: 1 }), true, "1 ms is the smallest ttl");
      await a.delete("x");
    }),
  );

  it(
    "keeps ids apart, including ids with braces",
    withBackend(async ({ stores: [a, b] }) => {
      await a.create("id{1}", { owner: "a", ttl: 60000 });
      await a.create("id%7b1%7d", { owner: "b", ttl: 60000 });
      assert.equal(await b.owner("id{1}"), "a");
      assert.equal(await b.owner("id%7b1%7d"), "b");
      await a.delete("id{1}");
      await a.delete("id%7b1%7d");
    }),
  );

  it(
    "moves a record to a new owner only from the owner named (compare and set)",
    withBackend(async ({ stores: [a, b] }) => {
      await a.create("moved", { owner: "node-a", ttl: 1000, data: { at: "http://a" } });
      const to = (from: string, owner: string, data?: Record<string, unknown>) => ({
        from,
        owner,
        ttl: 60000,
        data,
      });
      assert.equal(await b.claim("moved", to("node-x", "node-b")), false, "wrong owner");
      assert.equal(await b.owner("moved"), "node-a");
      assert.equal(await b.claim("moved", to("node-a", "node-b", { at: "http://b" })), true);
      const record = await a.get("moved");
      assert.equal(record?.owner, "node-b");
      assert.deepEqual(record?.data, { at: "http://b" }, "data set in the same step");
      assert.ok((record?.expiresAt ?? 0) > Date.now() + 50000, "clock restarted with ttl");
      assert.equal(await a.claim("moved", to("node-a", "node-c")), false, "already moved");
      assert.equal(await a.get("moved").then((r) => r?.data.at), "http://b", "data untouched");
      assert.equal(await a.claim("absent", to("node-a", "node-c")), false, "no record");
      assert.equal(await a.get("absent"), undefined, "a failed claim creates nothing");
      await a.delete("moved");
    }),
  );

  it(
    "lets exactly one of many concurrent claims of one record win",
    withBackend(async ({ stores: [a, b] }) => {
      await a.create("taken", { owner: "dead", ttl: 60000 });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? a : b).claim("taken", { from: "dead", owner: `node-${i}`, ttl: 60000 }),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await a.owner("taken"), `node-${results.indexOf(true)}`);
      await a.delete("taken");
    }),
  );

  it(
    "deletes with an owner only while that node owns the record",
    withBackend(async ({ stores: [a, b], keyCount }) => {
      await a.create("owned", { owner: "node-a", ttl: 60000 });
      await b.claim("owned", { from: "node-a", owner: "node-b", ttl: 60000 });
      assert.equal(await a.delete("owned", { owner: "node-a" }), false, "no longer node-a's");
      assert.equal(await a.owner("owned"), "node-b");
      assert.equal(await b.delete("owned", { owner: "node-b" }), true);
      assert.equal(await a.get("owned"), undefined);
      assert.equal(await keyCount(), 0);
    }),
  );
}
