/**
 * Switchboard for Express 5 (`switchboard/express`).
 *
 * Socket.IO requests (under `/socket.io`) and Bayeux requests (under
 * `/bayeux`) are answered in front of the Express app, at the HTTP server, so
 * no router, body parser or 404 handler of the app ever sees them, whatever
 * order the app registers things in; upgrades under either path go to their
 * server. Every other request reaches Express untouched.
 */
import type { Server } from "../index.js";
import { attachToApp, type ListeningApp } from "./listen.js";
import type { NodeServer } from "./router.js";
import { createAttachedRouter, type MountOptions, type Switchboard } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { type Switchboard, socketIoMount } from "./socketio.js";

/**
 * Options of {@link attachExpress}: Socket.IO server options, `bayeux`
 * (Bayeux server options, a `BayeuxServer`, or `false`), plus where to attach.
 */
export interface ExpressMountOptions extends MountOptions {
  /**
   * The HTTP or HTTPS server(s) the app is served by, e.g. from
   * `http.createServer(app)`. Default: every server `app.listen()` creates.
   */
  server?: NodeServer | NodeServer[];
}

/**
 * Creates a Socket.IO server and a Bayeux server and serves them beside an
 * Express app; returns both (`bayeux` is null with `bayeux: false`) and the
 * router. Closing the app's server closes them as well.
 *
 * @example
 * import express from "express";
 * import { createExpressSwitchboard } from "switchboard/express";
 *
 * const app = express();
 * const { io, bayeux } = createExpressSwitchboard(app, { bayeux: { path: "/faye" } });
 * io.on("connection", (socket) => socket.emit("hello"));
 * bayeux?.subscribe("/chat/*", (data) => console.log(data));
 * app.listen(3000);
 */
export function createExpressSwitchboard(
  app: ListeningApp,
  options: ExpressMountOptions = {},
): Switchboard {
  const { server, ...mountOptions } = options;
  return createAttachedRouter(mountOptions, (router) => attachToApp(app, router, server));
}

/**
 * Creates a Socket.IO server and serves it beside an Express app, with Bayeux
 * at `/bayeux` unless `bayeux: false` (use {@link createExpressSwitchboard} to
 * reach the Bayeux server). Returns the Socket.IO server. Closing the app's
 * server closes both; `io.close()` closes only the Socket.IO side (the server
 * belongs to the app).
 *
 * @example
 * import express from "express";
 * import { attachExpress } from "switchboard/express";
 *
 * const app = express();
 * const io = attachExpress(app, { cors: { origin: "https://example.com" } });
 * io.on("connection", (socket) => socket.on("ping", (ack) => ack("pong")));
 * app.get("/", (_req, res) => res.send("hello"));
 * app.listen(3000);
 *
 * // or with a server you create yourself:
 * const server = http.createServer(app);
 * attachExpress(app, { server });
 * server.listen(3000);
 */
export function attachExpress(app: ListeningApp, options: ExpressMountOptions = {}): Server {
  return createExpressSwitchboard(app, options).io;
}
