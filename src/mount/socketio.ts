/**
 * Socket.IO as a mount. The Socket.IO server is attached, through its public
 * `io.attach()`, to a private HTTP server that never listens; the router then
 * forwards requests and upgrades under `io.path()` to that server's events. So
 * whatever `attach()` sets up (the engine's polling and websocket handling,
 * `serveClient`'s `/socket.io/socket.io.js`) works the same under any
 * framework, while the framework's own server stays the framework's.
 */
import { Server as HttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Server, type ServerOptions } from "../index.js";
import type { Mount } from "./router.js";
import { MountRouter } from "./router.js";

/**
 * The private server a mounted Socket.IO server is attached to. It only ever
 * receives the events the router forwards; closing it (as `io.close()` does)
 * closes nothing real, and says so without an error.
 */
class MountedHttpServer extends HttpServer {
  closed = false;

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
    close: () =>
      target.closed ? undefined : new Promise<void>((resolve) => io.close(() => resolve())),
  };
}

/** Options every adapter accepts: the Socket.IO server's own, plus extra mounts. */
export interface MountOptions extends Partial<ServerOptions> {
  /**
   * Further protocol endpoints to serve beside Socket.IO, each under its own
   * path prefix (prefixes may not overlap).
   */
  mounts?: Mount[];
}

/**
 * Creates the Socket.IO server and a router holding it plus `options.mounts`.
 * The common first step of every adapter.
 */
export function createSocketIoRouter(options: MountOptions = {}): {
  io: Server;
  router: MountRouter;
} {
  const { mounts, ...serverOptions } = options;
  const io = new Server(serverOptions);
  const router = new MountRouter();
  try {
    router.add(socketIoMount(io));
    for (const mount of mounts ?? []) router.add(mount);
  } catch (err) {
    // A bad or overlapping prefix is a setup error; do not leave the server behind.
    io.close();
    throw err;
  }
  return { io, router };
}
