/**
 * Long-polling fan-out (`polling-nosticky`): `clients` long-polling receivers
 * through the target's address (the round-robin proxy), half of them
 * Engine.IO/Socket.IO polling clients in the bench room and half Bayeux
 * long-polling clients on the fan-out channel, alternating; one publisher on
 * a websocket (the Socket.IO controller) sends `rate` messages per second,
 * which the node broadcasts to the room and the channel alike. Each message
 * carries its send time; every receiver records its delivery latency.
 *
 * Metrics: deliveries, expected, p50Ms, p99Ms, maxMs, eioP99Ms, bayeuxP99Ms,
 * wallMs, loadCpuPct, failedClients.
 */
import { Agent } from "node:http";
import { percentile } from "../lib/stats.js";
import { connect } from "./clients.js";
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

/** How long the warm-up's deliveries may trail (a poll cycle per message and client). */
const WARM_WAIT_MS = 15_000;
/** How long the measured window's last deliveries may trail. */
const TAIL_WAIT_MS = 5000;

/** Latencies of one protocol's receivers. */
class Samples {
  readonly values: Float64Array;
  length = 0;
  warm = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  record(data: unknown): void {
    const message = data as Message;
    if (message.s < 0) this.warm++;
    else if (this.length < this.values.length) this.values[this.length++] = now() - message.t;
  }
}

export const polling: Scenario = async ({ spec, barrier }) => {
  const body = "x".repeat(spec.payloadBytes);
  const messages = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));
  const eioCount = Math.ceil(spec.clients / 2);
  const eio = new Samples(messages * eioCount);
  const bayeux = new Samples(messages * (spec.clients - eioCount));
  const expected = messages * spec.clients;
  const onEio = {
    event(name: string, data: unknown): void {
      if (name === "m") eio.record(data);
    },
  };
  const onBayeux = {
    event(_name: string, data: unknown): void {
      bayeux.record(data);
    },
  };

  // One agent, no socket limit: every receiver keeps a poll outstanding.
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const receivers = await openMany<PollingClient>(spec.clients, spec.connectConcurrency, (i) =>
    i % 2 === 0
      ? new EioPollingClient(agent, spec.port, onEio)
      : new BayeuxPollingClient(agent, spec.port, onBayeux),
  );
  const publisher = await connect("sio", spec.port, true, {});

  const warmMessages = Math.max(1, Math.round((spec.rate * spec.warmupMs) / 1000));
  const warmExpected = warmMessages * spec.clients;
  await paced(spec.rate, warmMessages, () => publisher.emit("pub", { t: now(), s: -1, b: body }));
  if (!(await waitFor(() => eio.warm + bayeux.warm >= warmExpected, WARM_WAIT_MS))) {
    throw new Error(
      `warm-up: ${eio.warm + bayeux.warm} of ${warmExpected} deliveries arrived${firstFailure(receivers)}`,
    );
  }

  await barrier("start");
  const window = new CpuWindow();
  await paced(spec.rate, messages, (s) => publisher.emit("pub", { t: now(), s, b: body }));
  await waitFor(() => eio.length + bayeux.length >= expected, TAIL_WAIT_MS);
  const wallMs = window.elapsedMs();
  const loadCpuPct = window.cpuPercent();
  await barrier("end");

  const failedClients = receivers.filter((r) => r.failure !== undefined).length;
  for (const client of receivers) client.close();
  publisher.close();
  agent.destroy();

  const all = new Float64Array(eio.length + bayeux.length);
  all.set(eio.values.subarray(0, eio.length));
  all.set(bayeux.values.subarray(0, bayeux.length), eio.length);
  return {
    deliveries: all.length,
    expected,
    p50Ms: percentile(all, all.length, 0.5),
    p99Ms: percentile(all, all.length, 0.99),
    maxMs: percentile(all, all.length, 1),
    eioP99Ms: percentile(eio.values, eio.length, 0.99),
    bayeuxP99Ms: percentile(bayeux.values, bayeux.length, 0.99),
    wallMs,
    loadCpuPct,
    failedClients,
  };
};
