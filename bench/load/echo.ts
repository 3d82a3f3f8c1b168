/**
 * Echo with ack: `clients` clients each keep `window` requests in flight; the
 * server acknowledges each event with its payload, and every ack immediately
 * sends the next request (a closed loop). Counts acks and their round-trip
 * time inside the measured window. In `echo-polling` the clients are
 * Engine.IO polling clients: each request is a POST, each ack comes back in
 * the answer to the client's outstanding GET.
 *
 * Metrics: acks, wallMs, acksPerSec, p50Ms, p99Ms, loadCpuPct.
 */

import { Agent } from "node:http";
import { isPollingScenario, type LoadSpec } from "../lib/protocol.js";
import { percentile } from "../lib/stats.js";
import { type BenchClient, type ClientHandlers, connectMany } from "./clients.js";
import { CpuWindow, now, type Scenario, sleep, waitFor } from "./context.js";
import { EioPollingClient, openMany } from "./polling-clients.js";

interface Payload {
  t: number;
  b: string;
}

/** The echo clients, over websockets or (`echo-polling`) Engine.IO polling on one agent. */
async function openClients(
  spec: LoadSpec,
  handlers: ClientHandlers,
): Promise<{ clients: BenchClient[]; close(): void }> {
  if (!isPollingScenario(spec.scenario)) {
    const clients = await connectMany(
      spec.protocol,
      spec.port,
      spec.clients,
      spec.connectConcurrency,
      handlers,
    );
    return {
      clients,
      close: () => {
        for (const client of clients) client.close();
      },
    };
  }
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const clients = await openMany(
    spec.clients,
    spec.connectConcurrency,
    () => new EioPollingClient(agent, spec.port, handlers),
  );
  return {
    clients,
    close: () => {
      for (const client of clients) client.close();
      agent.destroy();
    },
  };
}

export const echo: Scenario = async ({ spec, barrier }) => {
  const body = "x".repeat(spec.payloadBytes);
  let running = true;
  let measuring = false;
  let acks = 0;
  let inFlight = 0;
  let answered = 0;
  const latencies: number[] = [];
  const send = (client: BenchClient): void => {
    inFlight++;
    client.request("echo", { t: now(), b: body });
  };
  const handlers = {
    ack(client: BenchClient, _id: number, data: unknown): void {
      inFlight--;
      answered++;
      if (measuring) {
        acks++;
        latencies.push(now() - (data as Payload).t);
      }
      if (running) send(client);
    },
  };
  const { clients, close } = await openClients(spec, handlers);
  for (const client of clients) for (let i = 0; i < spec.window; i++) send(client);
  await sleep(spec.warmupMs);
  if (answered === 0) throw new Error("warm-up: no ack arrived");

  await barrier("start");
  const window = new CpuWindow();
  measuring = true;
  await sleep(spec.durationMs);
  measuring = false;
  const wallMs = window.elapsedMs();
  const loadCpuPct = window.cpuPercent();
  await barrier("end");

  running = false;
  await waitFor(() => inFlight === 0, 2000);
  close();
  return {
    acks,
    wallMs,
    acksPerSec: (acks / wallMs) * 1000,
    p50Ms: percentile(latencies, latencies.length, 0.5),
    p99Ms: percentile(latencies, latencies.length, 0.99),
    loadCpuPct,
  };
};
