/**
 * PocketIO's handler option: a server built around one connection handler,
 * either a function or a class whose instance (created once, with the
 * server) has a method run for every connection of the main namespace.
 */

// biome-ignore lint/suspicious/noExplicitAny: handlers receive any socket typing.
type AnySocket = any;

/** A class instantiated once with the server; `method` runs per connection. */
export interface HandlerClass {
  class: new (
    // biome-ignore lint/suspicious/noExplicitAny: user classes take the server.
    server: any,
  ) => object;
  method: string;
}

export type Handler = ((socket: AnySocket) => void) | HandlerClass;

/**
 * Turns a handler into a connection listener.
 *
 * @example
 * class Chat { constructor(io) { this.io = io } run(socket) { socket.on("message", (m) => this.io.send(m)) } }
 * new Server({ handler: { class: Chat, method: "run" } });
 */
export function resolveHandler(handler: Handler, server: unknown): (socket: AnySocket) => void {
  if (typeof handler === "function") return handler;
  if (!handler || typeof handler.class !== "function" || typeof handler.method !== "string") {
    throw new TypeError("handler must be a function or { class, method }");
  }
  const instance = new handler.class(server) as Record<string, unknown>;
  const method = instance[handler.method];
  if (typeof method !== "function") {
    throw new TypeError(`handler class has no method ${handler.method}`);
  }
  return (socket) => (method as (s: AnySocket) => void).call(instance, socket);
}
