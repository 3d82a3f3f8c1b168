import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { configureDebug, createDebug, isDebugEnabled } from "../../src/shared/debug.js";

describe("debug logging", () => {
  it("is off by default and a disabled logger is a shared no-op", () => {
    configureDebug({});
    assert.equal(isDebugEnabled("engine"), false);
    const a = createDebug("engine");
    assert.equal(a.enabled, false);
    assert.equal(a, createDebug("socketio"));
  });

  it("SWITCHBOARD_DEBUG=1 enables every area, a list enables some", () => {
    configureDebug({ SWITCHBOARD_DEBUG: "1" });
    assert.equal(isDebugEnabled("engine:socket"), true);
    configureDebug({ SWITCHBOARD_DEBUG: "socketio" });
    assert.equal(isDebugEnabled("socketio:server"), true);
    assert.equal(isDebugEnabled("engine"), false);
    configureDebug({ SWITCHBOARD_DEBUG: "0" });
    assert.equal(isDebugEnabled("engine"), false);
  });

  it("DEBUG patterns with wildcards and exclusions", () => {
    configureDebug({ DEBUG: "switchboard:*,-switchboard:engine*" });
    assert.equal(isDebugEnabled("socketio:socket"), true);
    assert.equal(isDebugEnabled("engine:socket"), false);
    configureDebug({ DEBUG: "other:*" });
    assert.equal(isDebugEnabled("socketio"), false);
  });

  it("writes formatted lines with the namespace to the sink", () => {
    const lines: string[] = [];
    configureDebug({ SWITCHBOARD_DEBUG: "1" }, (line) => lines.push(line));
    createDebug("engine")("handshake %s", "abc");
    assert.equal(lines.length, 1);
    assert.match(lines[0], /switchboard:engine handshake abc$/);
    configureDebug({});
  });

  it("a server started with SWITCHBOARD_DEBUG=1 logs its handshakes to stderr", () => {
    const script = `
      import { createServer } from "node:http";
      import { Server } from "./src/index.ts";
      const http = createServer();
      const io = new Server(http);
      http.listen(0, "127.0.0.1", async () => {
        const { port } = http.address();
        const res = await fetch("http://127.0.0.1:" + port + "/socket.io/?EIO=4&transport=polling");
        await res.text();
        io.close();
      });`;
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        env: { ...process.env, SWITCHBOARD_DEBUG: "1", DEBUG: "" },
        encoding: "utf8",
        timeout: 20_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /switchboard:engine\S* /);
  });
});
