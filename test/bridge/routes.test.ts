/**
 * Bridge routes and payloads, pure: tables of room ⇄ channel mappings per
 * route shape, route checks with their codes, and the payload mapping with
 * binary detection.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  argsFromData,
  type BridgeRoute,
  BridgeRouteError,
  CompiledRoute,
  compileRoutes,
  dataFromArgs,
  findBinary,
} from "../../src/bridge/index.js";

const route = (r: Partial<BridgeRoute>) =>
  new CompiledRoute({ room: "lobby", event: "m", channel: "/chat/lobby", ...r }, 0);

describe("bridge routes", () => {
  it("maps rooms to channels", () => {
    const table: [Partial<BridgeRoute>, string, string | null][] = [
      [{}, "lobby", "/chat/lobby"],
      [{}, "other", null],
      [{ room: "*", channel: "/chat/*" }, "tea", "/chat/tea"],
      [{ room: "*", channel: "/chat/*" }, "tea room", null],
      [{ room: "*", channel: "/chat/*" }, "a/b", null],
      [{ room: "*", channel: "/chat/*" }, "~(x)$@!", "/chat/~(x)$@!"],
      [{ room: "*", channel: "/chat/**" }, "a/b", "/chat/a/b"],
      [{ room: "*", channel: "/chat/**" }, "a//b", null],
      [{ room: "chat:*", channel: "/chat/*" }, "chat:tea", "/chat/tea"],
      [{ room: "chat:*", channel: "/chat/*" }, "chat:", null],
      [{ room: "chat:*", channel: "/chat/*" }, "tea", null],
      [{ room: "<*>", channel: "/x/*" }, "<y>", "/x/y"],
      [{ room: "*", channel: "/**" }, "meta/connect", null],
      [{ room: "*", channel: "/**" }, "service/x", null],
      [{ room: "*", channel: "/**" }, "news/today", "/news/today"],
      [{ direction: "to-socketio" }, "lobby", null],
      [{ room: "all", channel: "/a/**", direction: "to-socketio" }, "all", null],
    ];
    for (const [shape, room, channel] of table) {
      assert.equal(route(shape).channelFor(room), channel, `${JSON.stringify(shape)} ${room}`);
    }
  });

  it("maps channels to rooms", () => {
    const table: [Partial<BridgeRoute>, string, string | null][] = [
      [{}, "/chat/lobby", "lobby"],
      [{}, "/chat/other", null],
      [{ room: "*", channel: "/chat/*" }, "/chat/tea", "tea"],
      [{ room: "*", channel: "/chat/*" }, "/chat/a/b", null],
      [{ room: "*", channel: "/chat/**" }, "/chat/a/b", "a/b"],
      [{ room: "chat:*", channel: "/chat/*" }, "/chat/tea", "chat:tea"],
      [{ room: "all", channel: "/a/**", direction: "to-socketio" }, "/a/b/c", "all"],
      [{ room: "all", channel: "/a/**", direction: "to-socketio" }, "/b", null],
      [{ direction: "to-bayeux" }, "/chat/lobby", null],
    ];
    for (const [shape, channel, room] of table) {
      assert.equal(route(shape).roomFor(channel), room, `${JSON.stringify(shape)} ${channel}`);
    }
  });

  it("refuses wrong routes with their codes and index", () => {
    const table: [Partial<BridgeRoute> | null, string][] = [
      [{ namespace: "chat" }, "ERR_BRIDGE_ROUTE_NAMESPACE"],
      [{ room: "" }, "ERR_BRIDGE_ROUTE_ROOM"],
      [{ room: "*:*", channel: "/a/*" }, "ERR_BRIDGE_ROUTE_ROOM"],
      [{ event: "" }, "ERR_BRIDGE_ROUTE_EVENT"],
      [{ event: "disconnecting" }, "ERR_BRIDGE_ROUTE_EVENT"],
      [{ channel: "chat" }, "ERR_BRIDGE_ROUTE_CHANNEL"],
      [{ channel: "/a/*/b" }, "ERR_BRIDGE_ROUTE_CHANNEL"],
      [{ channel: "/service/x" }, "ERR_BRIDGE_ROUTE_CHANNEL"],
      [{ channel: "/meta/**" }, "ERR_BRIDGE_ROUTE_CHANNEL"],
      [{ direction: "up" as never }, "ERR_BRIDGE_ROUTE_DIRECTION"],
      [{ room: "*" }, "ERR_BRIDGE_ROUTE_WILDCARD"],
      [{ channel: "/chat/*" }, "ERR_BRIDGE_ROUTE_WILDCARD"],
      [{ channel: "/chat/*", direction: "to-bayeux" }, "ERR_BRIDGE_ROUTE_WILDCARD"],
    ];
    for (const [shape, code] of table) {
      const ok = { room: "a", event: "m", channel: "/a" };
      assert.throws(
        () => compileRoutes([ok, { ...ok, ...shape } as BridgeRoute]),
        (err: unknown) => err instanceof BridgeRouteError && err.code === code && err.index === 1,
        `${JSON.stringify(shape)} → ${code}`,
      );
    }
    assert.throws(
      () =>
        compileRoutes([
          { room: "a", event: "m", channel: "/a" },
          { room: "a", event: "m", channel: "/a" },
        ]),
      (err: unknown) =>
        err instanceof BridgeRouteError && err.code === "ERR_BRIDGE_ROUTE_DUPLICATE",
    );
    assert.throws(
      () => compileRoutes([]),
      (err: unknown) =>
        err instanceof BridgeRouteError && err.code === "ERR_BRIDGE_OPTIONS" && err.index === -1,
    );
  });
});

describe("bridge payloads", () => {
  it("maps arguments and data", () => {
    assert.deepEqual(dataFromArgs(["x"]), "x");
    assert.deepEqual(dataFromArgs([["x"]]), ["x"]);
    assert.deepEqual(dataFromArgs([1, "2", { three: 3 }]), [1, "2", { three: 3 }]);
    assert.deepEqual(dataFromArgs([]), []);
    assert.deepEqual(argsFromData({ a: 1 }), [{ a: 1 }]);
    assert.deepEqual(argsFromData([1, 2]), [[1, 2]]);
  });

  it("finds binary anywhere, and treats nesting past the limit as binary", () => {
    assert.equal(findBinary(["text", { n: 1, list: [null, true] }]), null);
    assert.equal(findBinary([Buffer.from("x")]), "[0]");
    assert.equal(findBinary(["a", { file: new Uint8Array(2) }]), "[1].file");
    assert.equal(findBinary([{ deep: [[new ArrayBuffer(1)]] }]), "[0].deep[0][0]");
    assert.equal(findBinary([new Blob(["x"])]), "[0]");
    let deep: unknown = "leaf";
    for (let i = 0; i < 40; i++) deep = [deep];
    assert.match(findBinary(deep) ?? "", /nested past 32/);
  });
});
