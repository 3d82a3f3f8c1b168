/**
 * Node-to-node forwarding of a request for a session another node owns (no
 * sticky load balancing). An HTTP request (a poll, a POST) goes over the
 * link to the owner's advertised address (one connection per peer, opened
 * with an HTTP Upgrade on the same port, see link-client.ts and
 * link-server.ts): method, URL, headers and body as one frame, the response
 * back as frames, no HTTP parse on the owner and the frames of a turn in one
 * write. A peer that refuses the link gets plain HTTP requests instead. A
 * websocket upgrade is replayed as a request head on a new TCP connection to
 * the owner, after which both connections are piped into each other.
 *
 * A forwarded request carries {@link FORWARDED_HEADER} (the forwarding node's
 * id; every request a link carries is marked so on the owner), and a request
 * carrying it is never forwarded again: a session the owner no longer holds
 * is refused there, as on a single node.
 */
import { Agent, type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import type { Duplex } from "node:stream";
import { SwitchboardError } from "../shared/errors.js";
import {
  type LinkExchange,
  LinkTimeoutError,
  LinkUnsupportedError,
  PeerLink,
} from "./link-client.js";

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

/** Options of a {@link Forwarder}; every one has a default. */
export interface ForwarderOptions {
  /**
   * Largest request body read to forward it (a larger one is answered 413,
   * as the owner would). Default 1 MiB; Engine.IO passes its `maxHttpBufferSize`.
   */
  maxBodySize?: number;
  /** Milliseconds a forwarded request waits for its response to start. Default 120000. */
  requestTimeout?: number;
  /** Milliseconds to open a link to a peer. Default 5000. */
  connectTimeout?: number;
  /** Whether requests go over links (else as HTTP requests, one each). Default true. */
  link?: boolean;
}

/** How long a peer that refused a link is sent plain HTTP requests before links are tried again. */
const HTTP_PEER_TTL = 30_000;

/**
 * Forwards HTTP requests to peer nodes over one link per peer (see
 * link-client.ts), or as plain HTTP requests to a peer that serves no link;
 * websocket upgrades as a raw TCP pipe.
 */
export class Forwarder {
  readonly nodeId: string;
  readonly #agent = new Agent({ keepAlive: true, scheduling: "lifo" });
  readonly #maxBody: number;
  readonly #requestTimeout: number;
  readonly #connectTimeout: number;
  readonly #useLinks: boolean;
  /** By `host:port`. */
  readonly #links = new Map<string, PeerLink>();
  /** Peers that answered a link upgrade with another status: `host:port` → until. */
  readonly #httpPeers = new Map<string, number>();

  constructor(nodeId: string, options: ForwarderOptions = {}) {
    this.nodeId = nodeId;
    this.#maxBody = options.maxBodySize ?? 1024 * 1024;
    this.#requestTimeout = options.requestTimeout ?? 120_000;
    this.#connectTimeout = options.connectTimeout ?? 5000;
    this.#useLinks = options.link ?? true;
  }

  /**
   * Forwards `req` to `target` and writes the answer into `res`. `fail` is
   * called with the error (and nothing written) when the owner cannot be
   * reached before it answered (`ECONNREFUSED`: nothing listens there); once
   * it answered, an error only closes the client's connection. `body` is the
   * request body when it was already read (to find the session id in it;
   * null: none); undefined reads it from `req` (up to `maxBodySize`). A
   * request whose link ends before it was answered other than by a refusal
   * (a link the owner had closed, a reset) is sent once more on a new link.
   */
  request(
    target: ForwardTarget,
    req: IncomingMessage,
    res: ServerResponse,
    fail: (err: Error) => void,
    body?: string | Buffer | null,
  ): void {
    const key = `${target.host}:${target.port}`;
    if (!this.#useLinks || (this.#httpPeers.get(key) ?? 0) > Date.now()) {
      this.#viaHttp(target, req, res, fail, body);
      return;
    }
    if (body !== undefined) {
      this.#viaLink(target, key, req, res, fail, body, false);
      return;
    }
    readBody(req, res, this.#maxBody, (read) =>
      this.#viaLink(target, key, req, res, fail, read, false),
    );
  }

  #viaLink(
    target: ForwardTarget,
    key: string,
    req: IncomingMessage,
    res: ServerResponse,
    fail: (err: Error) => void,
    body: string | Buffer | null,
    retried: boolean,
  ): void {
    if (res.destroyed) return;
    let link = this.#links.get(key);
    if (link === undefined || !link.usable) {
      const opened: PeerLink = new PeerLink(
        {
          host: target.host,
          port: target.port,
          path: req.url ?? "/",
          nodeId: this.nodeId,
          connectTimeout: this.#connectTimeout,
          requestTimeout: this.#requestTimeout,
        },
        (gone) => {
          if (this.#links.get(key) === gone) this.#links.delete(key);
        },
      );
      link = opened;
      this.#links.set(key, link);
    }
    const via = link;
    let id = 0;
    let over = false;
    const onClose = (): void => {
      if (!over) via.cancel(id);
    };
    const finish = (): void => {
      over = true;
      res.off("close", onClose);
    };
    const exchange: LinkExchange = {
      head: (status, headers, chunk, fin) => {
        if (fin) finish();
        if (res.destroyed) return;
        const out: Record<string, string | string[]> = {};
        for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
        try {
          res.writeHead(status, out);
        } catch {
          // A status or header node:http refuses: the owner's answer cannot be relayed.
          res.destroy();
          return;
        }
        if (fin) res.end(chunk);
        else res.write(chunk);
      },
      data: (chunk, fin) => {
        if (fin) finish();
        if (res.destroyed) return;
        if (fin) res.end(chunk);
        else res.write(chunk);
      },
      cancel: () => {
        finish();
        res.destroy();
      },
      fail: (err) => {
        finish();
        if (res.destroyed) return;
        if (err instanceof LinkUnsupportedError) {
          // A node without links (an older version during a rolling upgrade).
          this.#httpPeers.set(key, Date.now() + HTTP_PEER_TTL);
          this.#viaHttp(target, req, res, fail, body);
        } else if (!retried && !refused(err) && !(err instanceof LinkTimeoutError)) {
          this.#viaLink(target, key, req, res, fail, body, true);
        } else fail(err);
      },
    };
    try {
      id = via.send(req.method ?? "GET", req.url ?? "/", forwardHeaders(req), body, exchange);
    } catch (err) {
      // A request no frame can carry (node:http's parser lets none through): refused here.
      fail(err as Error);
      return;
    }
    // The client gave up (a long poll cut): the owner must see it too.
    res.on("close", onClose);
  }

  /**
   * Replays `req` to `target` as an HTTP request and streams the answer into
   * `res` (see {@link request}); a body already read is sent once more on a
   * new connection when a kept-alive one fails other than by a refusal.
   */
  #viaHttp(
    target: ForwardTarget,
    req: IncomingMessage,
    res: ServerResponse,
    fail: (err: Error) => void,
    body?: string | Buffer | null,
    retried = false,
  ): void {
    const headers = forwardHeaders(req);
    headers[FORWARDED_HEADER] = this.nodeId;
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
        this.#viaHttp(target, req, res, fail, body, true);
      } else fail(err);
    });
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

  /** Closes the links and the idle kept-alive connections to peers. */
  close(): void {
    for (const link of [...this.#links.values()]) link.close();
    this.#links.clear();
    this.#agent.destroy();
  }
}

/** Whether `err` says that nothing listens at the address (the owner process is gone). */
export function refused(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "ECONNREFUSED";
}

/** The headers a forwarded request carries: the client's, but hop-by-hop ones, plus X-Forwarded-For. */
function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name) && name !== FORWARDED_HEADER) {
      headers[name] = value;
    }
  }
  appendForwardedFor(headers, req);
  return headers;
}

/**
 * Reads the body of `req` (none without Content-Length or Transfer-Encoding)
 * and hands it to `done`; a body over `max` bytes is answered 413 here, as
 * the owner would, and the connection closed.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  max: number,
  done: (body: Buffer | null) => void,
): void {
  const length = req.headers["content-length"];
  if (length === undefined && req.headers["transfer-encoding"] === undefined) {
    done(null);
    return;
  }
  if (length !== undefined && Number(length) > max) {
    tooLarge(res);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size <= max) {
      chunks.push(chunk);
      return;
    }
    req.off("data", onData);
    req.off("end", onEnd);
    tooLarge(res);
  };
  const onEnd = (): void => {
    done(size === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
  };
  req.on("data", onData);
  req.on("end", onEnd);
  req.on("error", () => {});
}

function tooLarge(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  // Connection: close makes node drop the rest of the body with the socket.
  res.writeHead(413, { Connection: "close" });
  res.end();
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
