/**
 * Glue shared by the adapters whose app creates its own HTTP server in
 * `app.listen()` (Express, Koa): attach the router to servers given up front,
 * or to each server `app.listen()` creates, and close the mounts when the last
 * such server closes, as engine.io does when attached to a server.
 */
import type { Server as HttpServer } from "node:http";
import { assertPathFree } from "./front.js";
import type { MountRouter, NodeServer } from "./router.js";

/** An app whose `listen()` creates and returns a Node server (Express, Koa). */
export interface ListeningApp {
  listen(...args: never[]): HttpServer;
}

/**
 * Attaches `router` to `servers` when given, otherwise to every server the
 * app's `listen()` creates from now on (the app's own `listen` keeps its
 * arguments, callback and return value; the server it returns is attached
 * before it can accept a connection, since listening completes asynchronously).
 */
export function attachToApp(
  app: ListeningApp,
  router: MountRouter,
  servers: NodeServer | NodeServer[] | undefined,
): void {
  if (servers) {
    attachToServers(router, servers);
    return;
  }
  // Two routers waiting for one app's servers would meet there: refuse an
  // overlap now, at attach time, not when the app listens.
  const waiting = (routersOf.get(app) ?? []).filter((other) => !other.closed);
  for (const mount of router.mounts) assertPathFree(mount.path, waiting, "this app's servers");
  routersOf.set(app, [...waiting, router]);
  const listen = app.listen;
  app.listen = function listenWithMounts(this: ListeningApp, ...args: never[]): HttpServer {
    const server = listen.apply(this, args);
    track(router, server);
    return server;
  };
}

/**
 * Attaches `router` to each server (requests and upgrades), and closes the
 * router's mounts once every one of those servers has closed.
 */
export function attachToServers(router: MountRouter, servers: NodeServer | NodeServer[]): void {
  const list = Array.isArray(servers) ? servers : [servers];
  // Every attach first (each may throw on a path another router serves
  // there), so a failure leaves no close listener behind.
  for (const server of list) router.attach(server);
  for (const server of list) track(router, server);
}

const open = new WeakMap<MountRouter, number>();
const routersOf = new WeakMap<ListeningApp, MountRouter[]>();

function track(router: MountRouter, server: NodeServer): void {
  router.attach(server);
  open.set(router, (open.get(router) ?? 0) + 1);
  server.once("close", () => {
    router.detach(server);
    const left = (open.get(router) ?? 1) - 1;
    open.set(router, left);
    if (left === 0) void router.close();
  });
}
