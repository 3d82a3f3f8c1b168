/**
 * The benchmark harness end to end, kept short: real server and load-generator
 * child processes against the bare `ws` target (and faye for one Bayeux
 * scenario, through the raw-ws Bayeux clients), for about a second per
 * scenario, and the report built from their results.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseOptions, QUICK } from "../../bench/lib/options.js";
import {
  checkTargets,
  markdownTable,
  noisyCells,
  summarize,
  tableRows,
} from "../../bench/lib/report.js";
import { churnMemory, derive, type RunRecord, runOnce } from "../../bench/lib/runner.js";

function assertFinite(value: number | undefined, what: string): void {
  assert.equal(typeof value, "number", `${what} missing`);
  assert.ok(Number.isFinite(value), `${what} is ${value}`);
}

describe("bench harness against the raw ws target and faye", () => {
  const records: RunRecord[] = [];

  it("runs a short fan-out and measures deliveries, latency and server CPU", {
    timeout: 20_000,
  }, async () => {
    const record = await runOnce(
      "ws",
      "fanout",
      { ...QUICK.fanout, clients: 20, durationMs: 1000, warmupMs: 200 },
      1,
    );
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assert.equal(m.expected, 20 * 20); // 20 clients × (20 msg/s × 1 s)
    assert.ok(m.deliveries > 0 && m.deliveries <= m.expected);
    assertFinite(m.p50Ms, "p50Ms");
    assertFinite(m.p99Ms, "p99Ms");
    assert.ok(m.p50Ms >= 0 && m.p99Ms >= m.p50Ms);
    assertFinite(m.cpuPer100k, "cpuPer100k");
    assert.ok(m.cpuPer100k > 0);
    records.push(record);
  });

  it("runs a short echo with acks and measures acks/s and server CPU", {
    timeout: 20_000,
  }, async () => {
    const record = await runOnce(
      "ws",
      "echo",
      { ...QUICK.echo, clients: 5, durationMs: 1000, warmupMs: 200 },
      1,
    );
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assert.ok(m.acks > 0, "no ack counted");
    assertFinite(m.acksPerSec, "acksPerSec");
    assertFinite(m.cpuPer100k, "cpuPer100k");
    assertFinite(m.p99Ms, "p99Ms");
    records.push(record);
  });

  it("runs a short Bayeux fan-out against faye with the raw-ws Bayeux clients", {
    timeout: 20_000,
  }, async () => {
    const record = await runOnce(
      "faye",
      "bayeux-fanout",
      { ...QUICK["bayeux-fanout"], clients: 20, durationMs: 1000, warmupMs: 200 },
      1,
    );
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assert.equal(m.expected, 20 * 20);
    assert.ok(m.deliveries > 0 && m.deliveries <= m.expected);
    assertFinite(m.p99Ms, "p99Ms");
    assertFinite(m.cpuPer100k, "cpuPer100k");
    assert.ok(m.cpuPer100k > 0);
    records.push(record);
  });

  it("runs a short Bayeux churn against faye, sessions ended by /meta/disconnect", {
    timeout: 60_000,
  }, async () => {
    const record = await runOnce(
      "faye",
      "bayeux-churn",
      { ...QUICK["bayeux-churn"], clients: 20, rounds: 3 },
      1,
    );
    assert.equal(record.error, undefined);
    const m = record.metrics;
    assert.equal(m.rounds, 3);
    assert.equal(m.connected, 20);
    for (const round of [1, 2, 3]) {
      assert.ok(m[`rssMB${round}`] > 1, `rssMB${round} is ${m[`rssMB${round}`]}`);
      assert.ok(m[`heapMB${round}`] > 0, `heapMB${round} is ${m[`heapMB${round}`]}`);
    }
    assert.equal(m.rssRatio, m.rssMB3 / m.rssMB1);
    assertFinite(m.heapRatio, "heapRatio");
    assertFinite(m.closeMs, "closeMs");
    // Three rounds only: the table's rows for rounds 4 to 6 stay empty.
    const rows = tableRows(summarize([record]), ["faye"], "bayeux");
    const cell = (label: string) => rows.find((row) => row[1] === label)?.[2];
    assert.match(cell("RSS after round 3 (MB)") ?? "", /^[\d,.]+$/);
    assert.equal(cell("RSS after round 4 (MB)"), "–");
  });

  it("summarises the runs into a table with the measured numbers", () => {
    assert.equal(records.length, 3);
    const summary = summarize(records);
    assert.equal(summary.fanout?.ws?.reps, 1);
    assert.equal(summary.echo?.ws?.acks, records[1].metrics.acks);
    const rows = tableRows(summary, ["ws"]);
    assert.deepEqual(rows[0].slice(0, 3), ["scenario", "metric", "ws"]);
    const cpuRow = rows.find((row) => row[0] === "echo" && row[1].startsWith("server CPU"));
    assert.ok(cpuRow, "echo CPU row missing");
    assert.match(cpuRow[2], /^≥?[\d,.]+$/);
    assert.match(markdownTable(rows), /^\| scenario \| metric \| ws \|/);
    // The Bayeux scenarios get a table of their own, with the Bayeux targets and ratios.
    const bayeuxRows = tableRows(summary, ["faye", "ws"], "bayeux");
    assert.deepEqual(bayeuxRows[0], [
      "scenario",
      "metric",
      "faye",
      "ws",
      "sb/ws",
      "faye/ws",
      "sb/faye",
    ]);
    assert.ok(bayeuxRows.slice(1).every((row) => row[0] === "bayeux-fanout"));
    assert.match(bayeuxRows[1][2], /^[\d,.]+$/);
    // ws ran the Socket.IO fan-out only: its Bayeux cell is empty, not borrowed.
    assert.equal(bayeuxRows[1][3], "–");
    assert.ok(rows.every((row) => !row[0].startsWith("bayeux-")));
    // One rep per cell: nothing to call noisy.
    assert.deepEqual(noisyCells(records, ["ws", "faye"]), []);
    // Without switchboard numbers every issue target is "n/a".
    assert.ok(checkTargets(summary).every((line) => line.startsWith("n/a")));
    assert.ok(checkTargets(summary, "bayeux").every((line) => line.startsWith("n/a")));
  });
});

describe("derived metrics", () => {
  const stats = (cpuMs: number, rssKB: number, heapKB: number) => ({
    cpuUser: cpuMs * 750,
    cpuSystem: cpuMs * 250,
    rss: rssKB * 1024,
    heapUsed: heapKB * 1024,
    external: 0,
  });

  it("turns CPU snapshots into seconds per 100k deliveries or acks", () => {
    const start = stats(1000, 0, 0);
    const end = stats(1500, 0, 0); // 500 ms of server CPU
    const fanout = derive(
      "fanout",
      { deliveries: 50_000, expected: 50_000, wallMs: 1000 },
      { start, end },
    );
    assert.equal(fanout.serverCpuMs, 500);
    assert.equal(fanout.cpuPer100k, 1);
    assert.equal(fanout.serverCpuPct, 50);
    assert.equal(fanout.deliveredPct, 100);
    const echo = derive("echo", { acks: 200_000, wallMs: 2000 }, { start, end });
    assert.equal(echo.cpuPer100k, 0.25);
  });

  it("turns churn snapshots into MB per round and last-over-first ratios", () => {
    const metrics = derive(
      "churn",
      { connected: 100, rounds: 3 },
      {
        round2: stats(0, 110 * 1024, 22 * 1024),
        round1: stats(0, 100 * 1024, 20 * 1024),
        round3: stats(0, 104 * 1024, 30 * 1024),
      },
    );
    assert.equal(metrics.rssMB1, 100);
    assert.equal(metrics.rssMB3, 104);
    assert.equal(metrics.heapMB2, 22);
    assert.equal(metrics.rssRatio, 1.04);
    assert.equal(metrics.heapRatio, 1.5);
    // One round has nothing to compare.
    assert.deepEqual(churnMemory({ round1: stats(0, 1024, 1024) }), { rssMB1: 1, heapMB1: 1 });
  });

  it("turns memory snapshots into KB per connection", () => {
    const idle = derive(
      "idle",
      { connected: 1000 },
      { baseline: stats(0, 50_000, 10_000), loaded: stats(0, 58_000, 14_000) },
    );
    assert.equal(idle.rssKBPerConn, 8);
    assert.equal(idle.heapKBPerConn, 4);
  });
});

describe("bench options", () => {
  it("reads argv over env and validates names", () => {
    const options = parseOptions(["--quick", "--targets", "ws,socketio"], {
      BENCH_SCENARIO: "echo",
      BENCH_TARGETS: "switchboard",
    });
    assert.equal(options.quick, true);
    assert.deepEqual(options.targets, ["ws", "socketio"]);
    assert.deepEqual(options.scenarios, ["echo"]);
    assert.equal(options.reps, 1);
    assert.equal(options.params.echo.clients, QUICK.echo.clients);
    const bayeux = parseOptions(["--scenario", "bayeux-fanout,bayeux-idle", "--targets=faye"], {});
    assert.deepEqual(bayeux.scenarios, ["bayeux-fanout", "bayeux-idle"]);
    assert.deepEqual(bayeux.targets, ["faye"]);
    assert.ok(parseOptions([], {}).scenarios.includes("bayeux-publish"));
    const churn = parseOptions(["--scenario", "churn,bayeux-churn", "--rounds", "3"], {});
    assert.deepEqual(churn.scenarios, ["churn", "bayeux-churn"]);
    assert.equal(churn.params.churn.rounds, 3);
    assert.equal(parseOptions([], {}).params["bayeux-churn"].clients, 2000);
    assert.equal(parseOptions([], {}).params.churn.rounds, 6);
    assert.throws(() => parseOptions(["--targets", "nginx"], {}), /unknown target "nginx"/);
    assert.throws(() => parseOptions(["--reps", "0"], {}), /positive/);
    assert.throws(() => parseOptions(["--bogus", "1"], {}), /unknown option --bogus/);
  });
});
