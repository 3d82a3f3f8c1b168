/**
 * Node-to-node forwarding of a request for a session another node owns (no
 * sticky load balancing): the raw HTTP request is replayed to the owner's
 * advertised address and its response streamed back, bodies untouched; a
 * websocket upgrade is replayed as a request head on a new TCP connection to
 * the owner, after which both connections are piped into each other. One
 * extra hop, nothing re-parsed.
 *
 * The request carries {@link FORWARDED_HEADER} (the forwarding node's id), and
 * a request carrying it is never forwarded again: a session the owner no
 * longer holds is refused there, as on a single node.
 */
import { Agent, type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import type { Duplex } from "node:stream";
import { SwitchboardError } from "../shared/errors.js";

/** The loop guard: set on a forwarded request, its value the forwarding node's id. */
export const FORWARDED_HEADER = "x-switchboard-forwarded";

/** Headers of one connection only (RFC 9110 §7.6.1), not copied to the next hop. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** An advertised address that is not `http://host:port`. */
export class ForwardAddressError extends SwitchboardError {
  constructor(address: string) {
    super(
      "ERR_FORWARD_ADDRESS",
      `advertised address must be an http://host:port URL, got ${JSON.stringify(address)}`,
    );
  }
}

/** A peer address, parsed once. */
export interface ForwardTarget {
  host: string;
  port: number;
}

/** Parses an advertised address (`http://host[:port]`); throws {@link ForwardAddressError}. */
export function parseAdvertise(address: string): ForwardTarget {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ForwardAddressError(address);
  }
  const bare = (url.pathname === "/" || url.pathname === "") && !url.search && !url.hash;
  if (url.protocol !== "http:" || !bare || url.username !== "") {
    throw new ForwardAddressError(address);
  }
  // The URL parser drops the default port: http://host is port 80.
  const port = url.port === "" ? 80 : Number(url.port);
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/**
 * The address peers reach a server listening at `address`/`port` at: the
 * address itself, or for a wildcard (0.0.0.0, ::) this host's first
 * non-internal IPv4 address (127.0.0.1 when it has none).
 *
 * @example
 * advertiseFor("127.0.0.1", 3000); // "http://127.0.0.1:3000"
 */
export function advertiseFor(address: string, port: number): string {
  let host = address;
  if (address === "0.0.0.0" || address === "::" || address === "") {
    host = "127.0.0.1";
    for (const list of Object.values(networkInterfaces())) {
      const found = list?.find((i) => i.family === "IPv4" && !i.internal);
      if (found) {
        host = found.address;
        break;
      }
    }
  }
  return host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/** Whether `req` was already forwarded once (and so must be served or refused here). */
export function wasForwarded(req: IncomingMessage): boolean {
  return req.headers[FORWARDED_HEADER] !== undefined;
}

/** Forwards HTTP requests and upgrades to peer nodes over kept-alive connections. */
export class Forwarder {
  readonly nodeId: string;
  readonly #agent = new Agent({ keepAlive: true, scheduling: "lifo" });

  constructor(nodeId: string) {
    this.nodeId = nodeId;
  }

  /**
   * Replays `req` to `target` and streams the answer into `res`. `fail` is
   * called with the error (and nothing written) when the owner cannot be
   * reached before it answered (`ECONNREFUSED`: nothing listens there); once it answered, an error only ends both sides. `body` is
   * the request body when it was already read (to find the session id in
   * it; null: none), sent as read, and once more on a new connection when
   * the first attempt fails other than by a refusal (a kept-alive
   * connection the owner had closed); undefined streams it from `req`.
   */
  request(
    target: ForwardTarget,
    req: IncomingMessage,
    res: ServerResponse,
    fail: (err: Error) => void,
    body?: string | null,
    retried = false,
  ): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers[FORWARDED_HEADER] = this.nodeId;
    appendForwardedFor(headers, req);
    const upstream = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      // A retry goes on a new connection: the kept-alive one just failed.
      agent: retried ? false : this.#agent,
    });
    let answered = false;
    upstream.on("response", (answer) => {
      answered = true;
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", (err) => {
      if (answered || res.headersSent) res.destroy();
      else if (!retried && body !== undefined && !refused(err) && !res.destroyed) {
        // A kept-alive connection the owner closed (or reset as it died):
        // a body already read is sent once more on a new connection, which
        // the owner answers, or which is refused when it is gone.
        this.request(target, req, res, fail, body, true);
      } else fail(err);
    });
    // The client gave up (a long poll cut): the owner must see it too.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (body === undefined) req.pipe(upstream);
    else if (body === null) upstream.end();
    else upstream.end(body);
  }

  /**
   * Replays the upgrade request `req` (plus the bytes already read past its
   * head) to `target` on a new connection and pipes the two connections
   * together; `fail` is called with the error when the owner cannot be reached.
   */
  upgrade(
    target: ForwardTarget,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    fail: (err: Error) => void,
  ): void {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].toLowerCase() === FORWARDED_HEADER) continue;
      lines.push(`${raw[i]}: ${raw[i + 1]}`);
    }
    lines.push(`${FORWARDED_HEADER}: ${this.nodeId}`, "", "");
    const upstream = connect(target.port, target.host);
    upstream.setNoDelay(true);
    let connected = false;
    upstream.on("connect", () => {
      connected = true;
      upstream.write(lines.join("\r\n"));
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", (err) => {
      if (connected) socket.destroy();
      else fail(err);
    });
    socket.on("error", () => upstream.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
  }

  /** Closes the idle kept-alive connections to peers. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Whether `err` says that nothing listens at the address (the owner process is gone). */
export function refused(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "ECONNREFUSED";
}

function appendForwardedFor(
  headers: Record<string, string | string[]>,
  req: IncomingMessage,
): void {
  const client = req.socket.remoteAddress;
  if (client === undefined) return;
  const previous = headers["x-forwarded-for"];
  headers["x-forwarded-for"] =
    previous === undefined
      ? client
      : `${Array.isArray(previous) ? previous.join(", ") : previous}, ${client}`;
}
