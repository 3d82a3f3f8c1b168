/**
 * Checks shared by the tests of the two-node set-up scenarios (a cluster
 * fan-out run with a feature off, then on): each set-up's figures are
 * present and finite, its CPU is both nodes' sum, and the comparisons are
 * computed from them.
 */
import assert from "node:assert/strict";
import type { Metrics } from "../../bench/lib/protocol.js";

export function assertFinite(value: number | undefined, what: string): void {
  assert.equal(typeof value, "number", `${what} missing`);
  assert.ok(Number.isFinite(value), `${what} is ${value}`);
}

/** The figures of a tiny Off/On run in which every set-up expects `expected` deliveries. */
export function assertOffOnRun(m: Metrics, expected: number): void {
  for (const setup of ["Off", "On"]) {
    assert.equal(m[`expected${setup}`], expected, setup);
    assert.equal(m[`deliveredPct${setup}`], 100, setup);
    assertFinite(m[`cpuPer100k${setup}`], `cpuPer100k${setup}`);
    assertFinite(m[`p50Ms${setup}`], `p50Ms${setup}`);
    assertFinite(m[`p99Ms${setup}`], `p99Ms${setup}`);
    assert.ok(m[`node1CpuMs${setup}`] > 0 && m[`node2CpuMs${setup}`] > 0, `${setup}: both nodes`);
    const summed = m[`node1CpuMs${setup}`] + m[`node2CpuMs${setup}`];
    assert.ok(Math.abs(m[`serverCpuMs${setup}`] - summed) < 1e-6, `${setup}: CPU of both nodes`);
  }
  assert.equal(m.cpuRatio, m.cpuPer100kOn / m.cpuPer100kOff);
  assert.equal(m.p50DeltaMs, m.p50MsOn - m.p50MsOff);
  assert.equal(m.p99DeltaMs, m.p99MsOn - m.p99MsOff);
}
