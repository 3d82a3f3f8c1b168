/**
 * The set-up scenario `bayeux-cluster-fanout-recovery`: two built Switchboard
 * Bayeux nodes on one `RedisBroker` (REDIS_URL), the Bayeux fan-out split over
 * them, with the channel log off and on (with the session store and ack log on
 * Redis, as the standalone server has them). A tiny run checks the figures; on
 * the wire, a publish of a client of node 1 reaches a subscriber of each node,
 * and with the channel log on it is one entry of the run's `bayeux/channels`
 * stream, written by node 1, while with it off that stream does not exist.
 * Without Redis or a build the runs are skipped, except under CI=true where
 * they fail.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { ROOT, ServerProcess } from "../../bench/lib/child.js";
import { runPrefix } from "../../bench/lib/cluster-runner.js";
import { FULL, parseOptions, QUICK } from "../../bench/lib/options.js";
import {
  BAYEUX_CHANNELS,
  BAYEUX_PATH,
  isSetupScenario,
  runsScenario,
  type ServerConfig,
} from "../../bench/lib/protocol.js";
import { checkReachable, deleteKeys, redisUrl } from "../../bench/lib/redis-proxy.js";
import { checkTargets, type Summary, tableFamily, tableRows } from "../../bench/lib/report.js";
import { runOnce } from "../../bench/lib/runner.js";
import { compareSetups } from "../../bench/lib/setup-runner.js";
import { BayeuxClient } from "../../bench/load/bayeux-client.js";
import { until } from "../socketio/raw-clients.js";
import { assertOffOnRun } from "./two-node-setups.js";

const SCENARIO = "bayeux-cluster-fanout-recovery";
const REDIS = redisUrl();
const redisUp = await checkReachable(REDIS).then(
  () => true,
  () => false,
);
const built =
  existsSync(resolve(ROOT, "dist/cluster/redis.js")) &&
  existsSync(resolve(ROOT, "dist/bayeux/index.js"));
if ((!redisUp || !built) && process.env.CI === "true") {
  throw new Error(
    `the Bayeux cluster recovery bench tests must run under CI=true: ${redisUp ? "" : `Redis unreachable at ${REDIS}; `}${built ? "" : "no dist/ build"}`,
  );
}
const cannotRun = !redisUp
  ? `Redis unreachable at ${REDIS}`
  : !built
    ? "no dist/ build (npm run build)"
    : false;

/**
 * The Redis stream of the channel log under `prefix` (RedisMessageLog's key of
 * `bayeux/channels`; each entry's payload is field `p`).
 */
const channelStream = (prefix: string): string => `${prefix}log:{bayeux/channels}`;

