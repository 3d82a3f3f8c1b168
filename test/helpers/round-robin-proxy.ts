/**
 * A load balancer with no stickiness at all, for the no-sticky-session
 * tests: every HTTP request and every upgrade goes to the next node in turn
 * (or where `choose` says), whatever connection it came on. Listens on
 * 127.0.0.1, port 0; counts what it sent where.
 */
import { once } from "node:events";
import { Agent, createServer, type IncomingMessage, request } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Requests and upgrades sent to each node, by index. */
  sent: number[];
  close(): Promise<void>;
}

/**
 * Picks the node index of a request (`upgrade` true for an upgrade);
 * default: the next one in turn.
 */
export type Chooser = (req: IncomingMessage, upgrade: boolean) => number;

export async function startRoundRobinProxy(
  ports: number[],
  choose?: Chooser,
): Promise<RoundRobinProxy> {
  let next = 0;
  const sent = ports.map(() => 0);
  const pick = (req: IncomingMessage, upgrade: boolean): number => {
    const i = choose ? choose(req, upgrade) : next++ % ports.length;
    sent[i]++;
    return ports[i];
  };
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const upstream = request({
      host: "127.0.0.1",
      port: pick(req, false),
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    });
    upstream.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.on("upgrade", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const upstream = connect(pick(req, true), "127.0.0.1");
    sockets.add(client).add(upstream);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    upstream.on("connect", () => {
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sent,
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
