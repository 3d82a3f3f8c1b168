/**
 * The forwarding node's end of a link to one peer: one TCP connection,
 * opened on first use with an HTTP Upgrade to {@link LINK_PROTOCOL} on the
 * peer's advertised address, that carries every request forwarded to that
 * peer as an exchange (a REQUEST frame out, RESPONSE/DATA frames back).
 * Frames written in one event-loop turn leave in one write.
 *
 * Failures reach each exchange once, through `fail`, while nothing of its
 * response has arrived: the connection's own error (`ECONNREFUSED` when
 * nothing listens at the address), {@link LinkUnsupportedError} when the peer
 * answers the upgrade with anything but 101 (a node without links), or
 * {@link LinkClosedError} when the link ends or the peer breaks the framing.
 * Once a response started, a failure only cancels it (`cancel`).
 */
import { connect, type Socket } from "node:net";
import { createDebug } from "../shared/debug.js";
import { SwitchboardError } from "../shared/errors.js";
import {
  encodeCancel,
  encodeRequest,
  FRAME_CANCEL,
  FRAME_DATA,
  FRAME_RESPONSE,
  FrameDecoder,
  type LinkFrame,
  type LinkHeaders,
} from "./link-frame.js";
import { HEAD_ALLOWANCE, LINK_PROTOCOL, RESPONSE_CHUNK } from "./link-server.js";
import { writeInTurn } from "./link-write.js";

const debug = createDebug("cluster:link");

/** Largest upgrade answer read before the link's frames. */
const MAX_UPGRADE_HEAD = 16 * 1024;

/** The peer answered the link's upgrade with another status: it serves no link. */
export class LinkUnsupportedError extends SwitchboardError {
  readonly status: number;

  constructor(status: number) {
    super("ERR_LINK_UNSUPPORTED", `the peer answered the link upgrade with ${status}`);
    this.status = status;
  }
}

/** The link ended (closed, reset, or broken framing) before the exchange was answered. */
export class LinkClosedError extends SwitchboardError {
  constructor(reason: string, cause?: unknown) {
    super("ERR_LINK_CLOSED", `forwarding link closed: ${reason}`, { cause });
  }
}

/** No answer (or no connection) within the time allowed. */
export class LinkTimeoutError extends SwitchboardError {
  constructor(what: string, ms: number) {
    super("ETIMEDOUT", `${what} took more than ${ms} ms`);
  }
}

/** One forwarded request's view of the link. */
export interface LinkExchange {
  /** The response head and its first body chunk (`fin`: the whole response). */
  head(status: number, headers: LinkHeaders, body: Buffer, fin: boolean): void;
  /** A further body chunk. */
  data(body: Buffer, fin: boolean): void;
  /** The owner dropped the request, or the link ended after its response started. */
  cancel(): void;
  /** The exchange failed before anything of the response arrived. */
  fail(err: Error): void;
}

export interface PeerLinkOptions {
  host: string;
  port: number;
  /** The request target of the upgrade: a path the peer's protocol server answers. */
  path: string;
  /** This node's id (the loop guard: the peer serves what the link carries, never forwards it). */
  nodeId: string;
  /** Milliseconds to connect and upgrade. */
  connectTimeout: number;
  /** Milliseconds an exchange may wait for its response to start. */
  requestTimeout: number;
}

interface Pending {
  exchange: LinkExchange;
  started: boolean;
  deadline: number;
}

type State = "connecting" | "upgrading" | "open" | "closed";

export class PeerLink {
  readonly #options: PeerLinkOptions;
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({
    maxFrame: RESPONSE_CHUNK + HEAD_ALLOWANCE,
    accepts: [FRAME_RESPONSE, FRAME_DATA, FRAME_CANCEL],
  });
  /** By exchange id, oldest first (so the timeout sweep stops at the first one in time). */
  readonly #pending = new Map<number, Pending>();
  readonly #onClose: (link: PeerLink) => void;
  /** Frames sent before the link was open. */
  #queued: Buffer[] = [];
  #state: State = "connecting";
  #upgradeHead = "";
  #nextId = 1;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: PeerLinkOptions, onClose: (link: PeerLink) => void) {
    this.#options = options;
    this.#onClose = onClose;
    const socket = connect(options.port, options.host);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(options.connectTimeout, () => {
      this.#fail(new LinkTimeoutError("opening the forwarding link", options.connectTimeout));
    });
    socket.on("connect", () => {
      this.#state = "upgrading";
      socket.write(
        `GET ${options.path} HTTP/1.1\r\nHost: ${hostHeader(options)}\r\n` +
          `Connection: Upgrade\r\nUpgrade: ${LINK_PROTOCOL}\r\n` +
          `x-switchboard-forwarded: ${options.nodeId}\r\n\r\n`,
      );
    });
    socket.on("data", (chunk: Buffer) => this.#read(chunk));
    socket.on("error", (err) => this.#fail(err));
    socket.on("close", () => this.#fail(new LinkClosedError("connection closed")));
    const tick = Math.max(10, Math.min(1000, options.requestTimeout / 4));
    this.#sweep = setInterval(() => this.#expire(), tick);
    this.#sweep.unref();
  }

  /** Whether the link still takes exchanges. */
  get usable(): boolean {
    return this.#state !== "closed";
  }

  /** Exchanges in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** Sends a request; returns the exchange's id (for {@link cancel}). */
  send(
    method: string,
    url: string,
    headers: LinkHeaders,
    body: Buffer | string | null,
    exchange: LinkExchange,
  ): number {
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    const frame = encodeRequest(id, method, url, headers, body);
    this.#pending.set(id, {
      exchange,
      started: false,
      deadline: Date.now() + this.#options.requestTimeout,
    });
    this.#write(frame);
    return id;
  }

