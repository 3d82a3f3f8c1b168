/**
 * Interest (cluster): `rooms` rooms (Bayeux channels), each with
 * `clients / rooms` members, all of them on one node — room r on node
 * `r % nodes`. One publisher on the first node sends `rate` messages per
 * second spread over the rooms in turn. A node needs from Redis only the
 * messages of rooms that have members on it and were published elsewhere; the
 * generator adds up those messages' data bytes per node (`neededBytes<n>`), and
 * the orchestrator compares them with what the node actually read from Redis.
 *
 * Metrics: deliveries, expected, p50Ms, p99Ms, maxMs, wallMs, loadCpuPct,
 * publishedBytes, neededBytes1 … neededBytes<nodes>.
 */

import { percentile } from "../lib/stats.js";
import { type BenchClient, connect } from "./clients.js";
import { CpuWindow, now, paced, type Scenario, waitFor } from "./context.js";

interface Message {
  /** Send time (ms, `performance.timeOrigin + performance.now()`). */
  t: number;
  /** Sequence number; -1 during warm-up, which is not recorded. */
  s: number;
  b: string;
}

/** How long the warm-up's deliveries may trail; a target that misses it is broken. */
const WARM_WAIT_MS = 10_000;

/** The node (index into `ports`) that holds every member of `room`. */
export function nodeOfRoom(room: number, nodes: number): number {
  return room % nodes;
}

export const interest: Scenario = async ({ spec, barrier }) => {
  const { ports, rooms } = spec;
  const nodes = ports.length;
  const members = Math.max(1, Math.floor(spec.clients / rooms));
  const body = "x".repeat(spec.payloadBytes);
  const messages = Math.max(1, Math.round((spec.rate * spec.durationMs) / 1000));
  const expected = messages * members;
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

  // Members joined room by room, a bounded number of handshakes in flight.
  const receivers: BenchClient[] = [];
  const joins = Array.from({ length: rooms * members }, (_, i) => i % rooms);
  const worker = async (): Promise<void> => {
    for (let room = joins.pop(); room !== undefined; room = joins.pop()) {
      const port = ports[nodeOfRoom(room, nodes)];
      receivers.push(await connect(spec.protocol, port, false, handlers, room));
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(spec.connectConcurrency, joins.length) }, worker),
  );
  const publisher = await connect(spec.protocol, ports[0], true, {});

  const warmMessages = Math.max(rooms, Math.round((spec.rate * spec.warmupMs) / 1000));
  await paced(spec.rate, warmMessages, (i) =>
    publisher.publishTo(i % rooms, { t: now(), s: -1, b: body }),
  );
  if (!(await waitFor(() => warm >= warmMessages * members, WARM_WAIT_MS))) {
    throw new Error(`warm-up: ${warm} of ${warmMessages * members} deliveries arrived`);
  }

  const needed = new Array<number>(nodes).fill(0);
  let publishedBytes = 0;
  await barrier("start");
  const window = new CpuWindow();
  await paced(spec.rate, messages, (s) => {
    const room = s % rooms;
    const data: Message = { t: now(), s, b: body };
    const bytes = Buffer.byteLength(JSON.stringify(data));
    publishedBytes += bytes;
    // The publisher's own node delivers locally: it needs nothing from Redis.
    const node = nodeOfRoom(room, nodes);
    if (node !== 0) needed[node] += bytes;
    publisher.publishTo(room, data);
  });
  await waitFor(() => samples >= expected, 3000);
  const wallMs = window.elapsedMs();
  const loadCpuPct = window.cpuPercent();
  await barrier("end");

  for (const client of receivers) client.close();
  publisher.close();
  const deliveries = samples;
  const metrics: Record<string, number> = {
    deliveries,
    expected,
    p50Ms: percentile(latencies, deliveries, 0.5),
    p99Ms: percentile(latencies, deliveries, 0.99),
    maxMs: percentile(latencies, deliveries, 1),
    wallMs,
    loadCpuPct,
    publishedBytes,
  };
  needed.forEach((bytes, node) => {
    metrics[`neededBytes${node + 1}`] = bytes;
  });
  return metrics;
};
