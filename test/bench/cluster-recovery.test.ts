/**
 * The set-up scenario `cluster-fanout-recovery`: two built Switchboard nodes
 * on one `RedisBroker` (REDIS_URL), the fan-out split over them, with
 * connection state recovery off and on across the nodes (Redis message log
 * and session store). A tiny run checks the figures; on the wire, a broadcast
 * published on node 1 reaches a receiver of each node with the same log
 * offset (`<epoch>.<ms>-<n>`) as its last argument, read from the run's Redis
 * stream, and with recovery off carries none. Without Redis or a build the
 * runs are skipped, except under CI=true where they fail.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import WebSocket from "ws";
import { ROOT, ServerProcess } from "../../bench/lib/child.js";
import { runPrefix } from "../../bench/lib/cluster-runner.js";
import { FULL, parseOptions, QUICK } from "../../bench/lib/options.js";
import { isSetupScenario, runsScenario, type ServerConfig } from "../../bench/lib/protocol.js";
import { checkReachable, deleteKeys, redisUrl } from "../../bench/lib/redis-proxy.js";
import { checkTargets, type Summary, tableRows } from "../../bench/lib/report.js";
import { runOnce } from "../../bench/lib/runner.js";
import { compareSetups } from "../../bench/lib/setup-runner.js";
import { until } from "../socketio/raw-clients.js";
import { assertOffOnRun } from "./two-node-setups.js";

const REDIS = redisUrl();
const redisUp = await checkReachable(REDIS).then(
  () => true,
  () => false,
);
const built = existsSync(resolve(ROOT, "dist/cluster/redis.js"));
if ((!redisUp || !built) && process.env.CI === "true") {
  throw new Error(
    `the cluster recovery bench tests must run under CI=true: ${redisUp ? "" : `Redis unreachable at ${REDIS}; `}${built ? "" : "no dist/ build"}`,
  );
}
const cannotRun = !redisUp
  ? `Redis unreachable at ${REDIS}`
  : !built
    ? "no dist/ build (npm run build)"
    : false;

/** A Redis log offset: `<epoch>.<stream entry id>`, the id being `<ms>-<n>`. */
const OFFSET = /^[^.]+\.\d+-\d+$/;

describe("cluster-fanout-recovery against the built Switchboard on Redis", {
  skip: cannotRun,
}, () => {
  it("runs a tiny cluster fan-out with recovery off, then on across the nodes", {
    timeout: 60_000,
  }, async () => {
    const params = {
      ...QUICK["cluster-fanout-recovery"],
      clients: 20,
      durationMs: 1000,
      warmupMs: 200,
    };
    const record = await runOnce("switchboard", "cluster-fanout-recovery", params, 1);
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assertOffOnRun(m, 20 * 20);
    const rows = tableRows({ "cluster-fanout-recovery": { switchboard: m } }, ["switchboard"]);
    const ratioRow = rows.find((row) => row[1].startsWith("server CPU per delivery, recovery on"));
    assert.equal(ratioRow?.[2], m.cpuRatio.toFixed(2));
    const checks = checkTargets({ "cluster-fanout-recovery": { switchboard: m } });
    assert.ok(checks.some((line) => /^(PASS|FAIL) +cluster fan-out CPU with recovery/.test(line)));
  });

  describe("on the wire", () => {
    const prefixes: string[] = [];
    after(() => Promise.all(prefixes.map((prefix) => deleteKeys(REDIS, prefix))));

    /** Two nodes of the scenario on one fresh prefix, recovery across them or off. */
    async function startNodes(
      recovery: boolean,
    ): Promise<{ nodes: ServerProcess[]; prefix: string }> {
      const prefix = runPrefix();
      prefixes.push(prefix);
      const nodes: ServerProcess[] = [];
      try {
        for (const nodeId of ["node1", "node2"]) {
          const config: ServerConfig = {
            scenario: "cluster-fanout-recovery",
            cluster: { nodeId, redisUrl: REDIS, prefix },
            ...(recovery ? { recovery: { log: "cluster", redisUrl: REDIS, prefix } } : {}),
          };
          nodes.push(await ServerProcess.start("switchboard", config));
        }
        return { nodes, prefix };
      } catch (error) {
        await Promise.all(nodes.map((node) => node.stop()));
        throw error;
      }
    }

    /**
     * Publishes `{ n }` on node 1 (n = 1, 2, …) until a receiver on each node got the same
     * one (node 2's receiver counts for node 1 only once the broker told it); returns the
     * arguments each receiver got with the first such broadcast.
     */
    async function broadcast(nodes: ServerProcess[]): Promise<unknown[][]> {
      const received: unknown[][][] = [[], []];
      const sockets = await Promise.all(
        nodes.map((node, i) => socketIo(node.port, "rx", (args) => received[i].push(args))),
      );
      const controller = await socketIo(nodes[0].port, "ctl", () => {});
      sockets.push(controller);
      const numberOf = (args: unknown[]): number => (args[1] as { n: number }).n;
      const common = (): number | undefined => {
        const second = new Set(received[1].map(numberOf));
        return received[0].map(numberOf).find((n) => second.has(n));
      };
      let sent = 0;
      let sentAt = 0;
      try {
        await until(
          () => {
            if (common() !== undefined) return true;
            if (Date.now() - sentAt >= 200) {
              sentAt = Date.now();
              controller.send(`42${JSON.stringify(["pub", { n: ++sent }])}`);
            }
            return false;
          },
          10_000,
          "a broadcast on both nodes",
        );
        const n = common();
        return received.map((list) => list.find((args) => numberOf(args) === n) ?? []);
      } finally {
        for (const socket of sockets) socket.terminate();
      }
    }

    it("with recovery on, every node delivers the broadcast with its log offset", {
      timeout: 30_000,
    }, async () => {
      const { nodes, prefix } = await startNodes(true);
      try {
        const [first, second] = await broadcast(nodes);
        for (const args of [first, second]) {
          const [event, data, ...rest] = args;
          assert.equal(event, "m");
          assert.deepEqual(Object.keys(data as object), ["n"]);
          assert.equal(rest.length, 1, "the offset is the last argument");
          assert.match(String(rest[0]), OFFSET);
        }
        assert.equal(first.at(-1), second.at(-1), "one offset, read by both nodes from one log");
        const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
        try {
          const [, keys] = await redis.scan("0", "MATCH", `${prefix}log:*`, "COUNT", 1000);
          const streams = keys.filter((key) => !key.endsWith(":meta"));
          assert.equal(streams.length, 1, `one stream under ${prefix}: ${keys.join(", ")}`);
          assert.ok((await redis.xlen(streams[0])) >= 1);
        } finally {
          redis.disconnect();
        }
      } finally {
        await Promise.all(nodes.map((node) => node.stop()));
      }
    });

    it("with recovery off, the broadcast carries no offset", { timeout: 30_000 }, async () => {
      const { nodes } = await startNodes(false);
      try {
        const [first, second] = await broadcast(nodes);
        assert.equal(first.length, 2, "event and data, no offset");
        assert.deepEqual(first, second);
      } finally {
        await Promise.all(nodes.map((node) => node.stop()));
      }
    });
  });
});