  /** The client went away: the owner drops the request (a held poll ends there). */
  cancel(id: number): void {
    if (!this.#pending.delete(id)) return;
    this.#write(encodeCancel(id));
  }

  /** Closes the link; the client connections of exchanges in flight are closed (nothing retried). */
  close(): void {
    this.#fail(new LinkClosedError("closed by this node"), true);
  }

  #write(frame: Buffer): void {
    if (this.#state === "closed") return;
    if (this.#state !== "open") {
      this.#queued.push(frame);
      return;
    }
    writeInTurn(this.#socket, frame);
  }

  #read(chunk: Buffer): void {
    if (this.#state === "upgrading") {
      const rest = this.#readUpgrade(chunk);
      if (rest === undefined || rest.length === 0) return;
      chunk = rest;
    } else if (this.#state !== "open") return;
    let frames: LinkFrame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      this.#fail(new LinkClosedError((err as Error).message, err));
      return;
    }
    for (const frame of frames) this.#deliver(frame);
  }

  /** Reads the answer to the upgrade; returns the bytes after it. */
  #readUpgrade(chunk: Buffer): Buffer | undefined {
    this.#upgradeHead += chunk.toString("latin1");
    const end = this.#upgradeHead.indexOf("\r\n\r\n");
    if (end === -1) {
      if (this.#upgradeHead.length > MAX_UPGRADE_HEAD) {
        this.#fail(new LinkClosedError("upgrade answer too long"));
      }
      return undefined;
    }
    const head = this.#upgradeHead.slice(0, end);
    const rest = Buffer.from(this.#upgradeHead.slice(end + 4), "latin1");
    this.#upgradeHead = "";
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
    const upgrade = /\r\nupgrade:[ \t]*([^\r\n]*)/i.exec(head)?.[1]?.trim().toLowerCase();
    if (status !== 101 || upgrade !== LINK_PROTOCOL) {
      this.#fail(new LinkUnsupportedError(status));
      return undefined;
    }
    this.#state = "open";
    this.#socket.setTimeout(0);
    this.#socket.setKeepAlive(true, 10_000);
    const queued = this.#queued;
    this.#queued = [];
    for (const frame of queued) this.#write(frame);
    return rest;
  }

  #deliver(frame: LinkFrame): void {
    const pending = this.#pending.get(frame.id);
    // Frames of an exchange cancelled here may still be on their way: dropped.
    if (pending === undefined) return;
    switch (frame.type) {
      case FRAME_RESPONSE:
        if (pending.started) {
          this.#fail(new LinkClosedError(`second response for exchange ${frame.id}`));
          return;
        }
        pending.started = true;
        if (frame.fin) this.#pending.delete(frame.id);
        pending.exchange.head(frame.status, frame.headers, frame.body, frame.fin);
        return;
      case FRAME_DATA:
        if (!pending.started) {
          this.#fail(new LinkClosedError(`data before the response of exchange ${frame.id}`));
          return;
        }
        if (frame.fin) this.#pending.delete(frame.id);
        pending.exchange.data(frame.body, frame.fin);
        return;
      default:
        // The owner dropped the request (as closing an HTTP connection would):
        // the client's connection is closed, nothing is retried.
        this.#pending.delete(frame.id);
        pending.exchange.cancel();
    }
  }

  /** Ends exchanges waiting longer than the request timeout for their response. */
  #expire(): void {
    const now = Date.now();
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) break;
      if (pending.started) continue;
      this.cancel(id);
      pending.exchange.fail(
        new LinkTimeoutError("a forwarded request", this.#options.requestTimeout),
      );
    }
  }

  #fail(err: Error, cancel = false): void {
    if (this.#state === "closed") return;
    debug("link to %s:%d ends: %s", this.#options.host, this.#options.port, err.message);
    this.#state = "closed";
    clearInterval(this.#sweep);
    this.#queued = [];
    this.#socket.destroy();
    this.#onClose(this);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      if (p.started || cancel) p.exchange.cancel();
      else p.exchange.fail(err);
    }
  }
}

function hostHeader(options: PeerLinkOptions): string {
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return `${host}:${options.port}`;
}
