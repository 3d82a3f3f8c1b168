/**
 * One standalone server (the CLI's `startServer`) as a cluster node on
 * 127.0.0.1, port 0, with the CLI's default paths and a quiet log.
 */
import type { ServeOptions } from "../../src/cli/options.js";
import { type RunningServer, startServer } from "../../src/cli/server.js";

/** A standalone server on 127.0.0.1, port 0, the default paths, a 2 s shutdown. */
export const LOCAL_SERVE: Readonly<ServeOptions> = Object.freeze({
  port: 0,
  host: "127.0.0.1",
  path: "/socket.io",
  bayeuxPath: "/bayeux",
  shutdownTimeout: 2000,
});

/**
 * @example
 * const node = await startClusterNode({ redisUrl: REDIS_URL, nodeId: "a", prefix });
 */
export function startClusterNode(
  cluster: NonNullable<ServeOptions["cluster"]>,
  extra: Partial<ServeOptions> = {},
): Promise<RunningServer> {
  const options: ServeOptions = { ...LOCAL_SERVE, cluster, ...extra };
  return startServer(options, { log: () => {} });
}
