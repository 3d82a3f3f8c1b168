import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { useCompactListenerTable } from "../../src/shared/listener-table.js";

describe("useCompactListenerTable", () => {
  it("keeps an emitter's behaviour: listeners, inherited names, removal", () => {
    const emitter = new EventEmitter();
    const seen: string[] = [];
    emitter.on("before", () => seen.push("before"));
    useCompactListenerTable(emitter);
    useCompactListenerTable(emitter); // a second call changes nothing
    emitter.on("toString", () => seen.push("toString"));
    const once = () => seen.push("once");
    emitter.once("constructor", once);
    assert.equal(emitter.listenerCount("hasOwnProperty"), 0, "no inherited keys");
    assert.equal(emitter.emit("valueOf"), false);
    assert.deepEqual(emitter.eventNames(), ["before", "toString", "constructor"]);
    emitter.emit("before");
    emitter.emit("toString");
    emitter.emit("constructor");
    emitter.emit("constructor");
    assert.deepEqual(seen, ["before", "toString", "once"]);
    emitter.removeAllListeners("before");
    emitter.removeAllListeners("toString");
    assert.deepEqual(emitter.eventNames(), []);
    emitter.on("after", () => seen.push("after"));
    emitter.emit("after");
    assert.deepEqual(seen.at(-1), "after");
    assert.throws(() => emitter.emit("error", new Error("boom")), /boom/);
  });
});
