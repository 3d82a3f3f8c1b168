/**
 * The forwarding module's pure parts: advertised addresses parsed and
 * derived from a listening address, and the option checked at construction.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BayeuxServer } from "../../src/bayeux/index.js";
import {
  advertiseFor,
  ForwardAddressError,
  parseAdvertise,
  wasForwarded,
} from "../../src/cluster/forward.js";
import { Server as EngineServer } from "../../src/engine/index.js";

describe("forwarding addresses", () => {
  it("parses http://host:port, IPv6 in brackets", () => {
    assert.deepEqual(parseAdvertise("http://10.0.0.5:3000"), { host: "10.0.0.5", port: 3000 });
    assert.deepEqual(parseAdvertise("http://[::1]:80"), { host: "::1", port: 80 });
    assert.deepEqual(parseAdvertise("http://node-a.internal:8080/"), {
      host: "node-a.internal",
      port: 8080,
    });
    assert.deepEqual(parseAdvertise("http://a"), { host: "a", port: 80 });
  });

  it("refuses anything else with ERR_FORWARD_ADDRESS", () => {
    for (const bad of [
      "10.0.0.5:3000",
      "https://a:1",
      "http://a:1/path",
      "http://a:1/?q",
      "nope",
    ]) {
      assert.throws(
        () => parseAdvertise(bad),
        (err: unknown) => err instanceof ForwardAddressError && err.code === "ERR_FORWARD_ADDRESS",
        bad,
      );
    }
  });

  it("derives the address from a listening one", () => {
    assert.equal(advertiseFor("127.0.0.1", 3000), "http://127.0.0.1:3000");
    assert.equal(advertiseFor("::1", 3000), "http://[::1]:3000");
    const wildcard = advertiseFor("0.0.0.0", 3000);
    assert.match(wildcard, /^http:\/\/\d+\.\d+\.\d+\.\d+:3000$/);
    assert.deepEqual(parseAdvertise(wildcard).port, 3000);
  });

  it("checks the option when a server is made", () => {
    assert.throws(
      () => new EngineServer({ forward: { advertise: "tcp://x:1" } }),
      ForwardAddressError,
    );
    assert.throws(() => new BayeuxServer({ forward: { advertise: "x" } }), ForwardAddressError);
    const engine = new EngineServer({ forward: { advertise: "http://10.0.0.5:3000" } });
    assert.equal(engine.advertise, "http://10.0.0.5:3000");
    engine.close();
  });

  it("knows a forwarded request by its header", () => {
    const req = (headers: Record<string, string>) => ({ headers }) as never;
    assert.equal(wasForwarded(req({ "x-switchboard-forwarded": "node-a" })), true);
    assert.equal(wasForwarded(req({})), false);
  });
});
