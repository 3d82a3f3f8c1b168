/**
 * The set-up scenarios of the bench (Switchboard against itself in another
 * configuration): `polling-nosticky` (one forwarding node, then two, behind
 * the round-robin proxy, Engine.IO and Bayeux long-polling receivers) and
 * `fanout-recovery` (websocket fan-out with connection state recovery off,
 * on with the memory log, on with a Redis log), each run tiny against the
 * built Switchboard (`dist/`, as `npm test` builds it) on REDIS_URL; the
 * recovery set-ups checked on the wire (the offset socket.io-client keeps);
 * the round-robin proxy; the comparisons, rows and checks of the report.
 * Without Redis or a build the runs are skipped, except under CI=true where
 * they fail.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { ROOT, ServerProcess } from "../../bench/lib/child.js";
import { runPrefix } from "../../bench/lib/cluster-runner.js";
import { FULL, parseOptions, QUICK } from "../../bench/lib/options.js";
import { isSetupScenario, type RecoveryConfig, runsScenario } from "../../bench/lib/protocol.js";
import { checkReachable, deleteKeys, redisUrl } from "../../bench/lib/redis-proxy.js";
import { checkTargets, type Summary, tableRows } from "../../bench/lib/report.js";
import { startRoundRobin } from "../../bench/lib/round-robin.js";
import { runOnce } from "../../bench/lib/runner.js";
import { compareSetups } from "../../bench/lib/setup-runner.js";
import { until } from "../socketio/raw-clients.js";
import { assertFinite } from "./two-node-setups.js";

const REDIS = redisUrl();
const redisUp = await checkReachable(REDIS).then(
  () => true,
  () => false,
);
const built = existsSync(resolve(ROOT, "dist/mount/node.js"));
if ((!redisUp || !built) && process.env.CI === "true") {
  throw new Error(
    `the set-up bench tests must run under CI=true: ${redisUp ? "" : `Redis unreachable at ${REDIS}; `}${built ? "" : "no dist/ build"}`,
  );
}
const cannotRun = !redisUp
  ? `Redis unreachable at ${REDIS}`
  : !built
    ? "no dist/ build (npm run build)"
    : false;

describe("set-up scenarios against the built Switchboard on Redis", { skip: cannotRun }, () => {
  it("runs a tiny polling-nosticky: one node, then two forwarding nodes behind the proxy", {
    timeout: 60_000,
  }, async () => {
    const params = {
      ...QUICK["polling-nosticky"],
      clients: 20,
      rate: 5,
      durationMs: 1000,
      warmupMs: 400,
    };
    const record = await runOnce("switchboard", "polling-nosticky", params, 1);
    assert.equal(record.error, undefined);
    const m = record.metrics;
    for (const setup of ["A", "B"]) {
      // 10 Engine.IO and 10 Bayeux receivers × (5 msg/s × 1 s), every one delivered.
      assert.equal(m[`expected${setup}`], 20 * 5, `set-up ${setup}`);
      assert.equal(m[`deliveries${setup}`], m[`expected${setup}`], `set-up ${setup}`);
      assert.equal(m[`failedClients${setup}`], 0, `set-up ${setup}`);
      assertFinite(m[`cpuPer100k${setup}`], `cpuPer100k${setup}`);
      assertFinite(m[`p99Ms${setup}`], `p99Ms${setup}`);
      assertFinite(m[`eioP99Ms${setup}`], `eioP99Ms${setup}`);
      assertFinite(m[`bayeuxP99Ms${setup}`], `bayeuxP99Ms${setup}`);
      assert.ok(m[`proxyCpuMs${setup}`] > 0, `the proxy of set-up ${setup} used CPU`);
      assertFinite(m[`proxyCpuPer100k${setup}`], `proxyCpuPer100k${setup}`);
    }
    assert.equal(m.cpuRatio, m.cpuPer100kB / m.cpuPer100kA);
    assert.ok(m.node1CpuMsB > 0 && m.node2CpuMsB > 0, "both nodes of B worked");
    assert.ok(Math.abs(m.serverCpuMsB - m.node1CpuMsB - m.node2CpuMsB) < 1e-6);
    assert.equal(m.node1CpuMsA, undefined, "one node: no per-node split");
    assert.equal(m.p99DeltaMs, m.p99MsB - m.p99MsA);
    const rows = tableRows({ "polling-nosticky": { switchboard: m } }, ["switchboard"]);
    const ratioRow = rows.find((row) => row[1].startsWith("server CPU per delivery, B"));
    assert.equal(ratioRow?.[2], m.cpuRatio.toFixed(2));
  });

  it("runs a tiny fanout-recovery: recovery off, on with the memory log, on with a Redis log", {
    timeout: 60_000,
  }, async () => {
    const params = { ...QUICK["fanout-recovery"], clients: 20, durationMs: 1000, warmupMs: 200 };
    const record = await runOnce("switchboard", "fanout-recovery", params, 2);
    assert.equal(record.error, undefined);
    const m = record.metrics;
    for (const setup of ["Off", "Memory", "Redis"]) {
      assert.equal(m[`expected${setup}`], 20 * 20, setup);
      assert.equal(m[`deliveredPct${setup}`], 100, setup);
      assertFinite(m[`cpuPer100k${setup}`], `cpuPer100k${setup}`);
      assertFinite(m[`p99Ms${setup}`], `p99Ms${setup}`);
      assert.equal(m[`proxyCpuMs${setup}`], undefined, "no proxy in front of a single node");
    }
    assert.equal(m.cpuRatioMemory, m.cpuPer100kMemory / m.cpuPer100kOff);
    assert.equal(m.cpuRatioRedis, m.cpuPer100kRedis / m.cpuPer100kOff);
    assert.equal(m.p99DeltaRedisMs, m.p99MsRedis - m.p99MsOff);
    const checks = checkTargets({ "fanout-recovery": { switchboard: m } });
    assert.equal(checks.filter((line) => /connection state recovery/.test(line)).length, 2);
    assert.ok(checks.some((line) => /^(PASS|FAIL) .*\(Redis log\).*measured/.test(line)));
  });

  describe("the recovery set-ups on the wire", () => {
    const prefix = runPrefix();
    after(() => deleteKeys(REDIS, prefix).then(() => undefined));

    const setups: [string, RecoveryConfig | undefined, boolean][] = [
      ["off", undefined, false],
      ["memory log", { log: "memory" }, true],
      ["Redis log", { log: "redis", redisUrl: REDIS, prefix }, true],
    ];
    for (const [name, recovery, offset] of setups) {
      it(`broadcasts ${offset ? "with" : "without"} a recovery offset (${name})`, {
        timeout: 20_000,
      }, async () => {
        const server = await ServerProcess.start("switchboard", {
          scenario: "fanout-recovery",
          ...(recovery ? { recovery } : {}),
        });
        try {
          const received: unknown[][] = [];
          const receiver = await socketIo(server.port, "rx", (args) => received.push(args));
          const controller = await socketIo(server.port, "ctl", () => {});
          controller.send(`42${JSON.stringify(["pub", { n: 1 }])}`);
          await until(() => received.length === 1, 5000, "the broadcast");
          const [event, data, ...rest] = received[0];
          assert.equal(event, "m");
          assert.deepEqual(data, { n: 1 });
          if (offset) {
            assert.equal(rest.length, 1, "the offset is the last argument");
            assert.equal(typeof rest[0], "string");
          } else {
            assert.deepEqual(rest, []);
          }
          receiver.terminate();
          controller.terminate();
        } finally {
          await server.stop();
        }
      });
    }
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

describe("the round-robin proxy", () => {
  const servers: Server[] = [];
  const ports: number[] = [];
  before(async () => {
    for (const name of ["one", "two"]) {
      const server = createServer((_req, res) => res.end(name));
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      servers.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  it("sends each request to the next node, whatever connection it came on", async () => {
    const proxy = await startRoundRobin(ports);
    try {
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) {
        // fetch keeps one connection alive: the node still changes with every request.
        const response = await fetch(`http://127.0.0.1:${proxy.port}/`);
        answers.push(await response.text());
      }
      assert.deepEqual(answers, ["one", "two", "one", "two"]);
      assert.deepEqual(proxy.sent, [2, 2]);
    } finally {
      await proxy.close();
    }
  });
});

describe("set-up comparisons and report", () => {
  it("compares the set-ups within a rep", () => {
    assert.deepEqual(
      compareSetups("polling-nosticky", {
        cpuPer100kA: 2,
        cpuPer100kB: 3,
        p50MsA: 1,
        p50MsB: 1.5,
        p99MsA: 4,
        p99MsB: 7,
      }),
      { cpuRatio: 1.5, p50DeltaMs: 0.5, p99DeltaMs: 3 },
    );
    const recovery = compareSetups("fanout-recovery", {
      cpuPer100kOff: 2,
      cpuPer100kMemory: 2.2,
      cpuPer100kRedis: 3,
      p99MsOff: 5,
      p99MsMemory: 4,
      p99MsRedis: 9,
    });
    assert.ok(Math.abs(recovery.cpuRatioMemory - 1.1) < 1e-9);
    assert.equal(recovery.cpuRatioRedis, 1.5);
    assert.equal(recovery.p99DeltaMemoryMs, -1);
    assert.equal(recovery.p99DeltaRedisMs, 4);
  });

  it("checks the targets: CPU ratios and the signed p99 difference", () => {
    const summary: Summary = {
      "polling-nosticky": { switchboard: { cpuRatio: 1.4, p99DeltaMs: 6.5 } },
      "fanout-recovery": { switchboard: { cpuRatioMemory: 1.1, cpuRatioRedis: 1.3 } },
    };
    const lines = checkTargets(summary).filter((line) =>
      /no-sticky|connection state recovery/.test(line),
    );
    assert.deepEqual(lines, [
      "PASS  no-sticky polling CPU per delivery, two forwarding nodes ≤ 1.5× one node (measured 1.40 ×)",
      "FAIL  no-sticky polling p99 latency, two forwarding nodes ≤ one node + 5 ms (measured +6.50 ms)",
      "PASS  fan-out CPU with connection state recovery (memory log) ≤ 1.25× recovery off (measured 1.10 ×)",
      "FAIL  fan-out CPU with connection state recovery (Redis log) ≤ 1.25× recovery off (measured 1.30 ×)",
    ]);
  });

  it("runs the set-up scenarios by default, on switchboard only, with short-run sizes", () => {
    const full = parseOptions([], {});
    const quick = parseOptions(["--quick"], {});
    for (const scenario of ["polling-nosticky", "fanout-recovery"] as const) {
      assert.ok(isSetupScenario(scenario));
      assert.ok(full.scenarios.includes(scenario));
      assert.deepEqual(
        (["switchboard", "socketio", "ws", "switchboard-bayeux", "faye"] as const).filter((t) =>
          runsScenario(t, scenario),
        ),
        ["switchboard"],
      );
      assert.ok(quick.params[scenario].durationMs < FULL[scenario].durationMs);
    }
    assert.equal(FULL["polling-nosticky"].clients, 1000);
    assert.equal(FULL["fanout-recovery"].clients, FULL.fanout.clients);
    assert.deepEqual(parseOptions(["--scenario", "polling-nosticky"], {}).scenarios, [
      "polling-nosticky",
    ]);
  });
});
