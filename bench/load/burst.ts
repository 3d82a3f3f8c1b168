/**
 * Burst fan-out: the same room of `clients` receivers; one controller event
 * makes the server broadcast `messages` messages as fast as it can (`batch`
 * per event-loop turn). Receivers only count (no decoding), so the generator
 * stays cheaper than the server. Throughput is deliveries received per second,
 * from the trigger to the last delivery.
 *
 * Metrics: deliveries, expected, elapsedMs, deliveriesPerSec, loadCpuPct.
 */
import { connect, connectMany } from "./clients.js";
import { CpuWindow, now, type Scenario, waitFor } from "./context.js";

const WARM_MESSAGES = 50;
const WARM_TIMEOUT_MS = 10_000;
const TIMEOUT_MS = 60_000;

export const burst: Scenario = async ({ spec, barrier }) => {
  const body = "x".repeat(spec.payloadBytes);
  let received = 0;
  let last = 0;
  const handlers = {
    count(): void {
      received++;
      last = now();
    },
  };
  const receivers = await connectMany(
    spec.protocol,
    spec.port,
    spec.clients,
    spec.connectConcurrency,
    handlers,
  );
  const controller = await connect(spec.protocol, spec.port, true, {});

  const warm = Math.min(WARM_MESSAGES, spec.messages);
  controller.emit("burst", { count: warm, batch: spec.batch, body });
  if (!(await waitFor(() => received >= warm * spec.clients, WARM_TIMEOUT_MS))) {
    throw new Error(`warm-up: ${received} of ${warm * spec.clients} deliveries arrived`);
  }

  await barrier("start");
  received = 0;
  const expected = spec.messages * spec.clients;
  const window = new CpuWindow();
  const start = now();
  controller.emit("burst", { count: spec.messages, batch: spec.batch, body });
  await waitFor(() => received >= expected, TIMEOUT_MS);
  const loadCpuPct = window.cpuPercent();
  const deliveries = received;
  const elapsedMs = last - start;
  await barrier("end");

  for (const client of receivers) client.close();
  controller.close();
  return {
    deliveries,
    expected,
    elapsedMs,
    deliveriesPerSec: (deliveries / elapsedMs) * 1000,
    loadCpuPct,
  };
};
