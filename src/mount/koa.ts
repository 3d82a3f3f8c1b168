/**
 * Switchboard for Koa 3 (`switchboard/koa`).
 *
 * Socket.IO requests are answered in front of the Koa app, at the HTTP
 * server, so no Koa middleware (body parsers, routers, error pages) consumes
 * or answers them, whatever the middleware order; upgrades under the path go
 * to the engine. Every other request reaches Koa untouched.
 */
import type { Server } from "../index.js";
import { attachToApp, type ListeningApp } from "./listen.js";
import type { NodeServer } from "./router.js";
import { createSocketIoRouter, type MountOptions } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { socketIoMount } from "./socketio.js";

/** Options of {@link attachKoa}: Socket.IO server options plus where to attach. */
export interface KoaMountOptions extends MountOptions {
  /**
   * The HTTP or HTTPS server(s) the app is served by, e.g. from
   * `http.createServer(app.callback())`. Default: every server `app.listen()` creates.
   */
  server?: NodeServer | NodeServer[];
}

/**
 * Creates a Socket.IO server and serves it beside a Koa app. Returns the
 * Socket.IO server. Closing the app's server closes it as well; `io.close()`
 * closes only the Socket.IO side.
 *
 * @example
 * import Koa from "koa";
 * import { attachKoa } from "switchboard/koa";
 *
 * const app = new Koa();
 * const io = attachKoa(app);
 * io.on("connection", (socket) => socket.emit("hello"));
 * app.use((ctx) => { ctx.body = "hello"; });
 * app.listen(3000);
 */
export function attachKoa(app: ListeningApp, options: KoaMountOptions = {}): Server {
  const { server, ...mountOptions } = options;
  const { io, router } = createSocketIoRouter(mountOptions);
  attachToApp(app, router, server);
  return io;
}
