/**
 * Socket.IO as a mount. The Socket.IO server is attached, through its public
 * `io.attach()`, to a private HTTP server that never listens; the router then
 * forwards requests and upgrades under `io.path()` to that server's events. So
 * whatever `attach()` sets up (the engine's polling and websocket handling,
 * `serveClient`'s `/socket.io/socket.io.js`) works the same under any
 * framework, while the framework's own server stays the framework's.
 */
import { Server as HttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { BayeuxServer, type BayeuxServerOptions, bayeuxMount } from "../bayeux/index.js";
import { engineRouteOf } from "../engine/fast-route.js";
import { kNoFront } from "../http1/front.js";
import { Server, type ServerOptions } from "../index.js";
import { toBayeuxCors } from "./cors.js";
import type { Mount } from "./router.js";
import { MountRouter } from "./router.js";

/**
 * The private server a mounted Socket.IO server is attached to. It only ever
 * receives the events the router forwards; closing it (as `io.close()` does)
 * closes nothing real, and says so without an error.
 */
class MountedHttpServer extends HttpServer {
  closed = false;
  readonly [kNoFront] = true;

  constructor() {
    // A request under the prefix that the engine does not claim (for example
    // `/socket.io` without its trailing slash) ends here rather than hanging.
    super((_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not Found");
    });
  }

  override close(callback?: (err?: Error) => void): this {
    if (!this.closed) {
      this.closed = true;
      process.nextTick(() => this.emit("close"));
    }
    if (callback) process.nextTick(callback);
    return this;
  }
}

/**
 * Wraps an unattached Socket.IO server as a {@link Mount} at `io.path()`.
 * Closing the mount closes the Socket.IO server (its clients are told
 * "server shutting down"), once.
 *
 * @example
 * const io = new Server({ path: "/live" });
 * const router = new MountRouter().add(socketIoMount(io));
 * router.attach(httpServer);
 */
export function socketIoMount(io: Server): Mount {
  const target = new MountedHttpServer();
  io.attach(target);
  return {
    path: io.path(),
    handleRequest: (req, res) => target.emit("request", req, res),
    handleUpgrade: (req, socket, head) => target.emit("upgrade", req, socket, head),
    fastRoute: engineRouteOf(target),
    close: () =>
      target.closed ? undefined : new Promise<void>((resolve) => io.close(() => resolve())),
  };
}

/** Options every adapter accepts: the Socket.IO server's own, Bayeux, plus extra mounts. */
export interface MountOptions extends Partial<ServerOptions> {
  /**
   * Cross-origin rules for both protocols (the Socket.IO server's `cors`
   * shape): Socket.IO takes them as they are, and a Bayeux server the
   * adapter creates takes the same origins and credentials, unless
   * `bayeux.cors` configures Bayeux separately.
   *
   * @example
   * attachSwitchboard(httpServer, { cors: { origin: ["https://app.example"] } });
   */
  cors?: ServerOptions["cors"];
  /**
   * The Bayeux server served beside Socket.IO: its options (default `{}`, so
   * Bayeux is at `/bayeux`), an existing {@link BayeuxServer} to serve, or
   * `false` for none. Either way the adapter closes it when it closes. Its
   * `cors`, when given, replaces the mount-level `cors` for Bayeux; a given
   * server keeps its own.
   */
  bayeux?: BayeuxServerOptions | BayeuxServer | false;
  /**
   * Further protocol endpoints to serve beside Socket.IO, each under its own
   * path prefix (prefixes may not overlap).
   */
  mounts?: Mount[];
}

/** What every adapter builds: the servers and the router in front of them. */
export interface Switchboard {
  /** The Socket.IO server. */
  io: Server;
  /** The Bayeux server, or null when the `bayeux` option is `false`. */
  bayeux: BayeuxServer | null;
  /** The router holding Socket.IO, Bayeux and any extra mounts. */
  router: MountRouter;
}

/**
 * Creates the Socket.IO server, the Bayeux server (unless `bayeux: false`)
 * and a router holding them plus `options.mounts`. The common first step of
 * every adapter. Throws a `MountError` `ERR_MOUNT_CONFLICT` when two
 * prefixes overlap (say, Socket.IO's `path` set to `/bayeux` while Bayeux is on).
 *
 * @example
 * const { io, bayeux, router } = createSocketIoRouter({ bayeux: { timeout: 25000 } });
 * router.attach(httpServer);
 */
export function createSocketIoRouter(options: MountOptions = {}): Switchboard {
  const { mounts, bayeux: bayeuxOption, ...serverOptions } = options;
  const io = new Server(serverOptions);
  const router = new MountRouter();
  let bayeux: BayeuxServer | null = null;
  try {
    router.add(socketIoMount(io));
    if (bayeuxOption !== false) {
      bayeux =
        bayeuxOption instanceof BayeuxServer
          ? bayeuxOption
          : new BayeuxServer(bayeuxOptions(bayeuxOption, serverOptions));
      router.add(bayeuxMount(bayeux));
    }
    for (const mount of mounts ?? []) router.add(mount);
  } catch (err) {
    // A bad or overlapping prefix is a setup error; do not leave the servers behind.
    io.close();
    // One we created is ours to close; a given one may still be served elsewhere.
    if (bayeux && bayeux !== bayeuxOption) void bayeux.close();
    throw err;
  }
  return { io, bayeux, router };
}

/**
 * {@link createSocketIoRouter}, then `attach(router)` (to servers, an app, a
 * framework). When attaching throws (a path another router already serves on
 * that server), what was created is undone — the router detached, the
 * Socket.IO server and a Bayeux server created here closed — and the error
 * rethrown, so a failed attach leaves nothing running.
 */
export function createAttachedRouter(
  options: MountOptions,
  attach: (router: MountRouter) => void,
): Switchboard {
  const created = createSocketIoRouter(options);
  try {
    attach(created.router);
  } catch (err) {
    created.router.detach();
    created.io.close();
    if (created.bayeux && created.bayeux !== options.bayeux) void created.bayeux.close();
    throw err;
  }
  return created;
}

/**
 * The options of the Bayeux server a mount creates: the mount's `cors` unless
 * Bayeux has its own, the mount's broker and logger unless Bayeux has its own.
 */
function bayeuxOptions(
  options: BayeuxServerOptions | undefined,
  { cors, broker, logger }: Pick<MountOptions, "cors" | "broker" | "logger">,
): BayeuxServerOptions {
  let out = options ?? {};
  // One broker for both protocols: the two servers share its hub.
  if (broker !== undefined && out.broker === undefined) out = { ...out, broker };
  // One logger for both protocols, as the Socket.IO server's engine shares it.
  if (logger !== undefined && out.logger === undefined) out = { ...out, logger };
  if (cors === undefined || out.cors !== undefined) return out;
  return { ...out, cors: toBayeuxCors(cors) };
}
