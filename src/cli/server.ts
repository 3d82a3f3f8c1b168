/**
 * The standalone server: one HTTP(S) server carrying Socket.IO at its path
 * (client bundle included), Bayeux at its path (browser client at
 * `/bayeux-client.js`, demo rooms bridged to `/chat/<room>`), the demo page
 * and its files at `/`, and `/config.json` telling the page where both live.
 * With `cluster` set, one Redis broker joins both servers to the other nodes.
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
import type { BayeuxServer, BayeuxServerOptions } from "../bayeux/index.js";
import { type Bridge, type BridgeRoute, bridge } from "../bridge/index.js";
import type { Broker } from "../cluster/broker.js";
import type { Server } from "../index.js";
import { requestPath } from "../mount/path.js";
import { createSocketIoRouter, type MountOptions } from "../mount/socketio.js";
import { Dashboard } from "../ops/dashboard/index.js";
import { Health } from "../ops/health.js";
import { Metrics } from "../ops/metrics/metrics.js";
import { childLogger, type Logger, lineLogger } from "../shared/logger.js";
import { BAYEUX_CLIENT_URL, createBundleHandler, defaultBundleFile } from "./bayeux-bundle.js";
import { parseBridgeConfig } from "./bridge-spec.js";
import { type ClusterSessions, joinCluster, openClusterSessions } from "./cluster.js";
import { bridgeDemoChat } from "./demo-bridge.js";
import { registerDemoHandlers } from "./demo-handlers.js";
import { CliStartError, CliUsageError } from "./errors.js";
import { DASHBOARD_PATH, type ServeOptions } from "./options.js";
import { packageRoot, packageVersion } from "./package-root.js";
import { createStaticHandler } from "./static.js";

/** Least ms the Bayeux channel log keeps a publish: past two default session lifetimes (90 s). */
const CHANNEL_LOG_MIN_AGE = 120_000;
/** Most publishes the Bayeux channel log keeps (about 100 s at 1000 publishes a second). */
const CHANNEL_LOG_LENGTH = 100_000;

/** A started standalone server. */
export interface RunningServer {
  io: Server;
  /** The Bayeux server, or null with `bayeuxPath: false`. */
  bayeux: BayeuxServer | null;
  /** The Redis broker both servers share, or null when the server runs alone. */
  broker: Broker | null;
  server: ReturnType<typeof createHttpServer> | ReturnType<typeof createHttpsServer>;
  /** The bridge of `--bridge` / `--bridge-config` routes, when any were given. */
  bridge?: Bridge;
  /** `/health` and `/ready` (see src/ops/health.ts). */
  health: Health;
  /** The live dashboard at `/dashboard`, or null with `dashboard: false` (see src/ops/dashboard/). */
  dashboard: Dashboard | null;
  /** What `/metrics` serves, or null with `--no-metrics` (see src/ops/metrics/). */
  metrics: Metrics | null;
  /** The port actually bound (useful with port 0). */
  port: number;
  /** A URL to open, e.g. `http://localhost:3000/`. */
  url: string;
  /**
   * Graceful shutdown: answers `/ready` 503 from now on (for `drainDelay` ms
   * while still serving), then stops accepting, closes every Socket.IO client (reason
   * "server shutting down") and every Bayeux session (held long-polls are
   * answered, websockets closed), waits for HTTP requests in flight up to
   * `shutdownTimeout`, then cuts what is left. Idempotent.
   */
  close(): Promise<void>;
}

/** Where startServer finds its files and writes its log; defaults suit the CLI. */
export interface StartEnvironment {
  /** The demo page's directory. Default: `demo/` of the package. */
  demoDir?: string;
  /** The Bayeux browser bundle. Default: `dist/bayeux-client.browser.js` of the package. */
  bayeuxBundle?: string;
  /**
   * Where the servers, the broker and the start-up log (a pino-compatible
   * logger; the CLI's JSON logger). Default: warnings as lines to `log`.
   */
  logger?: Logger;
  /** Where warnings go (one line each) when no `logger` is given. Default: standard error. */
  log?: (line: string) => void;
}

/**
 * Starts the standalone server. Rejects with {@link CliUsageError} when the
 * certificate or key cannot be read or used, {@link CliStartError} when the
 * address cannot be bound or the cluster's Redis cannot be joined. A missing
 * Bayeux browser bundle is only a warning.
 *
 * @example
 * const running = await startServer({ port: 0, host: "127.0.0.1", path: "/socket.io",
 *   bayeuxPath: "/bayeux", shutdownTimeout: 5000 });
 * console.log(running.url);
 * await running.close();
 */
