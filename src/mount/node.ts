/**
 * Switchboard on a plain Node `http` / `https` server: Socket.IO at
 * `/socket.io` and Bayeux at `/bayeux` in front of the server's own request
 * listener, for applications that use no framework.
 *
 * `new Server(httpServer)` alone serves Socket.IO; this helper is for serving
 * both protocols (or Bayeux beside an existing listener) with one call.
 */
import { attachToServers } from "./listen.js";
import type { NodeServer } from "./router.js";
import { createAttachedRouter, type MountOptions, type Switchboard } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { type MountOptions, type Switchboard, socketIoMount } from "./socketio.js";

/**
 * Creates a Socket.IO server and a Bayeux server and serves them on `server`
 * (or on each of several servers, e.g. http and https): requests and upgrades
 * under their paths reach them before the server's own `request` listeners,
 * everything else reaches those listeners unchanged. Closing the server(s)
 * closes both. Options: the Socket.IO server's, plus `bayeux` (Bayeux server
 * options, a `BayeuxServer`, or `false`) and `mounts`; `cors` applies to both.
 *
 * Called again on the same server with other paths, it serves both pairs; a
 * path the server already serves throws `MountError` `ERR_MOUNT_CONFLICT`
 * naming it, and nothing of the second call is left running.
 *
 * @example
 * import { createServer } from "node:http";
 * import { attachSwitchboard } from "switchboard/node";
 *
 * const httpServer = createServer((req, res) => res.end("hello"));
 * const { io, bayeux } = attachSwitchboard(httpServer, { bayeux: { timeout: 25000 } });
 * io.on("connection", (socket) => socket.emit("hello"));
 * bayeux?.subscribe("/chat/*", (data) => console.log(data));
 * httpServer.listen(3000);
 */
export function attachSwitchboard(
  server: NodeServer | NodeServer[],
  options: MountOptions = {},
): Switchboard {
  return createAttachedRouter(options, (router) => attachToServers(router, server));
}
