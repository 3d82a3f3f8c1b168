/**
 * The standalone server: one HTTP(S) server carrying Socket.IO at its path
 * (client bundle included), the demo page and its files at `/`, and
 * `/config.json` telling the page where Socket.IO lives.
 */
import { readFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Server } from "../index.js";
import { requestPath } from "../mount/path.js";
import { createSocketIoRouter, type MountOptions } from "../mount/socketio.js";
import { createDebug } from "../shared/debug.js";
import { registerDemoHandlers } from "./demo-handlers.js";
import { CliStartError, CliUsageError } from "./errors.js";
import type { ServeOptions } from "./options.js";
import { packageRoot, packageVersion } from "./package-root.js";
import { createStaticHandler } from "./static.js";

const debug = createDebug("cli");

/** A started standalone server. */
export interface RunningServer {
  io: Server;
  server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** A URL to open, e.g. `http://localhost:3000/`. */
  url: string;
  /**
   * Graceful shutdown: stops accepting, closes every Socket.IO client (reason
   * "server shutting down"), waits for HTTP requests in flight up to
   * `shutdownTimeout`, then cuts what is left. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the standalone server. Rejects with {@link CliUsageError} when the
 * certificate or key cannot be read or used, {@link CliStartError} when the
 * address cannot be bound.
 *
 * @example
 * const running = await startServer({ port: 0, host: "127.0.0.1", path: "/socket.io", shutdownTimeout: 5000 });
 * console.log(running.url);
 * await running.close();
 */
export async function startServer(
  options: ServeOptions,
  demoDir = join(packageRoot(), "demo"),
): Promise<RunningServer> {
  const serveDemo = createStaticHandler(demoDir);
  const config = JSON.stringify({ path: options.path, version: packageVersion() });
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (
      requestPath(req.url) === "/config.json" &&
      (req.method === "GET" || req.method === "HEAD")
    ) {
      res.writeHead(200, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": Buffer.byteLength(config),
        "Cache-Control": "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : config);
      return;
    }
    void serveDemo(req, res);
  };

  const server = options.tls
    ? await createTlsServer(options.tls, onRequest)
    : createHttpServer(onRequest);

  const ioOptions: MountOptions = { path: options.path };
  if (options.corsOrigin) ioOptions.cors = { origin: options.corsOrigin };
  // Mounted rather than attached: io.close() then ends the Socket.IO side
  // only, and the shutdown below decides how long HTTP requests may finish.
  const { io, router } = createSocketIoRouter(ioOptions);
  router.attach(server);
  registerDemoHandlers(io);

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      void router.close();
      reject(
        new CliStartError(
          `cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`,
          {
            cause: err,
          },
        ),
      );
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(options.port, options.host);
  });
  // After start, a failing connection must not take the process down.
  server.on("error", (err) => debug("server error %s", err.message));
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const port = (server.address() as AddressInfo).port;
  const shownHost =
    options.host === "0.0.0.0" || options.host === "::"
      ? "localhost"
      : options.host.includes(":")
        ? `[${options.host}]`
        : options.host;
  const url = `${options.tls ? "https" : "http"}://${shownHost}:${port}/`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections with no request in flight would hold close() open.
      server.closeIdleConnections();
      // Every Socket.IO client is closed with "server shutting down".
      await router.close();
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        debug("shutdown timeout: closing remaining connections");
        server.closeAllConnections();
      }, options.shutdownTimeout);
      await closed;
      clearTimeout(timer);
    })();
    return closing;
  };

  return { io, server, port, url, close };
}

/** An HTTPS server from PEM files; unreadable or invalid files are the user's to fix (usage error). */
async function createTlsServer(
  tls: { certFile: string; keyFile: string },
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ReturnType<typeof createHttpsServer>> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  } catch (err) {
    throw new CliUsageError(`cannot read --tls-cert/--tls-key: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return createHttpsServer({ cert, key }, onRequest);
  } catch (err) {
    throw new CliUsageError(`invalid --tls-cert/--tls-key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
