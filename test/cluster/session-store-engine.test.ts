/**
 * Engine.IO on the session store: a handshake records the sid (owner = this
 * node), a close removes it, a sid held by another node is looked up (and
 * still refused with 400 "Session ID unknown"), and a Redis store ends with
 * no key left. Modules are imported after the debug sink is set, so the
 * owner line can be read.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import type { SessionStore } from "../../src/cluster/session-store.js";
import { configureDebug } from "../../src/shared/debug.js";
import { until } from "../socketio/raw-clients.js";

const lines: string[] = [];
configureDebug({ SWITCHBOARD_DEBUG: "engine:sessions" }, (line) => lines.push(line));
const { MemorySessionStore } = await import("../../src/cluster/memory-session-store.js");
const { closeRedis, connectRedis } = await import("../../src/cluster/redis-keys.js");
const { RedisSessionStore } = await import("../../src/cluster/redis-session-store.js");
const { startEngine, handshake, rawRequest } = await import("../engine/helpers.js");
const { Server } = await import("../../src/engine/index.js");
const { countKeys, REDIS_URL, redisSkip, uniquePrefix, eventually } = await import(
  "../helpers/redis-server.js"
);

/** A store answering only through promises (as a networked one), counting calls. */
class AsyncStore implements SessionStore {
  readonly inner = new MemorySessionStore();
  readonly calls: string[] = [];
  refuseCreate = false;
  create(id: string, o: Parameters<SessionStore["create"]>[1]) {
    this.calls.push("create");
    return this.refuseCreate ? Promise.resolve(false) : this.inner.create(id, o);
  }
  get(id: string) {
    this.calls.push("get");
    return this.inner.get(id);
  }
  owner(id: string) {
    this.calls.push("owner");
    return this.inner.owner(id);
  }
  touch(id: string, ttl: number) {
    this.calls.push("touch");
    return this.inner.touch(id, ttl);
  }
  update(id: string, patch: Record<string, unknown>) {
    return this.inner.update(id, patch);
  }
  claim(id: string, o: Parameters<SessionStore["claim"]>[1]) {
    return this.inner.claim(id, o);
  }
  delete(id: string) {
    this.calls.push("delete");
    return this.inner.delete(id);
  }
  close() {
    return this.inner.close();
  }
}

describe("engine on the session store", () => {
  it("records a polling session's sid with this node as owner and deletes it at close", async () => {
    const store = new MemorySessionStore();
    const t = await startEngine({ sessionStore: store, nodeId: "node-a" });
    try {
      const { sid } = await handshake(t.port);
      assert.equal(store.getNow(sid)?.owner, "node-a");
      assert.equal(t.engine.nodeId, "node-a");
      t.engine.clients[sid].close();
      assert.equal(store.has(sid), false);
    } finally {
      await t.close();
    }
  });

  it("records a direct websocket session and forgets a refused one", async () => {
    const store = new AsyncStore();
    const t = await startEngine({
      sessionStore: store,
      maxConnections: 1,
      transports: ["websocket"],
    });
    try {
      // Two at once both pass verification; the second past maxConnections is closed with 1013.
      const url = `ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`;
      const sockets = [new WebSocket(url), new WebSocket(url)];
      const outcomes = await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<string>((resolve) => {
              ws.on("message", () => resolve("open"));
              ws.on("close", (code) => resolve(`closed ${code}`));
              ws.on("error", () => resolve("refused"));
            }),
        ),
      );
      assert.equal(outcomes.filter((o) => o === "open").length, 1, outcomes.join());
      const [sid] = Object.keys(t.engine.clients);
      assert.equal(await store.owner(sid), t.engine.nodeId);
      await eventually(async () => store.inner.size === 1, "only the open session recorded");
      for (const ws of sockets) ws.close();
      await until(() => t.engine.clientsCount === 0, 5000, "close");
      await eventually(async () => store.inner.size === 0, "the record to go");
    } finally {
      await t.close();
    }
  });

  it("asks the store about a sid it does not hold, names the owner, and answers 400", async () => {
    const shared = new AsyncStore();
    const a = await startEngine({ sessionStore: shared, nodeId: "node-a" });
    const b = await startEngine({ sessionStore: shared, nodeId: "node-b" });
    try {
      const { sid } = await handshake(a.port);
      shared.calls.length = 0;
      const res = await rawRequest(b.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { code: 1, message: "Session ID unknown" });
      assert.deepEqual(shared.calls, ["owner"]);
      assert.ok(
        lines.some((l) => l.includes(`session ${sid} is owned by node node-a`)),
        "a debug line names the owner",
      );
      const local = await rawRequest(a.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: "POST",
        body: "4hello",
      });
      assert.equal(local.status, 200, "the owner answers from its own table");
      assert.deepEqual(shared.calls, ["owner"], "a local session costs no store call");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses a handshake whose id the store already holds", async () => {
    const store = new AsyncStore();
    store.refuseCreate = true;
    const t = await startEngine({ sessionStore: store });
    try {
      const res = await rawRequest(t.port, "/engine.io/?EIO=4&transport=polling");
      assert.equal(res.status, 400);
      assert.equal(t.engine.clientsCount, 0);
    } finally {
      await t.close();
    }
  });

  it("refreshes the records of its live sessions", async () => {
    const store = new AsyncStore();
    const t = await startEngine({ sessionStore: store, sessionStoreTtl: 60 });
    try {
      const { sid } = await handshake(t.port);
      await eventually(async () => store.calls.filter((c) => c === "touch").length >= 2, "touches");
      assert.ok(store.inner.has(sid), "alive well past its 60 ms ttl");
    } finally {
      await t.close();
    }
    assert.throws(() => new Server({ sessionStoreTtl: 0 }), /sessionStoreTtl/);
  });
});

describe("engine on the Redis session store", { skip: await redisSkip() }, () => {
  let redis: Awaited<ReturnType<typeof connectRedis>>;
  before(async () => {
    redis = await connectRedis({ url: REDIS_URL });
  });
  after(async () => {
    if (redis) await closeRedis(redis);
  });

  it("leaves no key once its sessions closed", async () => {
    const prefix = uniquePrefix("engine");
    const t = await startEngine({ sessionStore: new RedisSessionStore(redis, { prefix }) });
    try {
      const sessions = await Promise.all([handshake(t.port), handshake(t.port), handshake(t.port)]);
      assert.equal(await countKeys([REDIS_URL], prefix), 3);
      for (const { sid } of sessions) t.engine.clients[sid].close();
      await eventually(async () => (await countKeys([REDIS_URL], prefix)) === 0, "keys to go");
    } finally {
      await t.close();
    }
  });
});
