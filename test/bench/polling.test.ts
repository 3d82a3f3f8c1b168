/**
 * The polling scenarios of the bench (issue #13): `fanout-polling` and
 * `bayeux-fanout-polling` (long-polling receivers, publisher on a websocket)
 * and `echo-polling` (emit-with-ack over polling POST + GET), each run tiny
 * against the built Switchboard (`dist/`, as `npm test` builds it) and its
 * peer (socket.io, faye); which targets take them; their rows and issue
 * targets in the report. Without a build the runs are skipped, except under
 * CI=true where they fail.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../../bench/lib/child.js";
import { FULL, parseOptions, QUICK } from "../../bench/lib/options.js";
import {
  baseScenario,
  familyOf,
  isPollingScenario,
  runsScenario,
  type ScenarioName,
  type TargetName,
} from "../../bench/lib/protocol.js";
import { checkTargets, type Summary, summarize, tableRows } from "../../bench/lib/report.js";
import { type RunRecord, runOnce } from "../../bench/lib/runner.js";
import { assertFinite } from "./two-node-setups.js";

const built = existsSync(resolve(ROOT, "dist/bayeux/index.js"));
if (!built && process.env.CI === "true") {
  throw new Error("the polling bench tests must run under CI=true: no dist/ build");
}
const cannotRun = built ? false : "no dist/ build (npm run build)";

/** A fan-out of 10 receivers, 10 msg/s for 0.6 s: 6 messages each. */
async function tinyFanout(target: TargetName, scenario: ScenarioName): Promise<RunRecord> {
  const params = { ...QUICK[scenario], clients: 10, rate: 10, durationMs: 600, warmupMs: 300 };
  const record = await runOnce(target, scenario, params, 1);
  assert.equal(record.error, undefined, `${target}: ${record.error}`);
  const m = record.metrics;
  assert.equal(m.expected, 10 * 6);
  assert.equal(m.deliveries, m.expected, `${target}: every delivery arrived`);
  assertFinite(m.cpuPer100k, "cpuPer100k");
  assertFinite(m.p50Ms, "p50Ms");
  assertFinite(m.p99Ms, "p99Ms");
  assert.ok(m.p99Ms >= m.p50Ms);
  return record;
}

describe("polling scenarios against the built Switchboard and its peers", {
  skip: cannotRun,
}, () => {
  const records: RunRecord[] = [];

  for (const target of ["switchboard", "socketio"] as const) {
    it(`runs a tiny fanout-polling against ${target} (Engine.IO polling receivers)`, {
      timeout: 60_000,
    }, async () => {
      records.push(await tinyFanout(target, "fanout-polling"));
    });
  }

  for (const target of ["switchboard-bayeux", "faye"] as const) {
    it(`runs a tiny bayeux-fanout-polling against ${target} (long-polling subscribers)`, {
      timeout: 60_000,
    }, async () => {
      records.push(await tinyFanout(target, "bayeux-fanout-polling"));
    });
  }

  for (const target of ["switchboard", "socketio"] as const) {
    it(`runs a tiny echo-polling against ${target}: acks over polling POST + GET`, {
      timeout: 60_000,
    }, async () => {
      const params = { ...QUICK["echo-polling"], clients: 4, durationMs: 600, warmupMs: 300 };
      const record = await runOnce(target, "echo-polling", params, 1);
      assert.equal(record.error, undefined, `${target}: ${record.error}`);
      const m = record.metrics;
      assert.ok(m.acks > 0, "no ack counted");
      assertFinite(m.acksPerSec, "acksPerSec");
      assertFinite(m.cpuPer100k, "cpuPer100k");
      assertFinite(m.p99Ms, "p99Ms");
      records.push(record);
    });
  }

  it("puts the runs in the family tables and checks the issue's polling targets", () => {
    assert.equal(records.length, 6);
    const summary = summarize(records);
    const rows = tableRows(summary, ["switchboard", "socketio"]);
    const ratio = rows[0].indexOf("sb/sio");
    for (const scenario of ["fanout-polling", "echo-polling"]) {
      const cpu = rows.find((row) => row[0] === scenario && row[1].startsWith("server CPU"));
      assert.ok(cpu, `${scenario} CPU row missing`);
      assert.match(cpu[ratio], /^[\d,.]+$/, `${scenario}: a switchboard/socket.io ratio`);
    }
    const bayeuxRows = tableRows(summary, ["switchboard-bayeux", "faye"], "bayeux");
    assert.ok(bayeuxRows.some((row) => row[0] === "bayeux-fanout-polling"));
    const checks = [...checkTargets(summary), ...checkTargets(summary, "bayeux")];
    for (const label of [
      /^(PASS|FAIL) +polling fan-out CPU ≤ 0.6× socket.io \(measured/,
      /^(PASS|FAIL) +polling fan-out p99 latency ≤ socket.io/,
      /^(PASS|FAIL) +polling echo CPU per ack ≤ 0.7× socket.io/,
      /^(PASS|FAIL) +Bayeux long-polling fan-out CPU ≤ 0.5× faye/,
      /^(PASS|FAIL) +Bayeux long-polling fan-out p99 latency ≤ faye/,
    ]) {
      assert.ok(
        checks.some((line) => label.test(line)),
        `${label} missing from ${checks.join("\n")}`,
      );
    }
  });
});

describe("polling scenario names, sizes and targets", () => {
  it("runs on both peers of a family, never on the bare ws target", () => {
    assert.ok(runsScenario("switchboard", "fanout-polling"));
    assert.ok(runsScenario("socketio", "echo-polling"));
    assert.ok(runsScenario("faye", "bayeux-fanout-polling"));
    assert.ok(!runsScenario("switchboard", "bayeux-fanout-polling"));
    for (const scenario of ["fanout-polling", "bayeux-fanout-polling", "echo-polling"] as const) {
      assert.ok(isPollingScenario(scenario));
      assert.ok(!runsScenario("ws", scenario), scenario);
    }
    assert.ok(!isPollingScenario("polling-nosticky"));
    assert.equal(familyOf("bayeux-fanout-polling"), "bayeux");
    assert.equal(baseScenario("fanout-polling"), "fanout");
    assert.equal(baseScenario("echo-polling"), "echo");
  });

  it("has the issue's sizes in a full run: 500 receivers at 10 msg/s", () => {
    for (const scenario of ["fanout-polling", "bayeux-fanout-polling"] as const) {
      assert.equal(FULL[scenario].clients, 500);
      assert.equal(FULL[scenario].rate, 10);
    }
    const options = parseOptions(["--scenario", "fanout-polling,echo-polling"], {});
    assert.deepEqual(options.scenarios, ["fanout-polling", "echo-polling"]);
  });

  it("reads an empty summary as n/a for the polling targets", () => {
    const checks = checkTargets({} as Summary).filter((line) => /polling/.test(line));
    assert.ok(checks.length >= 3);
    assert.ok(checks.every((line) => line.startsWith("n/a")));
  });
});
