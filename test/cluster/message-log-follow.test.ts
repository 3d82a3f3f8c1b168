/**
 * A Redis log follower across Redis restarts, on servers started here: one
 * that persists every write (append-only file, fsync always) keeps the
 * stream, and the follower carries on with no gap and no duplicate; one
 * without persistence comes back empty, and the follower is told `gap`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { closeRedis, connectRedis, type RedisConnection } from "../../src/cluster/redis-keys.js";
import { RedisMessageLog } from "../../src/cluster/redis-message-log.js";
import { CLIENT_LINES } from "../helpers/redis-clients.js";
import {
  eventually,
  type RedisProcess,
  rawCommand,
  redisSkip,
  startRedis,
  uniquePrefix,
} from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";
import { followed } from "./message-log-follow-contract.js";

const PERSISTENT = ["--appendonly", "yes", "--appendfsync", "always"];

/** Clients connected to the server on `port` (the probe's own included). */
async function connectedClients(port: number): Promise<number> {
  const info = await rawCommand(port, "INFO clients");
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
}

/** Appends, retrying while the writer's connection comes back. */
async function appendSoon(log: RedisMessageLog, stream: string, text: string): Promise<string> {
  let offset = "";
  await eventually(
    async () => {
      offset = await log.append(stream, Buffer.from(text));
      return true;
    },
    `append of ${text}`,
    10_000,
  );
  return offset;
}

const describeText = (events: Array<{ payload: Buffer } | "gap">) =>
  events.map((e) => (e === "gap" ? e : e.payload.toString()));

describe("redis log follower across restarts", { skip: await redisSkip("cluster") }, () => {
  for (const line of CLIENT_LINES) {
    describe(line.name, () => {
      let server: RedisProcess;
      let redis: RedisConnection;
      before(async () => {
        server = await startRedis(PERSISTENT);
        redis = await connectRedis({ url: server.url }, { library: line.library });
      });
      after(async () => {
        if (redis) await closeRedis(redis);
        await server?.stop();
      });

      it("closes its own connection at once, though blocked in XREAD", async () => {
        const log = new RedisMessageLog(redis, { prefix: uniquePrefix("follow-close") });
        const idle = await connectedClients(server.port);
        const f = await followed(log, "quiet");
        assert.equal(await connectedClients(server.port), idle + 1, "one connection per follower");
        const start = Date.now();
        f.follower.close();
        await eventually(
          async () => (await connectedClients(server.port)) === idle,
          "the follower's connection to close",
          1000,
        );
        assert.ok(Date.now() - start < 1000);
      });

      it("carries on after a restart of a persisting Redis: no gap, no duplicate", async () => {
        const log = new RedisMessageLog(redis, { prefix: uniquePrefix("follow-aof") });
        const f = await followed(log, "kept");
        try {
          for (const word of ["one", "two", "three"]) await log.append("kept", Buffer.from(word));
          await until(() => f.entries().length === 3, 5000, "three entries followed");
          await server.kill();
          await server.start();
          await appendSoon(log, "kept", "four");
          await until(() => f.entries().length >= 4, 10_000, "the entry after the restart");
          assert.deepEqual(describeText(f.events), ["one", "two", "three", "four"]);
          assert.equal(f.follower.position, f.entries()[3].offset);
        } finally {
          f.follower.close();
        }
      });

      it("tells gap when entries were trimmed before it read them, then goes on", async () => {
        const log = new RedisMessageLog(redis, {
          prefix: uniquePrefix("follow-trim"),
          maxLength: 2,
        });
        const f = await followed(log, "trimmed");
        try {
          await log.append("trimmed", Buffer.from("1"));
          await until(() => f.entries().length === 1, 5000, "the first entry followed");
          // Cut the follower's connection: it is away for its backoff while five more come.
          const clients = await rawCommand(server.port, "CLIENT LIST");
          const id = /id=(\d+) [^\n]*cmd=xread/.exec(clients)?.[1];
          assert.ok(id, "the follower's blocked XREAD");
          await rawCommand(server.port, `CLIENT KILL ID ${id}`);
          for (const word of ["2", "3", "4", "5"]) await log.append("trimmed", Buffer.from(word));
          await until(() => f.entries().length === 3, 10_000, "the kept entries followed");
          assert.deepEqual(describeText(f.events), ["1", "gap", "4", "5"]);
        } finally {
          f.follower.close();
        }
      });

      it("tells gap after a Redis came back empty, then follows the new epoch", async () => {
        const volatile = await startRedis();
        const client = await connectRedis({ url: volatile.url }, { library: line.library });
        const log = new RedisMessageLog(client, { prefix: uniquePrefix("follow-lost") });
        const f = await followed(log, "lost");
        try {
          const old = await log.append("lost", Buffer.from("old"));
          await until(() => f.entries().length === 1, 5000, "the old entry followed");
          await volatile.kill();
          await volatile.start();
          await until(() => f.events.includes("gap"), 10_000, "gap after the empty restart");
          const fresh = await appendSoon(log, "lost", "new");
          await until(() => f.entries().length === 2, 10_000, "the new entry followed");
          assert.deepEqual(describeText(f.events), ["old", "gap", "new"]);
          assert.equal(f.follower.position, fresh);
          assert.equal(log.compare(old, fresh), undefined, "a new epoch");
        } finally {
          f.follower.close();
          await closeRedis(client);
          await volatile.stop();
        }
      });
    });
  }
});

describe("redis log follower latency", { skip: await redisSkip("cluster") }, () => {
  it("hands over an append made on another connection within a few ms", async (t) => {
    const server = await startRedis();
    const writer = await connectRedis({ url: server.url });
    const reader = await connectRedis({ url: server.url });
    const prefix = uniquePrefix("follow-latency");
    const arrived: number[] = [];
    const follower = new RedisMessageLog(reader, { prefix }).follow("fast", {
      entries: (batch) => {
        for (const _ of batch) arrived.push(performance.now());
      },
    });
    await follower.ready;
    try {
      const log = new RedisMessageLog(writer, { prefix });
      const delays: number[] = [];
      for (let i = 0; i < 20; i++) {
        const start = performance.now();
        await log.append("fast", Buffer.from(String(i)));
        await until(() => arrived.length === i + 1, 2000, `entry ${i}`);
        delays.push(arrived[i] - start);
      }
      delays.sort((x, y) => x - y);
      t.diagnostic(
        `append to hand-over: median ${delays[10].toFixed(2)} ms, max ${delays[19].toFixed(2)} ms`,
      );
      assert.ok(delays[10] < 10, `median ${delays[10].toFixed(1)} ms`);
    } finally {
      follower.close();
      await closeRedis(writer);
      await closeRedis(reader);
      await server.stop();
    }
  });
});
