/** The contract every idempotency backend passes; run by idempotency.test.ts per backend. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { type Idempotency, IdempotencyArgumentError } from "../../src/cluster/index.js";

/** Two nodes' views of one backend, and how many claims the run left in it. */
export interface IdempotencyBackend {
  claims: [Idempotency, Idempotency];
  /** Claims (keys) of this run still held by the backend. */
  held(): Promise<number>;
  close(): Promise<void>;
}

export function idempotencyContract(make: () => Promise<IdempotencyBackend>): void {
  const withBackend = (fn: (b: IdempotencyBackend) => Promise<void>) => async () => {
    const backend = await make();
    try {
      await fn(backend);
    } finally {
      await backend.close();
    }
  };

  it(
    "lets the first claim of a key win on any node, and only the first",
    withBackend(async ({ claims: [a, b] }) => {
      assert.equal(await a.claim("client-1", "1", 60000), true);
      assert.equal(await a.claim("client-1", "1", 60000), false, "a repeat on the same node");
      assert.equal(await b.claim("client-1", "1", 60000), false, "a repeat on another node");
      assert.equal(await b.claim("client-1", "2", 60000), true, "another id");
      assert.equal(await b.claim("client-2", "1", 60000), true, "another client's same id");
    }),
  );

  it(
    "lets exactly one of many concurrent claims of one key win",
    withBackend(async ({ claims: [a, b] }) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim("contested", "7", 60000)),
      );
      assert.equal(results.filter(Boolean).length, 1);
    }),
  );

  it(
    "forgets a claim after its window, or when released",
    withBackend(async ({ claims: [a, b], held }) => {
      const claimedAt = Date.now();
      assert.equal(await a.claim("c", "short", 30), true);
      assert.equal(await b.claim("c", "short", 30), false);
      let again = false;
      while (!again && Date.now() - claimedAt < 5000) {
        again = await b.claim("c", "short", 60000);
        if (!again) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(again, "claimable again once the window passed");
      // A few ms of slack: Redis keeps its own clock.
      assert.ok(Date.now() - claimedAt >= 25, "not before its window");
      await b.release("c", "short");
      assert.equal(await a.claim("c", "short", 60000), true, "claimable again once released");
      await a.release("c", "short");
      assert.equal(await held(), 0, "nothing left");
    }),
  );

  it(
    "refuses an empty scope or id and a window below 1 ms",
    withBackend(async ({ claims: [a] }) => {
      for (const call of [
        () => a.claim("", "1", 1000),
        () => a.claim("c", "", 1000),
        () => a.claim("c", "1", 0),
      ]) {
        await assert.rejects(async () => call(), IdempotencyArgumentError);
      }
    }),
  );
}
