/**
 * Idle memory: `clients` websocket connections that join the main namespace
 * (Socket.IO CONNECT answered) and then do nothing. The orchestrator takes the
 * server's memory after a forced GC at `baseline` (after a small warm-up
 * connect/close round, so one-time code and caches are not counted) and at
 * `loaded`; the difference per connection is the result.
 *
 * Metrics: connected, connectMs.
 */
import { connectMany } from "./clients.js";
import { now, type Scenario, sleep } from "./context.js";

const WARM_CONNECTIONS = 50;
const SETTLE_MS = 1000;

export const idle: Scenario = async ({ spec, barrier }) => {
  const warm = await connectMany(
    spec.protocol,
    spec.port,
    Math.min(WARM_CONNECTIONS, spec.clients),
    spec.connectConcurrency,
    {},
  );
  for (const client of warm) client.close();
  await sleep(SETTLE_MS / 2);

  await barrier("baseline");
  const start = now();
  const clients = await connectMany(
    spec.protocol,
    spec.port,
    spec.clients,
    spec.connectConcurrency,
    {},
  );
  const connectMs = now() - start;
  await sleep(SETTLE_MS);
  await barrier("loaded");

  for (const client of clients) client.close();
  return { connected: clients.length, connectMs };
};
