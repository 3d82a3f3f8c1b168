/**
 * Target `faye`: faye 1.4's NodeAdapter mounted at /bayeux on a node http
 * server (the comparison for the Bayeux scenarios). Server-side publishes go
 * through `bayeux.getClient().publish`, Faye's server-side API; the burst
 * request is seen through the adapter's `publish` monitoring event. In the
 * cluster scenarios the adapter runs on the `faye-redis` engine.
 */
import { createRequire } from "node:module";
import { BAYEUX_PATH, type ServerConfig } from "../lib/protocol.js";
import {
  BURST_CHANNEL,
  burst,
  CONNECT_TIMEOUT_MS,
  closeHttp,
  listen,
  plainHttpServer,
} from "./bayeux-app.js";
import { fayeRedisEngine } from "./cluster.js";
import { type BenchServer, host } from "./host.js";

/** The slice of faye's (untyped) API this target uses. */
interface NodeAdapter {
  attach(server: unknown): void;
  getClient(): { publish(channel: string, data: unknown): unknown };
  on(event: "publish", listener: (clientId: string, channel: string, data: unknown) => void): void;
}

interface Faye {
  NodeAdapter: new (options: {
    mount: string;
    timeout: number;
    engine?: Record<string, unknown>;
  }) => NodeAdapter;
}

const faye = createRequire(import.meta.url)("faye") as Faye;

async function start(config: ServerConfig): Promise<BenchServer> {
  const http = plainHttpServer();
  // Faye's timeout is in seconds.
  const adapter = new faye.NodeAdapter({
    mount: BAYEUX_PATH,
    timeout: CONNECT_TIMEOUT_MS / 1000,
    ...(config.cluster === undefined ? {} : { engine: fayeRedisEngine(config.cluster) }),
  });
  adapter.attach(http);
  if (config.scenario === "bayeux-burst") {
    const client = adapter.getClient();
    const publish = (channel: string, data: unknown): void => {
      client.publish(channel, data);
    };
    adapter.on("publish", (_clientId, channel, data) => {
      if (channel === BURST_CHANNEL) burst(data, publish);
    });
  }
  const port = await listen(http);
  return { port, close: () => closeHttp(http) };
}

await host(start);
