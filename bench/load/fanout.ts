/**
 * Fan-out: `clients` receivers in one room, one publisher (the controller
 * connection, in no room) sending `rate` messages per second. In a cluster
 * the receivers are spread over the nodes and the publisher is on the first. Each message
 * carries its send time; every receiver records its delivery latency. The
 * orchestrator brackets the measured window with server CPU snapshots, so the
 * result is server CPU per delivery at a realistic, fixed rate.
 *
 * Metrics: deliveries, expected, p50Ms, p99Ms, maxMs, wallMs, loadCpuPct.
 */

import { percentile } from "../lib/stats.js";
import { connect, connectMany } from "./clients.js";
import { CpuWindow, now, paced, type Scenario, waitFor } from "./context.js";

interface Message {
  /** Send time (ms, `performance.timeOrigin + performance.now()`). */
  t: number;
  /** Sequence number; -1 during warm-up, which is not recorded. */
  s: number;
  b: string;
}

/** How long the warm-up's deliveries may trail; a target that misses it is broken. */
const WARM_WAIT_MS = 5000;

export const fanout: Scenario = async ({ spec, barrier }) => {
  const body = "x".repeat(spec.payloadBytes);
  const messages = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));
  const expected = messages * spec.clients;
  const latencies = new Float64Array(expected);
  let samples = 0;
  let warm = 0;
  const handlers = {
    event(name: string, data: unknown): void {
      if (name !== "m") return;
      const message = data as Message;
      if (message.s < 0) warm++;
      else if (samples < expected) latencies[samples++] = now() - message.t;
    },
  };
  const receivers = await connectMany(
    spec.protocol,
    spec.ports,
    spec.clients,
    spec.connectConcurrency,
    handlers,
  );
  const publisher = await connect(spec.protocol, spec.port, true, {});

  const warmMessages = Math.max(1, Math.round((spec.rate * spec.warmupMs) / 1000));
  await paced(spec.rate, warmMessages, () => publisher.emit("pub", { t: now(), s: -1, b: body }));
  if (!(await waitFor(() => warm >= warmMessages * spec.clients, WARM_WAIT_MS))) {
    throw new Error(`warm-up: ${warm} of ${warmMessages * spec.clients} deliveries arrived`);
  }

  await barrier("start");
  const window = new CpuWindow();
  await paced(spec.rate, messages, (s) => publisher.emit("pub", { t: now(), s, b: body }));
  await waitFor(() => samples >= expected, 3000);
  const wallMs = window.elapsedMs();
  const loadCpuPct = window.cpuPercent();
  await barrier("end");

  for (const client of receivers) client.close();
  publisher.close();
  const deliveries = samples;
  return {
    deliveries,
    expected,
    p50Ms: percentile(latencies, deliveries, 0.5),
    p99Ms: percentile(latencies, deliveries, 0.99),
    maxMs: percentile(latencies, deliveries, 1),
    wallMs,
    loadCpuPct,
  };
};
