/**
 * `switchboard/engine`: an Engine.IO v4 server (v3 behind `allowEIO3`) with
 * the public API of the `engine.io` 6 package, so code written for it only
 * changes its import.
 *
 * @example
 * import { listen } from "switchboard/engine";
 *
 * const engine = listen(3000);
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 * });
 */
import type { Server as HttpServer } from "node:http";
import * as parser from "../codec/engineio/index.js";
import type { AttachOptions } from "./attach.js";
import { Server } from "./server.js";
import type { EngineOptions } from "./types.js";

export type { Packet, PacketType, RawData } from "../codec/engineio/index.js";
export { BodyReader } from "../transport/body-reader.js";
export { PollingTransport } from "../transport/polling.js";
export { JsonpTransport } from "../transport/polling-jsonp.js";
export { Transport } from "../transport/transport.js";
export { WebSocketTransport } from "../transport/websocket.js";
export type { AttachOptions } from "./attach.js";
export {
  ENGINE_ERRORS,
  EngineAttachError,
  EngineRequestError,
  errorMessages,
  errors,
} from "./errors.js";
export { HandshakeRequest } from "./handshake-request.js";
export { type MessageData, PreparedMessage } from "./prepared-message.js";
export { type ConnectionErrorEvent, type Middleware, Server, type ServerEvents } from "./server.js";
export { Socket, type SocketEvents } from "./socket.js";
export { EngineStats } from "./stats.js";
export type {
  CloseReason,
  CookieOptions,
  CorsOptions,
  EngineOptions,
  ReadyState,
  SendOptions,
  TransportName,
} from "./types.js";
export { parser };

/** The Engine.IO protocol revision this server speaks by default. */
export const protocol = 4;

/** Transport names, as engine.io's `transports` export lists them. */
export const transports = { polling: "polling", websocket: "websocket" } as const;

/**
 * Creates an engine and attaches it to `server`.
 *
 * @example
 * const engine = attach(httpServer, { path: "/realtime", pingInterval: 10000 });
 */
export function attach(server: HttpServer, options: AttachOptions & EngineOptions = {}): Server {
  return new Server(options).attach(server, options);
}

/**
 * Creates an HTTP server (501 for anything but the engine), attaches an
 * engine and listens on `port`.
 *
 * @example
 * const engine = listen(3000, { pingInterval: 10000 }, () => console.log("ready"));
 */
export function listen(
  port: number,
  options?: (AttachOptions & EngineOptions) | (() => void),
  callback?: () => void,
): Server {
  if (typeof options === "function") return new Server().listen(port, options);
  return new Server(options ?? {}).listen(port, options ?? {}, callback);
}
