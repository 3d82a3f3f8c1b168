/** Shared helpers of the Socket.IO tests: a server on port 0 and real clients. */
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Socket as ClientSocket,
  io as ioc,
  type ManagerOptions,
  type SocketOptions,
} from "socket.io-client";
import { Server, type ServerOptions } from "../../src/index.js";

export interface Harness {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** A client of the namespace `nsp` (not yet connected unless `autoConnect`). */
  client(nsp?: string, opts?: Partial<ManagerOptions & SocketOptions>): ClientSocket;
  close(): Promise<void>;
}

export const MODES: { name: string; transports?: ("polling" | "websocket")[] }[] = [
  { name: "polling", transports: ["polling"] },
  { name: "websocket", transports: ["websocket"] },
  { name: "upgrade" },
];

export async function startServer(
  opts: Partial<ServerOptions> = {},
  mode: { transports?: ("polling" | "websocket")[] } = {},
): Promise<Harness> {
  const http = createServer();
  const io = new Server(http, opts);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  return {
    io,
    http,
    port,
    url,
    client(nsp = "/", clientOpts = {}) {
      const socket = ioc(`${url}${nsp}`, {
        forceNew: true,
        reconnection: false,
        ...(mode.transports ? { transports: mode.transports } : {}),
        ...clientOpts,
      });
      clients.push(socket);
      return socket;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await io.close();
    },
  };
}

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
export function waitFor<T extends unknown[] = unknown[]>(
  emitter: { once(ev: string, fn: (...args: never[]) => void): unknown },
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), ms);
    emitter.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    }) as never);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
