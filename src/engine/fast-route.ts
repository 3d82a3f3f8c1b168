/**
 * The engine's route on an HTTP/1.1 front: the requests under the engine's
 * path that it serves below node:http (see `Server.claimsFast`).
 */
import type { IncomingMessage } from "node:http";
import type { FastRoute } from "../http1/connection.js";
import { Http1Front } from "../http1/front.js";
import { matchesPath } from "./attach.js";
import type { Server } from "./server.js";

export function engineRoute(engine: Server, path: string): FastRoute {
  return {
    get maxBody() {
      return engine.opts.maxHttpBufferSize;
    },
    claim: (exchange) =>
      matchesPath(exchange.url, path) && engine.claimsFast(exchange as unknown as IncomingMessage),
    serve: (exchange) => engine.serveFast(exchange),
    logger: engine.logger,
  };
}

/** The route made for each server an engine was attached to. */
const routes = new WeakMap<object, FastRoute>();

/**
 * Puts the engine's route on `server`'s front when the engine allows it
 * (`fastPolling`) and the server can have one (taken off when the server
 * closes); the route is kept for {@link engineRouteOf} either way.
 */
export function addEngineRoute(engine: Server, server: object, path: string): void {
  if (!engine.opts.fastPolling) return;
  const route = engineRoute(engine, path);
  routes.set(server, route);
  const front = Http1Front.of(server);
  if (front === null) return;
  front.add(route);
  front.server.once("close", () => front.remove(route));
}

/** The route of the engine attached to `server` (a mount serves it on the real server). */
export function engineRouteOf(server: object): FastRoute | undefined {
  return routes.get(server);
}
