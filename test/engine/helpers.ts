/**
 * Shared helpers of the engine tests: an engine attached to an HTTP server on
 * 127.0.0.1, port 0, and raw HTTP requests against it.
 */
import { once } from "node:events";
import {
  createServer,
  type Server as HttpServer,
  type IncomingHttpHeaders,
  request,
} from "node:http";
import type { AddressInfo } from "node:net";
import { type EngineOptions, Server } from "../../src/engine/index.js";

export interface TestEngine {
  engine: Server;
  http: HttpServer;
  port: number;
  /** Base URL of the engine path, e.g. http://127.0.0.1:1234/engine.io/ */
  url: string;
  close(): Promise<void>;
}

/** Starts an engine on a fresh HTTP server. */
export async function startEngine(opts: EngineOptions = {}): Promise<TestEngine> {
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end("not here");
  });
  const engine = new Server(opts);
  engine.attach(http, opts);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const port = (http.address() as AddressInfo).port;
  return {
    engine,
    http,
    port,
    url: `http://127.0.0.1:${port}/engine.io/`,
    async close() {
      engine.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** One HTTP request over a fresh connection; resolves with the whole response. */
export function rawRequest(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: { connection: "close", ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString(),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}

/** Performs a polling handshake and returns the sid and the open packet. */
export async function handshake(
  port: number,
  query = "EIO=4&transport=polling",
): Promise<{ sid: string; open: Record<string, unknown>; response: RawResponse }> {
  const response = await rawRequest(port, `/engine.io/?${query}`);
  const text = response.text;
  const start = text.indexOf("{");
  const end = text.indexOf("}", start);
  const open = JSON.parse(text.slice(start, end + 1)) as Record<string, unknown>;
  return { sid: open.sid as string, open, response };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Anything with once/off: node emitters, ws sockets, engine.io-client sockets. */
export interface Emitterish {
  // biome-ignore lint/suspicious/noExplicitAny: listeners of any emitter's events
  once(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: listeners of any emitter's events
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** Resolves with the arguments of the next `event` from `emitter`, or rejects after `ms`. */
export function next<T extends unknown[] = unknown[]>(
  emitter: Emitterish,
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as unknown as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for "${event}"`));
    }, ms);
    emitter.once(event, listener);
  });
}
