/**
 * The package's public entry points, as an application imports them: the Socket.IO server is
 * built on exactly the public engine (`io.engine` is a `switchboard/engine` Server), and every
 * subpath export resolves to the built `dist/` with its types.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { io as connect } from "socket.io-client";
import { Server as EngineServer, Socket as EngineSocket } from "../../src/engine/index.js";
import { Server } from "../../src/index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as {
  exports: Record<string, string | { types: string; default: string }>;
};

describe("public entry points", () => {
  it("io.engine is the public switchboard/engine Server, and its sockets are engine Sockets", async () => {
    const http = createServer();
    const io = new Server(http);
    assert.ok(io.engine instanceof EngineServer);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    const seen = new Promise<unknown>((resolve) => io.engine.once("connection", resolve));
    const client = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
    const socket = await new Promise<import("../../src/index.js").Socket>((resolve) =>
      io.once("connection", resolve),
    );
    const engineSocket = await seen;
    assert.ok(engineSocket instanceof EngineSocket);
    assert.equal(socket.conn, engineSocket);
    assert.equal(io.engine.clientsCount, 1);
    client.close();
    await io.close();
  });

  it("every subpath export points into dist/ with types, and the build produced them", () => {
    const built = existsSync(`${root}dist/index.js`);
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === "string") continue;
      // "default" is matched by both `import` and `require` (Node's require(esm)).
      assert.deepEqual(Object.keys(target), ["types", "default"], name);
      assert.match(target.default, /^\.\/dist\/.+\.js$/, name);
      assert.match(target.types, /^\.\/dist\/.+\.d\.ts$/, name);
      // `npm test` builds before running the tests; a bare test run may not have.
      if (built) {
        assert.ok(existsSync(`${root}${target.default}`), `${name}: ${target.default} missing`);
        assert.ok(existsSync(`${root}${target.types}`), `${name}: ${target.types} missing`);
      }
    }
  });

  it("the built entry points load and export what the README promises", async () => {
    if (!existsSync(`${root}dist/index.js`)) return assert.fail("run `npm run build` first");
    const main = await import(`${root}dist/index.js`);
    assert.equal(typeof main.Server, "function");
    const engine = await import(`${root}dist/engine/index.js`);
    assert.equal(typeof engine.Server, "function");
    assert.equal(typeof engine.PreparedMessage, "function");
    const bayeux = await import(`${root}dist/bayeux/index.js`);
    assert.equal(typeof bayeux.BayeuxServer, "function");
    const client = await import(`${root}dist/bayeux/client/index.js`);
    assert.equal(typeof client.BayeuxClient, "function");
    const node = await import(`${root}dist/mount/node.js`);
    assert.equal(typeof node.attachSwitchboard, "function");
    assert.equal(typeof main.Health, "function");
    const health = await import(`${root}dist/ops/health.js`);
    assert.equal(health.Health, main.Health, "switchboard/health is the main entry's Health");
  });
});
