/**
 * One node of the no-sticky scenario (`polling-nosticky`): Switchboard's
 * Socket.IO and Bayeux servers on one node http server (`attachSwitchboard`
 * from the built `dist/mount/node.js`, as the standalone server serves them),
 * sharing a `RedisBroker`, with the sessions in a `RedisSessionStore` and
 * forwarding on — requests for a session another node owns are replayed to
 * it. The node advertises its own listening address. Alone (set-up a) it
 * forwards nothing; with a second node behind the round-robin proxy (set-up b)
 * about half of every session's requests land on the other node.
 *
 * Receivers: Socket.IO connections join the bench room; Bayeux clients
 * subscribe to the fan-out channel themselves. The controller's `pub` event
 * (a websocket) is broadcast to both: the room and the channel.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Server, Socket } from "socket.io";
import { BAYEUX_CHANNELS, BAYEUX_PATH, type ClusterConfig } from "../lib/protocol.js";
import { CONNECT_TIMEOUT_MS, closeHttp, listen, plainHttpServer } from "./bayeux-app.js";
import { DIST, switchboardBroker } from "./cluster.js";
import type { BenchServer } from "./host.js";

const ROOM = "bench";

/** The slice of the built API this node uses. */
interface MountModule {
  attachSwitchboard(
    server: unknown,
    options: Record<string, unknown>,
  ): {
    io: Server;
    bayeux: { publish(channel: string, data: unknown): number } | null;
    router: { close(): Promise<void> };
  };
}

interface RedisModule {
  connectRedis(target: { url: string }): Promise<unknown>;
  closeRedis(redis: unknown): Promise<void>;
  RedisSessionStore: new (redis: unknown, options: { prefix: string }) => unknown;
}

const load = (file: string): Promise<unknown> => import(pathToFileURL(resolve(DIST, file)).href);

/**
 * Starts one forwarding node on 127.0.0.1, port 0.
 *
 * @example
 * const node = await startNoStickyNode({ nodeId: "node1", redisUrl, prefix });
 */
export async function startNoStickyNode(cluster: ClusterConfig): Promise<BenchServer> {
  const { attachSwitchboard } = (await load("mount/node.js")) as MountModule;
  const redisModule = (await load("cluster/redis.js")) as RedisModule;
  const broker = await switchboardBroker(cluster);
  const redis = await redisModule.connectRedis({ url: cluster.redisUrl });
  const sessionStore = new redisModule.RedisSessionStore(redis, { prefix: cluster.prefix });
  const http = plainHttpServer();
  // Listening first: the advertised address is the one the node listens on.
  const port = await listen(http);
  const forward = { advertise: `http://127.0.0.1:${port}` };
  const { io, bayeux, router } = attachSwitchboard(http, {
    serveClient: false,
    broker,
    sessionStore,
    nodeId: cluster.nodeId,
    forward,
    bayeux: {
      path: BAYEUX_PATH,
      timeout: CONNECT_TIMEOUT_MS,
      sessionStore,
      nodeId: cluster.nodeId,
      forward,
    },
  });
  const publish = (data: unknown): void => {
    io.to(ROOM).emit("m", data);
    bayeux?.publish(BAYEUX_CHANNELS.deliveries, data);
  };
  io.on("connection", (socket: Socket) => {
    if (socket.handshake.query.role === "ctl") socket.on("pub", publish);
    else socket.join(ROOM);
  });
  return {
    port,
    close: async () => {
      await router.close();
      await closeHttp(http);
      await broker.close();
      await redisModule.closeRedis(redis);
    },
  };
}
