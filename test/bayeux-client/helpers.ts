/**
 * Test peers for the Bayeux client: a real Faye 1.4 server (its NodeAdapter
 * on a Node http server, port 0) and small utilities. Every server here
 * tracks its sockets so a test can cut them all, and closes fully.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo, Socket } from "node:net";
import type { BayeuxClientOptions, ConnectionType } from "../../src/bayeux/client/index.js";
import { BayeuxClient } from "../../src/bayeux/client/index.js";

const require = createRequire(import.meta.url);

/** The parts of Faye's NodeAdapter the tests use (Faye ships no types). */
export interface FayeAdapter {
  attach(server: Server): void;
  close(): void;
  addExtension(extension: {
    incoming?: (
      message: Record<string, unknown>,
      callback: (m: Record<string, unknown>) => void,
    ) => void;
    outgoing?: (
      message: Record<string, unknown>,
      callback: (m: Record<string, unknown>) => void,
    ) => void;
  }): void;
  getClient(): { publish(channel: string, data: unknown): unknown };
  on(event: string, listener: (...args: string[]) => void): void;
  _server: {
    _engine: {
      destroyClient(clientId: string): void;
      clientExists(id: string, cb: (exists: boolean) => void): void;
    };
  };
}

const faye = require("faye") as {
  NodeAdapter: new (options: { mount: string; timeout?: number }) => FayeAdapter;
  logger?: unknown;
};

export interface TestServer {
  url: string;
  http: Server;
  /** Destroys every open TCP connection (long polls and websockets): a network cut. */
  cutConnections(): void;
  close(): Promise<void>;
}

/** Tracks sockets of `http` so they can be cut and the server closed promptly. */
export function trackSockets(http: Server): { cut(): void } {
  const sockets = new Set<Socket>();
  http.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    cut() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

export interface FayeServer extends TestServer {
  adapter: FayeAdapter;
  /** Ends a client session inside Faye's engine, as its expiry would. */
  destroyClient(clientId: string): void;
}

/**
 * Starts Faye on 127.0.0.1, port 0, mounted at `/bayeux`.
 * `timeout` is Faye's long-poll hold time in seconds.
 */
export async function startFaye(
  options: {
    timeout?: number;
    port?: number;
    extra?: (req: IncomingMessage, res: ServerResponse) => void;
  } = {},
): Promise<FayeServer> {
  const http = createServer((req, res) => {
    if (options.extra) options.extra(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  const sockets = trackSockets(http);
  const adapter = new faye.NodeAdapter({ mount: "/bayeux", timeout: options.timeout ?? 2 });
  adapter.attach(http);
  http.listen(options.port ?? 0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bayeux`,
    http,
    adapter,
    destroyClient: (clientId) => adapter._server._engine.destroyClient(clientId),
    cutConnections: () => sockets.cut(),
    async close() {
      adapter.close();
      sockets.cut();
      http.close();
      await once(http, "close");
    },
  };
}

/** A client with short delays, for tests. */
export function testClient(
  url: string,
  transport: ConnectionType,
  options: BayeuxClientOptions = {},
): BayeuxClient {
  return new BayeuxClient(url, {
    transports: [transport],
    maxNetworkDelay: 3000,
    backoff: { initialDelay: 50, maxDelay: 200 },
    ...options,
  });
}

/** Resolves with the next value `register` hands to its callback, or rejects after `ms`. */
export function nextValue<T>(
  register: (callback: (value: T) => void) => void,
  ms = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no value within ${ms} ms`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Waits until `predicate()` holds, polling every 10 ms; rejects after `ms`. */
export async function waitFor(
  predicate: () => boolean,
  ms = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface SwitchboardServer extends TestServer {
  bayeux: import("../../src/bayeux/index.js").BayeuxServer;
}

/** Starts Switchboard's own Bayeux server on 127.0.0.1, port 0, at `/bayeux`. */
export async function startSwitchboard(
  options: import("../../src/bayeux/index.js").BayeuxServerOptions = {},
): Promise<SwitchboardServer> {
  const { BayeuxServer, bayeuxMount } = await import("../../src/bayeux/index.js");
  const { MountRouter } = await import("../../src/mount/router.js");
  const bayeux = new BayeuxServer(options);
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const sockets = trackSockets(http);
  const router = new MountRouter().add(bayeuxMount(bayeux)).attach(http);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${bayeux.options.path}`,
    http,
    bayeux,
    cutConnections: () => sockets.cut(),
    async close() {
      await router.close();
      sockets.cut();
      http.close();
      await once(http, "close");
    },
  };
}
