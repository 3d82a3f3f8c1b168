/**
 * A load balancer with no stickiness at all, for the no-sticky-session
 * tests: every HTTP request and every upgrade goes to the next node in turn
 * (or where `choose` says), whatever connection it came on. Listens on
 * 127.0.0.1, port 0; counts what it sent where. A node that is down is not
 * skipped: the request or upgrade sent to it is reset, as a balancer without
 * health checks does, and the client rides it out. With a `tag` option the
 * proxy knows which client each connection belongs to and can cut them.
 */
import { once } from "node:events";
import { Agent, createServer, type IncomingMessage, request } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Requests and upgrades sent to each node, by index. */
  sent: number[];
  /**
   * Destroys every connection (client side and, for upgrades, the node side)
   * last used by a request tagged `tag` (see {@link ProxyOptions.tag});
   * resolves the number of client connections cut.
   */
  cut(tag: string): number;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /**
   * Names the client a request or upgrade comes from (a query parameter or
   * header the test sets), or undefined; the connection it came on is then
   * that client's until a request with another tag arrives on it.
   */
  tag?: (req: IncomingMessage) => string | undefined;
}

/**
 * Picks the node index of a request (`upgrade` true for an upgrade);
 * default: the next one in turn.
 */
export type Chooser = (req: IncomingMessage, upgrade: boolean) => number;

export async function startRoundRobinProxy(
  ports: number[],
  choose?: Chooser,
  options: ProxyOptions = {},
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
  // tag -> the client connections it last used; connection -> its tag.
  const tagged = new Map<string, Set<Socket>>();
  const tagOf = new Map<Socket, string>();
  const untag = (socket: Socket): void => {
    const tag = tagOf.get(socket);
    if (tag === undefined) return;
    tagOf.delete(socket);
    tagged.get(tag)?.delete(socket);
  };
  const track = (req: IncomingMessage): void => {
    const tag = options.tag?.(req);
    const socket = req.socket;
    if (tag === undefined || tagOf.get(socket) === tag) return;
    if (!tagOf.has(socket)) socket.once("close", () => untag(socket));
    untag(socket);
    tagOf.set(socket, tag);
    let set = tagged.get(tag);
    if (!set) tagged.set(tag, (set = new Set()));
    set.add(socket);
  };
  const server = createServer((req, res) => {
    track(req);
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
    track(req);
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
    cut(tag) {
      const cut = [...(tagged.get(tag) ?? [])];
      // The upgrade's own handlers destroy its node side; a request's
      // response closes and destroys its upstream request.
      for (const socket of cut) socket.destroy();
      return cut.length;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
