/**
 * One Switchboard node for the dashboard tests: Socket.IO and Bayeux mounted
 * on an HTTP server on 127.0.0.1, port 0, with a Dashboard in front, real
 * socket.io-client and Bayeux clients, and a raw HTTP call that sets any
 * header (Host, Origin, Sec-Fetch-Site) and can pose as a remote peer.
 */
import { once } from "node:events";
import { createServer, type Server as HttpServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { BayeuxClient } from "../../src/bayeux/client/index.js";
import type { BayeuxServer } from "../../src/bayeux/index.js";
import type { Broker } from "../../src/cluster/broker.js";
import type { Server } from "../../src/index.js";
import { createSocketIoRouter } from "../../src/mount/socketio.js";
import { Dashboard, type DashboardOptions } from "../../src/ops/dashboard/index.js";

/** A request header that makes the test server report this address as the peer's. */
export const FAKE_PEER = "x-test-peer";

export interface TestNode {
  io: Server;
  bayeux: BayeuxServer;
  dashboard: Dashboard;
  http: HttpServer;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** A connected socket.io-client socket over `transport`. */
  socket(transport: "polling" | "websocket"): Promise<ClientSocket>;
  /** A connected Bayeux client over `transport`. */
  bayeuxClient(transport: "long-polling" | "websocket"): Promise<BayeuxClient>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field in asserts.
  json: any;
}

/** One HTTP request with exactly the given headers. */
export function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A connection per call: a faked peer address stays on its own socket.
    const init = { method: options.method ?? "GET", headers: options.headers, agent: false };
    const req = request(url, init, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A POST of a JSON body from the dashboard's own origin. */
export function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return call(`${base}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Origin: base,
      "Sec-Fetch-Site": "same-origin",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

export async function startNode(
  options: Omit<DashboardOptions, "io" | "bayeux"> = {},
  broker?: Broker,
): Promise<TestNode> {
  const { io, bayeux, router } = createSocketIoRouter({
    ...(broker ? { broker } : {}),
    bayeux: broker ? { broker, timeout: 2000 } : { timeout: 2000 },
  });
  const server = bayeux as BayeuxServer;
  // The test app: rooms and channels the clients ask for.
  io.on("connection", (socket) => {
    socket.on("join", (room: string, ack: () => void) => {
      socket.join(room);
      ack();
    });
    socket.on("say", (room: string, text: string) => {
      io.to(room).emit("said", text);
    });
  });
  const dashboard = new Dashboard({ io, bayeux: server, ...options });
  const http = createServer((req, res) => {
    const peer = req.headers[FAKE_PEER];
    if (typeof peer === "string") {
      Object.defineProperty(req.socket, "remoteAddress", { value: peer, configurable: true });
    }
    if (dashboard.handle(req, res)) return;
    res.writeHead(404, { "Content-Type": "text/plain" }).end("app 404");
  });
  router.attach(http);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const sockets: ClientSocket[] = [];
  const bayeuxClients: BayeuxClient[] = [];
  return {
    io,
    bayeux: server,
    dashboard,
    http,
    base,
    async socket(transport) {
      // The client's own connect deadline (5 s) ends in connect_error.
      const client = ioc(base, {
        forceNew: true,
        reconnection: false,
        transports: [transport],
        timeout: 5000,
      });
      sockets.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("connect_error", reject);
      });
      return client;
    },
    async bayeuxClient(transport) {
      const client = new BayeuxClient(`${base}/bayeux`, {
        transports: [transport],
        maxNetworkDelay: 3000,
        backoff: { initialDelay: 50, maxDelay: 200 },
      });
      bayeuxClients.push(client);
      await client.init();
      return client;
    },
    async close() {
      for (const client of sockets) client.disconnect();
      await Promise.all(bayeuxClients.map((c) => c.disconnect().catch(() => {})));
      dashboard.close();
      await router.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
