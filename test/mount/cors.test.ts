/**
 * The mount-level `cors` option in the Bayeux server's shape: the same
 * origins as engine.io allows (string, list, RegExp, `*`, callback),
 * credentials only when asked for, the preflight lifetime kept.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BayeuxCorsOptions } from "../../src/bayeux/index.js";
import { toBayeuxCors } from "../../src/mount/cors.js";

/** Whether a converted origin rule allows `origin`. */
function allows(rule: BayeuxCorsOptions["origin"], origin: string): boolean {
  if (typeof rule === "function") return rule(origin);
  if (typeof rule === "string") return rule === origin;
  if (Array.isArray(rule)) return rule.includes(origin);
  return rule === true;
}

const A = "https://a.example";
const B = "https://b.example";

describe("toBayeuxCors", () => {
  it("keeps booleans, strings and string lists, with credentials off unless asked", () => {
    assert.deepEqual(toBayeuxCors({ origin: false }), { origin: false, credentials: false });
    assert.deepEqual(toBayeuxCors({ origin: true, credentials: true }), {
      origin: true,
      credentials: true,
    });
    assert.deepEqual(toBayeuxCors({ origin: A }), { origin: A, credentials: false });
    assert.deepEqual(toBayeuxCors({ origin: [A, B], maxAge: 600 }), {
      origin: [A, B],
      credentials: false,
      maxAge: 600,
    });
  });

  it("answers every origin for '*' or no origin, as engine.io does", () => {
    assert.equal(toBayeuxCors({ origin: "*" }).origin, true);
    assert.equal(toBayeuxCors({}).origin, true);
    // In a list "*" is a plain origin for engine.io too.
    assert.equal(allows(toBayeuxCors({ origin: ["*"] }).origin, A), false);
  });

  it("turns RegExps, alone or in a list, into a predicate", () => {
    const global = /^https:\/\/a\./g;
    const alone = toBayeuxCors({ origin: global }).origin;
    // A global RegExp keeps lastIndex between tests; each check starts afresh.
    assert.equal(allows(alone, A), true);
    assert.equal(allows(alone, A), true);
    assert.equal(allows(alone, B), false);
    const mixed = toBayeuxCors({ origin: [/^https:\/\/b\./, "https://c.example"] }).origin;
    assert.equal(allows(mixed, B), true);
    assert.equal(allows(mixed, "https://c.example"), true);
    assert.equal(allows(mixed, A), false);
  });

  it("asks an origin callback, denying on error, a late answer or a throw", () => {
    const sync = toBayeuxCors({ origin: (origin, cb) => cb(null, origin === A) }).origin;
    assert.equal(allows(sync, A), true);
    assert.equal(allows(sync, B), false);
    const named = toBayeuxCors({ origin: (_origin, cb) => cb(null, B) }).origin;
    assert.equal(allows(named, B), true);
    assert.equal(allows(named, A), false);
    const failing = toBayeuxCors({ origin: (_origin, cb) => cb(new Error("no"), true) }).origin;
    assert.equal(allows(failing, A), false);
    const late = toBayeuxCors({ origin: (_origin, cb) => void setImmediate(() => cb(null, true)) });
    assert.equal(allows(late.origin, A), false);
    const throwing = toBayeuxCors({
      origin: () => {
        throw new Error("boom");
      },
    }).origin;
    assert.equal(allows(throwing, A), false);
  });
});
