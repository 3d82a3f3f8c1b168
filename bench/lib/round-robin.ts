/**
 * The load balancer of the no-sticky scenario: every HTTP request and every
 * websocket upgrade goes to the next node in turn, whatever client or
 * connection it came from — no stickiness at all, so a polling session's
 * requests reach its owner and the other node alternately. Requests are
 * replayed over kept-alive connections and answers streamed back; an upgrade
 * becomes a new TCP connection to the node, piped both ways. Listens on
 * 127.0.0.1, port 0, and counts what it sent to each node.
 */
import { once } from "node:events";
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

/** A running proxy. */
export interface RoundRobin {
  port: number;
  /** Requests and upgrades sent to each node, by index into the node ports. */
  sent: number[];
  close(): Promise<void>;
}

/** Replays `req` to `port` and streams the answer into `res`; a 502 when the node is unreachable. */
function forward(agent: Agent, port: number, req: IncomingMessage, res: ServerResponse): void {
  const upstream = request({
    host: "127.0.0.1",
    port,
    method: req.method,
    path: req.url,
    headers: req.headers,
    agent,
  });
  upstream.on("response", (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => {
    if (res.headersSent) res.destroy();
    else res.writeHead(502).end();
  });
  // The client gave up on a held poll: the node must see it too.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Replays the upgrade head to `port` on a new connection and pipes both connections together. */
function tunnel(port: number, req: IncomingMessage, client: Socket, head: Buffer): Socket {
  const upstream = connect(port, "127.0.0.1");
  upstream.setNoDelay(true);
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
  };
  for (const socket of [client, upstream]) {
    socket.on("error", end);
    socket.on("close", end);
  }
  return upstream;
}

/**
 * Starts a round-robin proxy in front of the nodes listening on `ports` (127.0.0.1).
 *
 * @example
 * const proxy = await startRoundRobin([node1Port, node2Port]);
 * // clients use http://127.0.0.1:${proxy.port}; then: await proxy.close();
 */
export async function startRoundRobin(ports: readonly number[]): Promise<RoundRobin> {
  if (ports.length === 0) throw new Error("the round-robin proxy needs at least one node");
  let next = 0;
  const sent = ports.map(() => 0);
  const pick = (): number => {
    const i = next++ % ports.length;
    sent[i]++;
    return ports[i];
  };
  // Every held poll needs its own upstream connection: no socket limit.
  const agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  const tunnels = new Set<Socket>();
  const server: Server = createServer((req, res) => forward(agent, pick(), req, res));
  server.on("upgrade", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const upstream = tunnel(pick(), req, client, head);
    tunnels.add(client).add(upstream);
    upstream.once("close", () => {
      tunnels.delete(client);
      tunnels.delete(upstream);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    sent,
    async close() {
      for (const socket of tunnels) socket.destroy();
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
