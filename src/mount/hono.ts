/**
 * Switchboard for Hono 4 on Node (`switchboard/hono`, with `@hono/node-server`).
 *
 * A Hono middleware hands requests under the Socket.IO path (and the Bayeux
 * path, `/bayeux` unless `bayeux: false`) to their server
 * through the Node bindings (`c.env.incoming` / `c.env.outgoing`) and answers
 * Hono with node-server's "response already sent" marker, so node-server
 * writes nothing itself. Hono never reads the body, so the engine gets the raw
 * stream. Upgrades do not pass through Hono's request handling: they are
 * taken on the server `serve()` returns (`injectWebSocket`), the same shape
 * as `@hono/node-ws`.
 */
import type { HttpBindings, ServerType } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { MiddlewareHandler } from "hono";
import type { BayeuxServer } from "../bayeux/index.js";
import type { Server } from "../index.js";
import type { MountRouter, NodeServer } from "./router.js";
import { createSocketIoRouter, type MountOptions } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { type Switchboard, socketIoMount } from "./socketio.js";

/** What {@link createHonoSwitchboard} returns. */
export interface HonoSwitchboard {
  /** The Socket.IO server. */
  io: Server;
  /** The Bayeux server, or null when created with `bayeux: false`. */
  bayeux: BayeuxServer | null;
  /** The router holding Socket.IO, Bayeux and any extra mounts. */
  router: MountRouter;
  /** Register first, with `app.use(middleware)`. */
  middleware: MiddlewareHandler<{ Bindings: HttpBindings }>;
  /**
   * Takes websocket upgrades on the server `serve()` returned. Closing that
   * server closes the Socket.IO and Bayeux servers too.
   */
  injectWebSocket(server: ServerType): void;
}

/**
 * Creates a Socket.IO server and a Bayeux server for a Hono app served by
 * `@hono/node-server`.
 *
 * @example
 * import { serve } from "@hono/node-server";
 * import { Hono } from "hono";
 * import { createHonoSwitchboard } from "switchboard/hono";
 *
 * const app = new Hono();
 * const { io, bayeux, middleware, injectWebSocket } = createHonoSwitchboard({ path: "/socket.io" });
 * app.use(middleware);
 * app.get("/", (c) => c.text("hello"));
 * io.on("connection", (socket) => socket.emit("hello"));
 * bayeux?.publish("/news", { headline: "hello" });
 * const server = serve({ fetch: app.fetch, port: 3000 });
 * injectWebSocket(server);
 */
export function createHonoSwitchboard(options: MountOptions = {}): HonoSwitchboard {
  const { io, bayeux, router } = createSocketIoRouter(options);
  const middleware: MiddlewareHandler<{ Bindings: HttpBindings }> = async (c, next) => {
    // `outgoing` is absent when node-server runs an upgrade through the app
    // (its own websocket support); upgrades are ours via injectWebSocket.
    const incoming = c.env?.incoming;
    const outgoing = c.env?.outgoing;
    if (incoming && outgoing && router.handleRequest(incoming, outgoing)) {
      return RESPONSE_ALREADY_SENT;
    }
    await next();
  };
  const injectWebSocket = (server: ServerType): void => {
    const node = server as unknown as NodeServer;
    router.attach(node, { requests: false });
    node.once("close", () => {
      router.detach(node);
      void router.close();
    });
  };
  return { io, bayeux, router, middleware, injectWebSocket };
}