/** A raw Socket.IO websocket client of the bench application; resolves once the namespace is joined. */
function socketIo(
  port: number,
  role: string,
  onEvent: (args: unknown[]) => void,
): Promise<WebSocket> {
  const ws = new WebSocket(
    `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&role=${role}`,
  );
  return new Promise((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (raw: Buffer) => {
      const packet = raw.toString();
      if (packet.startsWith("0")) ws.send("40");
      else if (packet === "2") ws.send("3");
      else if (packet.startsWith("40")) resolve(ws);
      else if (packet.startsWith("42")) onEvent(JSON.parse(packet.slice(2)) as unknown[]);
    });
  });
}

describe("cluster-fanout-recovery comparisons and options", () => {
  it("compares on against off within a rep", () => {
    assert.deepEqual(
      compareSetups("cluster-fanout-recovery", {
        cpuPer100kOff: 2,
        cpuPer100kOn: 2.5,
        p50MsOff: 3,
        p50MsOn: 4,
        p99MsOff: 10,
        p99MsOn: 12.5,
      }),
      { cpuRatio: 1.25, p50DeltaMs: 1, p99DeltaMs: 2.5 },
    );
  });

  it("checks the CPU target (≤ 1.25× recovery off)", () => {
    const summary: Summary = { "cluster-fanout-recovery": { switchboard: { cpuRatio: 1.3 } } };
    assert.ok(
      checkTargets(summary).includes(
        "FAIL  cluster fan-out CPU with recovery across nodes ≤ 1.25× recovery off (measured 1.30 ×)",
      ),
    );
  });

  it("runs by default, on switchboard only, at the cluster fan-out's size", () => {
    const scenario = "cluster-fanout-recovery";
    assert.ok(isSetupScenario(scenario));
    assert.ok(parseOptions([], {}).scenarios.includes(scenario));
    assert.deepEqual(
      (["switchboard", "socketio", "ws", "switchboard-bayeux", "faye"] as const).filter((t) =>
        runsScenario(t, scenario),
      ),
      ["switchboard"],
    );
    assert.deepEqual(FULL[scenario], FULL["cluster-fanout"]);
    assert.ok(QUICK[scenario].durationMs < FULL[scenario].durationMs);
  });
});
