/**
 * Switchboard for Express 5 (`switchboard/express`).
 *
 * Socket.IO requests are answered in front of the Express app, at the HTTP
 * server, so no router, body parser or 404 handler of the app ever sees them,
 * whatever order the app registers things in; upgrades under the path go to
 * the engine. Every other request reaches Express untouched.
 */
import type { Server } from "../index.js";
import { attachToApp, type ListeningApp } from "./listen.js";
import type { NodeServer } from "./router.js";
import { createSocketIoRouter, type MountOptions } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { socketIoMount } from "./socketio.js";

/** Options of {@link attachExpress}: Socket.IO server options plus where to attach. */
export interface ExpressMountOptions extends MountOptions {
  /**
   * The HTTP or HTTPS server(s) the app is served by, e.g. from
   * `http.createServer(app)`. Default: every server `app.listen()` creates.
   */
  server?: NodeServer | NodeServer[];
}

/**
 * Creates a Socket.IO server and serves it beside an Express app. Returns the
 * Socket.IO server. Closing the app's server closes it as well; `io.close()`
 * closes only the Socket.IO side (the server belongs to the app).
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
  const { server, ...mountOptions } = options;
  const { io, router } = createSocketIoRouter(mountOptions);
  attachToApp(app, router, server);
  return io;
}
