/**
 * Fan-out: `clients` receivers in one room, one publisher (the controller
 * connection, in no room) sending `rate` messages per second. In a cluster
 * the receivers are spread over the nodes and the publisher is on the first;
 * in the polling scenarios the receivers long-poll (Engine.IO polling or
 * Bayeux long-polling, one kept-alive agent) and the publisher stays on a
 * websocket. Each message
 * carries its send time; every receiver records its delivery latency. The
 * orchestrator brackets the measured window with server CPU snapshots, so the
 * result is server CPU per delivery at a realistic, fixed rate.
 *
 * Metrics: deliveries, expected, p50Ms, p99Ms, maxMs, wallMs, loadCpuPct.
 */

import { Agent } from "node:http";
import { isPollingScenario, type LoadSpec } from "../lib/protocol.js";
import { percentile } from "../lib/stats.js";
import { type ClientHandlers, connect, connectMany } from "./clients.js";
import { CpuWindow, now, paced, type Scenario, waitFor } from "./context.js";
import {
  BayeuxPollingClient,
  EioPollingClient,
  firstFailure,
  openMany,
  type PollingClient,
} from "./polling-clients.js";

interface Message {
  /** Send time (ms, `performance.timeOrigin + performance.now()`). */
  t: number;
  /** Sequence number; -1 during warm-up, which is not recorded. */
  s: number;
  b: string;
}

/** How long the warm-up's deliveries may trail; a target that misses it is broken. */
const WARM_WAIT_MS = 5000;

/** The receivers of a run and how to close them all. */
interface Receivers {
  /** Why receivers failed, for an error message ("" when none did). */
  failure(): string;
  close(): void;
}

async function openReceivers(spec: LoadSpec, handlers: ClientHandlers): Promise<Receivers> {
  if (!isPollingScenario(spec.scenario)) {
    const clients = await connectMany(
      spec.protocol,
      spec.ports,
      spec.clients,
      spec.connectConcurrency,
      handlers,
    );
    return {
      failure: () => "",
      close: () => {
        for (const client of clients) client.close();
      },
    };
  }
  // One agent, no socket limit: every receiver keeps a poll outstanding.
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const clients: PollingClient[] = await openMany(spec.clients, spec.connectConcurrency, () =>
    spec.protocol === "bayeux"
      ? new BayeuxPollingClient(agent, spec.port, handlers)
      : new EioPollingClient(agent, spec.port, handlers),
  );
  return {
    failure: () => firstFailure(clients),
    close: () => {
      for (const client of clients) client.close();
      agent.destroy();
    },
  };
}

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
  const receivers = await openReceivers(spec, handlers);
  const publisher = await connect(spec.protocol, spec.port, true, {});

  const warmMessages = Math.max(1, Math.round((spec.rate * spec.warmupMs) / 1000));
  await paced(spec.rate, warmMessages, () => publisher.emit("pub", { t: now(), s: -1, b: body }));
  if (!(await waitFor(() => warm >= warmMessages * spec.clients, WARM_WAIT_MS))) {
    throw new Error(
      `warm-up: ${warm} of ${warmMessages * spec.clients} deliveries arrived${receivers.failure()}`,
    );
  }

  await barrier("start");
  const window = new CpuWindow();
  await paced(spec.rate, messages, (s) => publisher.emit("pub", { t: now(), s, b: body }));
  await waitFor(() => samples >= expected, 3000);
  const wallMs = window.elapsedMs();
  const loadCpuPct = window.cpuPercent();
  await barrier("end");

  receivers.close();
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
