/**
 * A load balancer with no stickiness at all, for the no-sticky-session
 * tests: every HTTP request and every upgrade goes to the next node in turn
 * (or where `choose` says), whatever connection it came on. Listens on
 * 127.0.0.1, port 0; counts what it sent where. A node that is down is not
 * skipped unless `skipRefused` is set: the request or upgrade sent to it is
 * reset, as a balancer without health checks does, and the client rides it
 * out. With a `tag` option the proxy knows which client each connection
 * belongs to and can cut them.
 */
import { once } from "node:events";
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

export interface RoundRobinProxy {
  url: string;
  port: number;
  /** Requests and upgrades sent to each node, by index. */
  sent: number[];
  /** Requests and upgrades a node reset or dropped (refused ones passed on not counted), by index. */
  resets: number[];
  /** Responses by HTTP status, over every node. */
  statuses: Map<number, number>;
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
  /**
   * A node that refuses the connection (it is down) is skipped: the request
   * (read whole first) or upgrade goes to the next one, as a balancer
   * retries a failed connect on the next upstream. What a node accepted and
   * then dropped is still reset. Default false.
   */
  skipRefused?: boolean;
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
  const resets = ports.map(() => 0);
  const statuses = new Map<number, number>();
  const countStatus = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const pick = (req: IncomingMessage, upgrade: boolean): number => {
    const i = choose ? choose(req, upgrade) : next++ % ports.length;
    sent[i]++;
    return ports[i];
  };
  const resetBy = (port: number) => resets[ports.indexOf(port)]++;
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
    if (options.skipRefused) {
      // Read first: a request refused by one node is sent whole to the next.
      const body: Buffer[] = [];
      req.on("data", (chunk: Buffer) => body.push(chunk));
      req.on("end", () => forward(req, res, Buffer.concat(body), ports.length));
      return;
    }
    const port = pick(req, false);
    const upstream = relay(port, req, res);
    upstream.on("error", () => {
      if (!res.destroyed) resetBy(port);
      res.destroy();
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  /** The request to node `port` for `req`, its answer streamed into `res`. */
  const relay = (port: number, req: IncomingMessage, res: ServerResponse) => {
    const upstream = request({
      host: "127.0.0.1",
      port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    });
    upstream.on("response", (answer) => {
      countStatus(answer.statusCode ?? 502);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    return upstream;
  };
  /** Sends a read request to the next node; a refused connection tries the one after. */
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, tries: number) => {
    if (res.destroyed) return;
    const port = pick(req, false);
    const upstream = relay(port, req, res);
    const onClose = () => {
      if (!res.writableFinished) upstream.destroy();
    };
    res.on("close", onClose);
    upstream.on("error", (err: NodeJS.ErrnoException) => {
      res.off("close", onClose);
      if (err.code === "ECONNREFUSED" && tries > 1) {
        forward(req, res, body, tries - 1);
        return;
      }
      if (!res.destroyed) resetBy(port);
      res.destroy();
    });
    upstream.end(body);
  };
  server.on("upgrade", (req: IncomingMessage, client: Socket, head: Buffer) => {
    track(req);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    sockets.add(client);
    const dial = (tries: number): void => {
      const port = pick(req, true);
      const upstream = connect(port, "127.0.0.1");
      sockets.add(upstream);
      let connected = false;
      upstream.on("connect", () => {
        connected = true;
        upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      let redialed = false;
      const end = (): void => {
        if (redialed) return;
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      upstream.on("error", (err: NodeJS.ErrnoException) => {
        const refused = !connected && err.code === "ECONNREFUSED";
        if (options.skipRefused && refused && tries > 1 && !client.destroyed) {
          redialed = true;
          sockets.delete(upstream);
          dial(tries - 1);
          return;
        }
        if (!client.destroyed) resetBy(port);
        end();
      });
      upstream.on("close", end);
      client.on("error", end);
      client.on("close", end);
    };
    dial(ports.length);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sent,
    resets,
    statuses,
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
