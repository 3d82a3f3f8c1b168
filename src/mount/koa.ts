/**
 * Switchboard for Koa 3 (`switchboard/koa`).
 *
 * Socket.IO requests (under `/socket.io`) and Bayeux requests (under
 * `/bayeux`) are answered in front of the Koa app, at the HTTP server, so no
 * Koa middleware (body parsers, routers, error pages) consumes or answers
 * them, whatever the middleware order; upgrades under either path go to their
 * server. Every other request reaches Koa untouched.
 */
import type { Server } from "../index.js";
import { attachToApp, type ListeningApp } from "./listen.js";
import type { NodeServer } from "./router.js";
import { createAttachedRouter, type MountOptions, type Switchboard } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { type Switchboard, socketIoMount } from "./socketio.js";

/**
 * Options of {@link attachKoa}: Socket.IO server options, `bayeux` (Bayeux
 * server options, a `BayeuxServer`, or `false`), plus where to attach.
 */
export interface KoaMountOptions extends MountOptions {
  /**
   * The HTTP or HTTPS server(s) the app is served by, e.g. from
   * `http.createServer(app.callback())`. Default: every server `app.listen()` creates.
   */
  server?: NodeServer | NodeServer[];
}

/**
 * Creates a Socket.IO server and a Bayeux server and serves them beside a Koa
 * app; returns both (`bayeux` is null with `bayeux: false`) and the router.
 * Closing the app's server closes them as well.
 *
 * @example
 * import Koa from "koa";
 * import { createKoaSwitchboard } from "switchboard/koa";
 *
 * const app = new Koa();
 * const { io, bayeux } = createKoaSwitchboard(app);
 * bayeux?.publish("/news", { headline: "hello" });
 * app.listen(3000);
 */
export function createKoaSwitchboard(
  app: ListeningApp,
  options: KoaMountOptions = {},
): Switchboard {
  const { server, ...mountOptions } = options;
  return createAttachedRouter(mountOptions, (router) => attachToApp(app, router, server));
}

/**
 * Creates a Socket.IO server and serves it beside a Koa app, with Bayeux at
 * `/bayeux` unless `bayeux: false` (use {@link createKoaSwitchboard} to reach
 * the Bayeux server). Returns the Socket.IO server. Closing the app's server
 * closes both; `io.close()` closes only the Socket.IO side.
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
  return createKoaSwitchboard(app, options).io;
}