describe("bayeux-cluster-fanout-recovery against the built Switchboard on Redis", {
  skip: cannotRun,
}, () => {
  it("runs a tiny Bayeux cluster fan-out with the channel log off, then on", {
    timeout: 60_000,
  }, async () => {
    const params = { ...QUICK[SCENARIO], clients: 20, durationMs: 1000, warmupMs: 200 };
    const record = await runOnce("switchboard", SCENARIO, params, 1);
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assertOffOnRun(m, 20 * 20);
    const rows = tableRows({ [SCENARIO]: { switchboard: m } }, ["switchboard"]);
    const ratioRow = rows.find((row) => row[1].startsWith("server CPU per delivery, channel log"));
    assert.equal(ratioRow?.[2], m.cpuRatio.toFixed(2));
    const checks = checkTargets({ [SCENARIO]: { switchboard: m } });
    assert.ok(
      checks.some((line) =>
        /^(PASS|FAIL) +Bayeux cluster fan-out CPU with the channel log/.test(line),
      ),
    );
  });

  describe("on the wire", () => {
    const prefixes: string[] = [];
    after(() => Promise.all(prefixes.map((prefix) => deleteKeys(REDIS, prefix))));

    /** Two Bayeux nodes of the scenario on one fresh prefix, the channel log on or off. */
    async function startNodes(
      logged: boolean,
    ): Promise<{ nodes: ServerProcess[]; prefix: string }> {
      const prefix = runPrefix();
      prefixes.push(prefix);
      const nodes: ServerProcess[] = [];
      try {
        for (const nodeId of ["node1", "node2"]) {
          const config: ServerConfig = {
            scenario: SCENARIO,
            cluster: { nodeId, redisUrl: REDIS, prefix },
            ...(logged ? { recovery: { log: "cluster", redisUrl: REDIS, prefix } } : {}),
          };
          nodes.push(await ServerProcess.start("switchboard-bayeux", config));
        }
        return { nodes, prefix };
      } catch (error) {
        await Promise.all(nodes.map((node) => node.stop()));
        throw error;
      }
    }

    /**
     * Publishes `{ n }` from a client of node 1 (n = 1, 2, …) until a subscriber of each
     * node got the same one (node 2's counts once the broker or the log told it); returns n.
     */
    async function publishToBoth(nodes: ServerProcess[]): Promise<number> {
      const received: number[][] = [[], []];
      const url = (node: ServerProcess): string => `ws://127.0.0.1:${node.port}${BAYEUX_PATH}`;
      const clients = nodes.map(
        (node, i) =>
          new BayeuxClient(url(node), BAYEUX_CHANNELS.deliveries, {
            event: (_name, data) => received[i].push((data as { n: number }).n),
          }),
      );
      clients.push(new BayeuxClient(url(nodes[0]), `${BAYEUX_CHANNELS.own}pub`, {}));
      const publisher = clients[2];
      const common = (): number | undefined => received[0].find((n) => received[1].includes(n));
      let sent = 0;
      let sentAt = 0;
      try {
        await Promise.all(clients.map((client) => client.ready));
        await until(
          () => {
            if (common() !== undefined) return true;
            if (Date.now() - sentAt >= 200) {
              sentAt = Date.now();
              publisher.emit("pub", { n: ++sent });
            }
            return false;
          },
          10_000,
          "a publish delivered on both nodes",
        );
        return common() as number;
      } finally {
        for (const client of clients) client.close();
      }
    }

    it("with the channel log on, a publish is one entry of the stream, from node 1", {
      timeout: 30_000,
    }, async () => {
      const { nodes, prefix } = await startNodes(true);
      const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
      try {
        const n = await publishToBoth(nodes);
        const entries = await redis.xrange(channelStream(prefix), "-", "+");
        const payloads = entries.map(([, fields]) => fields[fields.indexOf("p") + 1] ?? "");
        const mine = payloads.filter((payload) => payload.includes(`{"n":${n}}`));
        assert.equal(mine.length, 1, `one entry for n=${n}: ${payloads.join(" | ")}`);
        assert.ok(mine[0].startsWith("node1\n"), `written by node 1: ${mine[0]}`);
        assert.ok(mine[0].includes(`"channel":"${BAYEUX_CHANNELS.deliveries}"`), mine[0]);
      } finally {
        redis.disconnect();
        await Promise.all(nodes.map((node) => node.stop()));
      }
    });

    it("with the channel log off, the broker carries it and no stream is written", {
      timeout: 30_000,
    }, async () => {
      const { nodes, prefix } = await startNodes(false);
      const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
      try {
        await publishToBoth(nodes);
        assert.equal(await redis.exists(channelStream(prefix)), 0);
      } finally {
        redis.disconnect();
        await Promise.all(nodes.map((node) => node.stop()));
      }
    });
  });
});

describe("bayeux-cluster-fanout-recovery comparisons and options", () => {
  it("compares on against off within a rep", () => {
    assert.deepEqual(
      compareSetups(SCENARIO, {
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

  it("checks the CPU target (≤ 1.25× the channel log off) with the switchboard rows", () => {
    const summary: Summary = { [SCENARIO]: { switchboard: { cpuRatio: 1.3 } } };
    assert.ok(
      checkTargets(summary).includes(
        "FAIL  Bayeux cluster fan-out CPU with the channel log ≤ 1.25× without (measured 1.30 ×)",
      ),
    );
    // Run as the switchboard target: its rows go to the table with that column.
    assert.equal(tableFamily(SCENARIO), "socketio");
    assert.equal(tableFamily("bayeux-cluster-fanout"), "bayeux");
    assert.deepEqual(tableRows(summary, ["switchboard-bayeux"], "bayeux").length, 1);
  });

  it("runs by default, on switchboard only, at cluster-fanout-recovery's size", () => {
    assert.ok(isSetupScenario(SCENARIO));
    assert.ok(parseOptions([], {}).scenarios.includes(SCENARIO));
    assert.deepEqual(
      (["switchboard", "socketio", "ws", "switchboard-bayeux", "faye"] as const).filter((t) =>
        runsScenario(t, SCENARIO),
      ),
      ["switchboard"],
    );
    assert.deepEqual(FULL[SCENARIO], FULL["cluster-fanout-recovery"]);
    assert.equal(FULL[SCENARIO].durationMs, 15_000);
    assert.ok(QUICK[SCENARIO].durationMs < FULL[SCENARIO].durationMs);
    assert.deepEqual(parseOptions(["--quick"], {}).params[SCENARIO], QUICK[SCENARIO]);
  });
});