export async function startServer(
  options: ServeOptions,
  environment: StartEnvironment | string = {},
): Promise<RunningServer> {
  const env = typeof environment === "string" ? { demoDir: environment } : environment;
  const logger =
    env.logger ?? lineLogger(env.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const cliLog = childLogger(logger, { component: "cli" });
  const serveDemo = createStaticHandler(env.demoDir ?? join(packageRoot(), "demo"));
  const serveBundle =
    options.bayeuxPath === false
      ? undefined
      : createBundleHandler(env.bayeuxBundle ?? defaultBundleFile(), (line) =>
          cliLog.warn({}, line),
        );
  const config = JSON.stringify({
    path: options.path,
    bayeuxPath: options.bayeuxPath === false ? null : options.bayeuxPath,
    bayeuxClient: serveBundle ? BAYEUX_CLIENT_URL : null,
    version: packageVersion(),
  });
  // Ready while listening, with the broker reachable when there is one, and not draining.
  const health = new Health([
    { name: "listening", ok: () => server.listening },
    ...(options.cluster ? [{ name: "broker", ok: () => broker?.connected !== false }] : []),
  ]);
  let dashboard: Dashboard | null = null;
  // Made once the servers exist (it starts an event-loop monitor).
  let metrics: Metrics | null = null;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (health.handle(req, res)) return;
    if (dashboard?.handle(req, res)) return;
    const path = requestPath(req.url);
    if (metrics && path === "/metrics") {
      metrics.handle(req, res);
      return;
    }
    if (serveBundle && path === BAYEUX_CLIENT_URL) {
      void serveBundle(req, res);
      return;
    }
    if (path === "/config.json" && (req.method === "GET" || req.method === "HEAD")) {
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
  // Read before anything starts: a wrong routes file is the user's to fix.
  const bridgeRoutes = [
    ...(options.bridgeRoutes ?? []),
    ...(options.bridgeConfig ? await readBridgeConfig(options.bridgeConfig) : []),
  ];
  // Joined before listening: a node that cannot reach the cluster serves nobody.
  const broker = options.cluster
    ? await joinCluster(options.cluster, childLogger(logger, { component: "broker" }))
    : null;
  let sessions: ClusterSessions | null = null;
  const recovery = options.recovery;
  if (options.cluster && (options.cluster.forwardSessions || recovery)) {
    try {
      sessions = await openClusterSessions(
        options.cluster,
        recovery
          ? {
              log: { maxAge: recovery.window },
              // Bayeux publishes, kept long enough to replay to a session adopted after its
              // node died (two session lifetimes, at least the recovery window).
              channels: {
                maxAge: Math.max(CHANNEL_LOG_MIN_AGE, recovery.window),
                maxLength: CHANNEL_LOG_LENGTH,
              },
            }
          : {},
      );
    } catch (err) {
      await broker?.close();
      throw err;
    }
  }
  const leaveCluster = async (): Promise<void> => {
    await broker?.close();
    await sessions?.close();
  };

  const ioOptions: MountOptions = { path: options.path, logger };
  if (broker) ioOptions.broker = broker;
  if (sessions && options.cluster?.forwardSessions) {
    // No sticky sessions: sids in Redis, foreign ones forwarded to their owner.
    ioOptions.sessionStore = sessions.store;
    const advertise = options.cluster?.advertise;
    ioOptions.forward = advertise ? { advertise } : true;
  }
  if (recovery) {
    // With a cluster: the packets and sessions in Redis, so a client resumes on any node.
    ioOptions.connectionStateRecovery = {
      maxDisconnectionDuration: recovery.window,
      ...(sessions?.log ? { messageLog: sessions.log, sessionStore: sessions.store } : {}),
    };
  }
  // One cross-origin rule for both protocols: --cors-origin is the mount's
  // `cors`, which the mount hands to Socket.IO and (converted) to Bayeux.
  if (options.corsOrigin) ioOptions.cors = { origin: options.corsOrigin };
  // Without it both are same-origin only (Bayeux alone would reflect any origin).
  if (options.bayeuxPath === false) {
    ioOptions.bayeux = false;
  } else {
    // The same broker as Socket.IO's: one set of Redis connections per node.
    const bayeuxOptions: BayeuxServerOptions & { broker?: Broker } = {
      path: options.bayeuxPath,
      ...(options.corsOrigin ? {} : { cors: { origin: false } }),
    };
    if (broker) bayeuxOptions.broker = broker;
    if (sessions) {
      bayeuxOptions.sessionStore = sessions.store;
      bayeuxOptions.ackLog = sessions.ackLog;
      if (sessions.channelLog) bayeuxOptions.channelLog = sessions.channelLog;
      if (options.cluster?.forwardSessions) bayeuxOptions.forward = ioOptions.forward ?? true;
    }
    ioOptions.bayeux = bayeuxOptions;
  }
  // Mounted rather than attached: io.close() then ends the Socket.IO side
  // only, and the shutdown below decides how long HTTP requests may finish.
  let created: ReturnType<typeof createSocketIoRouter>;
  try {
    created = createSocketIoRouter(ioOptions);
  } catch (err) {
    await leaveCluster();
    throw err;
  }
  const { io, bayeux, router } = created;
  if (options.metrics !== false) metrics = new Metrics().watch({ io, bayeux, broker });
  router.attach(server);
  // During shutdown every answer closes its connection: a client that keeps
  // retrying (a Bayeux or polling client whose session just ended) would
  // otherwise keep its keep-alive connection busy and delay the close until
  // shutdownTimeout. Prepended after attach() so mounted requests see it too.
  let shuttingDown = false;
  server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) res.setHeader("Connection", "close");
  });
  if (options.dashboard !== false) {
    dashboard = new Dashboard({
      io,
      bayeux,
      path: DASHBOARD_PATH,
      ...(options.dashboard?.token ? { token: options.dashboard.token } : {}),
    });
  }
  registerDemoHandlers(io);
  const demoBridge = bayeux ? bridgeDemoChat(io, bayeux) : undefined;
  // Checked at parse time; the demo's own route stays separate from the user's.
  const userBridge =
    bayeux && bridgeRoutes.length > 0 ? bridge({ io, bayeux, routes: bridgeRoutes }) : undefined;
  await serveBundle?.check();

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      dashboard?.close();
      metrics?.close();
      void router.close().then(leaveCluster);
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
  // Mounted, not attached: the engine learns its listening address here.
  io.engine.onListening(server);
  if (bayeux?.forwarder && bayeux.records.advertise === undefined) {
    bayeux.records.advertise = io.engine.advertise;
  }
  // After start, a failing connection must not take the process down.
  server.on("error", (err) => cliLog.error({ err }, "HTTP server error"));
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
      health.drain();
      if (options.drainDelay) {
        cliLog.info({ drainDelay: options.drainDelay }, "draining: /ready answers 503");
        await new Promise((resolve) => setTimeout(resolve, options.drainDelay));
      }
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      dashboard?.close();
      // Keep-alive connections with no request in flight would hold close() open.
      server.closeIdleConnections();
      demoBridge?.close();
      userBridge?.close();
      // Every Socket.IO client is closed with "server shutting down", every
      // Bayeux session ended (its held connect answered, its websocket closed).
      await router.close();
      metrics?.close();
      // Both servers are closed: nothing publishes any more, so the node leaves the cluster.
      await leaveCluster();
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        cliLog.warn(
          { shutdownTimeout: options.shutdownTimeout },
          "shutdown timeout: closing remaining connections",
        );
        server.closeAllConnections();
      }, options.shutdownTimeout);
      await closed;
      clearTimeout(timer);
    })();
    return closing;
  };

  const running: RunningServer = {
    io,
    bayeux,
    broker,
    server,
    health,
    dashboard,
    metrics,
    port,
    url,
    close,
  };
  if (userBridge) running.bridge = userBridge;
  return running;
}

/** The routes of a `--bridge-config` file; unreadable or wrong files are usage errors. */
async function readBridgeConfig(file: string): Promise<BridgeRoute[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CliUsageError(`cannot read --bridge-config ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseBridgeConfig(text, file);
}

/** An HTTPS server from PEM files; unreadable or invalid files are the user's to fix (usage error). */
async function createTlsServer(
  tls: { certFile: string; keyFile: string; names?: string },
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<ReturnType<typeof createHttpsServer>> {
  const names = tls.names ?? "--tls-cert/--tls-key";
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  } catch (err) {
    throw new CliUsageError(`cannot read ${names}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return createHttpsServer({ cert, key }, onRequest);
  } catch (err) {
    throw new CliUsageError(`invalid ${names}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
