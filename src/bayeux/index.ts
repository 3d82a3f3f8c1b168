/**
 * The Bayeux 1.0 server (the protocol of Faye and CometD) on Switchboard's
 * topic core, with long-polling, callback-polling and websocket transports.
 *
 * @example
 * import { createServer } from "node:http";
 * import { BayeuxServer, bayeuxMount } from "switchboard/bayeux";
 * import { MountRouter } from "switchboard/mount";
 *
 * const bayeux = new BayeuxServer({ path: "/bayeux" });
 * const http = createServer();
 * new MountRouter().add(bayeuxMount(bayeux)).attach(http);
 * http.listen(8000);
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Mount } from "../mount/router.js";
import type { BayeuxServer } from "./server/server.js";
import { BayeuxHttpHandler } from "./transport/http.js";
import { BayeuxWebSocketHandler } from "./transport/ws.js";

export { BayeuxEncodeError } from "../codec/bayeux/index.js";
export type { Logger } from "../shared/logger.js";
export { ChannelRouter } from "./server/channels.js";
export { type ChannelSubscriber, Delivery } from "./server/delivery.js";
export { BayeuxChannelError, BayeuxClosedError } from "./server/errors.js";
export type { BayeuxExtension, ExtensionCallback, ExtensionHook } from "./server/extensions.js";
export type {
  DisconnectReason,
  HeldResult,
  ProcessContext,
  ProcessResult,
  ServiceHandler,
} from "./server/host.js";
export {
  type BayeuxCorsOptions,
  type BayeuxPolicy,
  type BayeuxServerOptions,
  CONNECTION_TYPES,
  type ConnectionType,
  type PolicyAnswer,
} from "./server/options.js";
export {
  BayeuxServer,
  type BayeuxServerEvents,
  type ChannelListener,
} from "./server/server.js";
export { BayeuxSession } from "./server/session.js";
export { BayeuxHttpHandler, isValidJsonpCallback } from "./transport/http.js";
export { BayeuxSocket, BayeuxWebSocketHandler } from "./transport/ws.js";

/**
 * The Bayeux server as a {@link Mount} for a `MountRouter`: requests and
 * upgrades under `server.options.path` (default `/bayeux`, sub-paths such as
 * `/bayeux/connect` included).
 *
 * @example
 * new MountRouter().add(bayeuxMount(new BayeuxServer())).attach(httpServer);
 */
export function bayeuxMount(server: BayeuxServer): Mount {
  const http = new BayeuxHttpHandler(server);
  const ws = new BayeuxWebSocketHandler(server);
  return {
    path: server.options.path,
    handleRequest: (req: IncomingMessage, res: ServerResponse) => http.handleRequest(req, res),
    handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      ws.handleUpgrade(req, socket, head),
    close: () => server.close(),
    fastRoute: http.fastRoute(),
  };
}
