/** Shared fixtures of the Bayeux server tests: a server on 127.0.0.1:0 and raw HTTP/ws peers. */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before } from "node:test";
import { WebSocket } from "ws";
import {
  BayeuxServer,
  type BayeuxServerOptions,
  bayeuxMount,
  type ProcessContext,
} from "../../src/bayeux/index.js";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { MountRouter } from "../../src/mount/router.js";

export interface Running {
  bayeux: BayeuxServer;
  http: Server;
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export async function startServer(options: BayeuxServerOptions = {}): Promise<Running> {
  const bayeux = new BayeuxServer(options);
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end("not here");
  });
  const router = new MountRouter().add(bayeuxMount(bayeux)).attach(http);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  const path = bayeux.options.path;
  return {
    bayeux,
    http,
    url: `http://127.0.0.1:${port}${path}`,
    wsUrl: `ws://127.0.0.1:${port}${path}`,
    async close() {
      await router.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json(): BayeuxMessage[];
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<RawResponse> {
  const res = await fetch(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

export const HANDSHAKE = {
  channel: "/meta/handshake",
  version: "1.0",
  supportedConnectionTypes: ["long-polling", "callback-polling", "websocket"],
  id: "h1",
};

/** Handshakes over long-polling; returns the clientId. */
export async function handshake(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await post(url, [{ ...HANDSHAKE, ...extra }]);
  const [reply] = res.json();
  if (!reply.successful || !reply.clientId) throw new Error(`handshake failed: ${res.text}`);
  return reply.clientId;
}

/** Handshakes and sends the first (immediate) connect. */
export async function connected(url: string, extra: Record<string, unknown> = {}): Promise<string> {
  const clientId = await handshake(url, extra);
  await post(url, [{ channel: "/meta/connect", clientId, connectionType: "long-polling" }]);
  return clientId;
}

/** A raw websocket peer that collects every message it receives. */
export class WsPeer {
  readonly ws: WebSocket;
  readonly received: BayeuxMessage[] = [];
  readonly frames: string[] = [];
  #waiters: { test: (m: BayeuxMessage) => boolean; resolve: (m: BayeuxMessage) => void }[] = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data) => {
      const text = data.toString();
      this.frames.push(text);
      for (const message of JSON.parse(text) as BayeuxMessage[]) {
        this.received.push(message);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.test(message)) return true;
          w.resolve(message);
          return false;
        });
      }
    });
  }

  async open(): Promise<this> {
    await once(this.ws, "open");
    return this;
  }

  send(messages: unknown): void {
    this.ws.send(typeof messages === "string" ? messages : JSON.stringify(messages));
  }

  /** Resolves with the first message (already received or later) passing `test`. */
  next(test: (m: BayeuxMessage) => boolean, timeout = 5000): Promise<BayeuxMessage> {
    const found = this.received.find(test);
    if (found) {
      this.received.splice(this.received.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a message")), timeout);
      this.#waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, "close");
    this.ws.close();
    await closed;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A long-polling context for `server.process()` with no HTTP request behind it. */
export const LONG_POLLING: ProcessContext = { connectionType: "long-polling", request: null };

/**
 * Registers, for the calling test file, servers driven through `process()` alone: each test's
 * servers are closed after it, and an interval keeps the process alive meanwhile (the session
 * wheel's own interval is unref'd; a server's sockets would normally keep the process alive).
 * Returns the factory, whose options are laid over `defaults`.
 */
export function transportFreeServers(
  defaults: BayeuxServerOptions,
): (options?: BayeuxServerOptions) => BayeuxServer {
  let servers: BayeuxServer[] = [];
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => {}, 1000);
  });
  after(() => clearInterval(keepAlive));
  afterEach(async () => {
    for (const server of servers) await server.close();
    servers = [];
  });
  return (options = {}) => {
    const server = new BayeuxServer({ ...defaults, ...options });
    servers.push(server);
    return server;
  };
}

/** A `/meta/connect` answered at once (`timeout: 0`), with `ext.ack` when given. */
export const immediateConnect = (clientId: string, ack?: number) => ({
  channel: "/meta/connect",
  clientId,
  connectionType: "long-polling",
  advice: { timeout: 0 },
  ext: ack === undefined ? undefined : { ack },
});

/**
 * One immediate connect through `server.process()`: its reply, the data it
 * delivered, and the batch number (`ext.ack`) it carries.
 */
export async function pollOnce(server: BayeuxServer, clientId: string, ack?: number) {
  const result = await server.process([immediateConnect(clientId, ack)], LONG_POLLING);
  const reply = result.replies.find((m) => m.channel === "/meta/connect") as BayeuxMessage;
  return { reply, data: result.deliveries.map((d) => d.message.data), batch: reply.ext?.ack };
}
