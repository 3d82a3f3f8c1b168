/**
 * Mounting an engine on a Node HTTP server: the engine claims the requests
 * and upgrades under its path and passes every other request to the server's
 * previous `request` listeners.
 */
import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { EngineAttachError } from "./errors.js";
import { addEngineRoute } from "./fast-route.js";
import { DEFAULTS } from "./options.js";
import type { Server } from "./server.js";
import type { EngineOptions } from "./types.js";

export interface AttachOptions {
  /** Path to claim. Default "/engine.io". */
  path?: string;
  /** Whether the path ends with a slash ("/engine.io/"). Default true. */
  addTrailingSlash?: boolean;
  /** Destroy upgrade requests for other paths nobody answered. Default true. */
  destroyUpgrade?: boolean;
  /** Milliseconds before such an unanswered upgrade is destroyed. Default 1000. */
  destroyUpgradeTimeout?: number;
}

/** The request path prefix the engine claims. */
export function computePath(options: AttachOptions): string {
  const base = (options.path ?? DEFAULTS.path).replace(/\/$/, "");
  return options.addTrailingSlash === false ? base : `${base}/`;
}

/** Whether `url` is under `path` (a path without trailing slash must end at `?` or `/`). */
export function matchesPath(url: string | undefined, path: string): boolean {
  if (url === undefined || !url.startsWith(path)) return false;
  if (path.endsWith("/")) return true;
  const next = url.charCodeAt(path.length);
  return Number.isNaN(next) || next === 63 /* ? */ || next === 47 /* / */;
}

/** The engine paths served on each HTTP server (weak: a server's entry goes with it). */
const claimed = new WeakMap<object, string[]>();

/**
 * Records that `path` (as {@link computePath} gives it) is served on
 * `server`, or throws {@link EngineAttachError} when it overlaps a path
 * already claimed there (one is a prefix of the other, so both would take
 * the same requests and upgrades). Exported for other code that mounts an
 * engine on a server (e.g. a mount router), so that both check one table.
 */
export function claimPath(server: object, path: string): void {
  const paths = claimed.get(server);
  if (paths === undefined) {
    claimed.set(server, [path]);
    return;
  }
  for (const other of paths) {
    if (matchesPath(path, other) || matchesPath(other, path)) {
      throw new EngineAttachError(path, other);
    }
  }
  paths.push(path);
}

/**
 * The path claimed on `server` that overlaps `path`, if any (see
 * {@link claimPath}): a mount router checks it before serving `path` there.
 */
export function claimedOverlap(server: object, path: string): string | undefined {
  for (const other of claimed.get(server) ?? []) {
    if (matchesPath(path, other) || matchesPath(other, path)) return other;
  }
  return undefined;
}

/** Forgets a path {@link claimPath} recorded (a mount router detached from the server). */
export function releasePath(server: object, path: string): void {
  const paths = claimed.get(server);
  const index = paths === undefined ? -1 : paths.indexOf(path);
  if (index !== -1) paths!.splice(index, 1);
}

/**
 * Attaches `engine` to `server` (see {@link Server.attach}). Throws
 * {@link EngineAttachError}, before touching the server, when an engine
 * already serves an overlapping path on it.
 */
export function attachEngine(
  engine: Server,
  server: HttpServer,
  options: AttachOptions & EngineOptions = {},
): void {
  const path = computePath({ ...options, path: options.path ?? engine.opts.path });
  claimPath(server, path);
  const destroyUpgradeTimeout =
    options.destroyUpgradeTimeout ??
    engine.opts.destroyUpgradeTimeout ??
    DEFAULTS.destroyUpgradeTimeout;
  const destroyUpgrade = options.destroyUpgrade ?? engine.opts.destroyUpgrade;
  addEngineRoute(engine, server, path);
  const previous = server.listeners("request").slice(0) as ((...args: unknown[]) => void)[];
  server.removeAllListeners("request");
  server.on("close", () => engine.close());
  server.on("listening", () => {
    engine.init();
    engine.onListening(server);
  });
  if (server.listening) engine.onListening(server);
  server.on("request", (req: IncomingMessage, res) => {
    if (matchesPath(req.url, path)) engine.handleRequest(req, res);
    else for (const listener of previous) listener.call(server, req, res);
  });
  if (!engine.opts.transports.includes("websocket")) return;
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (matchesPath(req.url, path)) {
      engine.handleUpgrade(req, socket, head);
      return;
    }
    if (destroyUpgrade === false) return;
    // Node would destroy an upgrade nobody listens to; by listening we took
    // that over, so an upgrade no other listener answered must die here.
    setTimeout(() => {
      if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten! <= 0) {
        socket.on("error", () => {});
        socket.end();
      }
    }, destroyUpgradeTimeout).unref();
  });
}
