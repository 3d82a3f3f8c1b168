/**
 * A node for the metrics suites: Socket.IO and Bayeux on one HTTP server
 * (127.0.0.1, port 0) with `/metrics` served by a {@link Metrics} watching
 * both, and a scrape that reads the exposition into samples by series.
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { BayeuxServer, BayeuxServerOptions } from "../../src/bayeux/index.js";
import type { Broker } from "../../src/cluster/index.js";
import type { Server, ServerOptions } from "../../src/index.js";
import { createSocketIoRouter } from "../../src/mount/socketio.js";
import { Metrics, type MetricsOptions } from "../../src/ops/metrics/index.js";

export interface MetricsNode {
  io: Server;
  bayeux: BayeuxServer;
  http: HttpServer;
  port: number;
  metrics: Metrics;
  close(): Promise<void>;
}

export async function startMetricsNode(
  options: {
    broker?: Broker;
    bayeux?: BayeuxServerOptions;
    metrics?: MetricsOptions;
    /** Socket.IO server options (recovery, buffer limits, logger). */
    io?: Partial<ServerOptions>;
  } = {},
): Promise<MetricsNode> {
  const { broker } = options;
  const { io, bayeux, router } = createSocketIoRouter({
    ...options.io,
    ...(broker ? { broker } : {}),
    bayeux: { timeout: 5000, ...(broker ? { broker } : {}), ...options.bayeux },
  });
  if (bayeux === null) throw new Error("no Bayeux server");
  const metrics = new Metrics(options.metrics).watch({ io, bayeux, broker });
  const http = createServer((req, res) => {
    if (req.url === "/metrics") return metrics.handle(req, res);
    res.writeHead(404).end();
  });
  router.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    io,
    bayeux,
    http,
    port,
    metrics,
    async close() {
      metrics.close();
      await router.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Samples of an exposition by series (`name{labels}`), checking each line's shape. */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    assert.ok(space > 0, `malformed line ${line}`);
    const value = line.slice(space + 1);
    samples.set(line.slice(0, space), value === "+Inf" ? Number.POSITIVE_INFINITY : Number(value));
  }
  return samples;
}

/** GETs `/metrics` of the node on `port`: its samples, content type and text. */
export async function scrape(port: number, path = "/metrics") {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { samples: parseExposition(text), type: res.headers.get("content-type"), text };
}

/** The value of `series`, failing when the exposition does not have it. */
export function sampleOf(samples: Map<string, number>, series: string): number {
  const value = samples.get(series);
  assert.ok(value !== undefined, `no sample ${series}`);
  return value;
}
