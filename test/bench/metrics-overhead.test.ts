/**
 * The set-up scenario `metrics-overhead`: its plumbing, run tiny with both
 * set-ups on the current build (`BENCH_BASELINE_DIST` unset, so no baseline
 * build is needed): every load (Socket.IO fan-out and echo, Bayeux fan-out
 * and publish) measured on `Base` and on `Metrics` (a Metrics watching the
 * server, scraped every second), the ratios computed from them; a server
 * child with `metrics` really serves a watching Metrics; the report's rows
 * and checks. Without a build the run is skipped, except under CI=true where
 * it fails.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { ROOT, ServerProcess } from "../../bench/lib/child.js";
import { FULL, parseOptions, QUICK } from "../../bench/lib/options.js";
import { isSetupScenario, loadTag, METRICS_LOADS, runsScenario } from "../../bench/lib/protocol.js";
import { checkTargets, type Summary, tableRows } from "../../bench/lib/report.js";
import { runOnce } from "../../bench/lib/runner.js";
import { compareSetups, metricsEchoClients } from "../../bench/lib/setup-runner.js";
import { loadScraper } from "../../bench/servers/metrics-scrape.js";
import { assertFinite } from "./two-node-setups.js";

const built = existsSync(resolve(ROOT, "dist/ops/metrics/index.js"));
if (!built && process.env.CI === "true") {
  throw new Error("the metrics-overhead bench test must run under CI=true: no dist/ build");
}
const SCENARIO = "metrics-overhead";

describe("metrics-overhead against the built Switchboard", {
  skip: built ? false : "no dist/ build with metrics (npm run build)",
}, () => {
  it("runs every load on both set-ups and compares their CPU per message", {
    timeout: 120_000,
  }, async () => {
    const saved = process.env.BENCH_BASELINE_DIST;
    delete process.env.BENCH_BASELINE_DIST;
    try {
      const params = { ...QUICK[SCENARIO], clients: 20, durationMs: 800, warmupMs: 300 };
      const record = await runOnce("switchboard", SCENARIO, params, 1);
      assert.equal(record.error, undefined);
      const m = record.metrics;
      for (const load of METRICS_LOADS) {
        const tag = loadTag(load);
        for (const setup of ["Base", "Metrics"]) {
          assertFinite(m[`cpuPer100k${tag}${setup}`], `cpuPer100k${tag}${setup}`);
          if (load.endsWith("fanout")) {
            assert.equal(m[`deliveredPct${tag}${setup}`], 100, `${load} ${setup}`);
          } else assert.ok(m[`acksPerSec${tag}${setup}`] > 0, `${load} ${setup}`);
        }
        assert.equal(m[`cpuRatio${tag}`], m[`cpuPer100k${tag}Metrics`] / m[`cpuPer100k${tag}Base`]);
      }
    } finally {
      if (saved !== undefined) process.env.BENCH_BASELINE_DIST = saved;
    }
  });

  it("watches the server with Metrics in the Metrics set-up's child", async () => {
    const scrape = await loadScraper(resolve(ROOT, "dist"));
    const { Server } = (await import(
      resolve(ROOT, "dist/index.js")
    )) as typeof import("../../src/index.js");
    const io = new Server();
    const stop = scrape({ io });
    stop();
    await io.close();
    // The child starts and stops cleanly with metrics on.
    const server = await ServerProcess.start("switchboard", { scenario: "echo", metrics: true });
    assert.ok(server.port > 0);
    await server.stop();
  });
});

describe("metrics-overhead comparisons and options", () => {
  it("computes the ratios per load and reports rows and the 1.02× checks", () => {
    const m: Record<string, number> = {};
    METRICS_LOADS.forEach((load, i) => {
      m[`cpuPer100k${loadTag(load)}Base`] = 1;
      m[`cpuPer100k${loadTag(load)}Metrics`] = 1 + i / 100;
    });
    const out = compareSetups(SCENARIO, m);
    assert.deepEqual(out, {
      cpuRatioFanout: 1,
      cpuRatioEcho: 1.01,
      cpuRatioBayeuxFanout: 1.02,
      cpuRatioBayeuxPublish: 1.03,
    });
    const summary: Summary = { [SCENARIO]: { switchboard: { ...m, ...out } } };
    const rows = tableRows(summary, ["switchboard"]);
    assert.ok(
      rows.some((r) => r[1] === "fanout: server CPU per message, metrics on / baseline build"),
    );
    const lines = checkTargets(summary)
      .filter((line) => line.includes("metrics on"))
      .map((line) => line.slice(0, 4));
    assert.deepEqual(lines, ["PASS", "PASS", "PASS", "FAIL"]);
  });

  it("runs by default, on switchboard only, echo loads a tenth of the fan-out", () => {
    assert.ok(isSetupScenario(SCENARIO));
    assert.ok(parseOptions([], {}).scenarios.includes(SCENARIO));
    assert.deepEqual(
      (["switchboard", "socketio", "ws", "switchboard-bayeux", "faye"] as const).filter((t) =>
        runsScenario(t, SCENARIO),
      ),
      ["switchboard"],
    );
    assert.equal(FULL[SCENARIO].clients, FULL.fanout.clients);
    assert.equal(metricsEchoClients(FULL[SCENARIO].clients), FULL.echo.clients);
    assert.ok(QUICK[SCENARIO].durationMs < FULL[SCENARIO].durationMs);
  });
});
