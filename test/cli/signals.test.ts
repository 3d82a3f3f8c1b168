/**
 * The shutdown policy without real signals: first signal shuts down and exits
 * 0 (1 when shutting down fails), a second one exits 1 at once.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { handleShutdownSignals } from "../../src/cli/signals.js";
import { recordingLogger } from "../helpers/recording-logger.js";

function setup(shutdown: () => Promise<void>) {
  const source = new EventEmitter();
  const exits: number[] = [];
  const { lines, logger } = recordingLogger();
  let exited: (code: number) => void = () => {};
  const firstExit = new Promise<number>((resolve) => (exited = resolve));
  handleShutdownSignals(
    source,
    shutdown,
    (code) => {
      exits.push(code);
      exited(code);
    },
    logger,
  );
  return { source, exits, lines, firstExit };
}

describe("handleShutdownSignals", () => {
  it("shuts down once and exits 0", { timeout: 5000 }, async () => {
    let calls = 0;
    const { source, exits, lines, firstExit } = setup(async () => {
      calls++;
    });
    source.emit("SIGTERM", "SIGTERM");
    assert.equal(await firstExit, 0);
    assert.equal(calls, 1);
    assert.deepEqual(exits, [0]);
    assert.deepEqual(lines, [
      "info: SIGTERM, shutting down signal=SIGTERM",
      "info: shutdown complete signal=SIGTERM",
    ]);
  });

  it("exits 1 at once on a second signal while shutting down", { timeout: 5000 }, async () => {
    const { source, exits, lines } = setup(() => new Promise<void>(() => {}));
    source.emit("SIGINT", "SIGINT");
    assert.deepEqual(exits, []);
    source.emit("SIGTERM", "SIGTERM");
    assert.deepEqual(exits, [1]);
    assert.equal(lines[1], "warn: SIGTERM again, exiting now signal=SIGTERM");
  });

  it("exits 1 when the shutdown fails", { timeout: 5000 }, async () => {
    const { source, lines, firstExit } = setup(() => Promise.reject(new Error("boom")));
    source.emit("SIGINT", "SIGINT");
    assert.equal(await firstExit, 1);
    assert.match(lines[1], /^error: shutdown failed: boom err=boom$/);
  });
});
