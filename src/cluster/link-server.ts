/**
 * The owner's end of the forwarding link: a peer node opens one connection
 * with an HTTP Upgrade on the protocol's path (so the link needs no port of
 * its own), then sends its forwarded requests as REQUEST frames. Each becomes
 * a {@link LinkRequest}/{@link LinkResponse} pair handed to the protocol's
 * request handler; the response goes back as frames. Frames written in one
 * event-loop turn leave in one write: a broadcast that releases a hundred
 * held polls forwarded by one peer answers them in one syscall.
 *
 * A peer that sends anything malformed (a bad frame, one over the size
 * limit, a reused exchange id) has its link closed; its held requests end as
 * if their clients had gone.
 */
import { type IncomingMessage, maxHeaderSize } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createDebug } from "../shared/debug.js";
import {
  encodeCancel,
  encodeData,
  encodeResponse,
  FRAME_CANCEL,
  FRAME_REQUEST,
  FrameDecoder,
  type LinkFrame,
  type LinkHeaders,
  type RequestFrame,
} from "./link-frame.js";
import {
  LinkRequest,
  LinkResponse,
  type LinkSocketInfo,
  type ResponseSink,
} from "./link-messages.js";
import { writeInTurn } from "./link-write.js";

const debug = createDebug("cluster:link");

/** The `Upgrade` token of the link (RFC 9110 §7.8). */
export const LINK_PROTOCOL = "switchboard-link/1";

/** Room in a REQUEST frame for the method, URL and headers, past the body limit. */
export const HEAD_ALLOWANCE = 2 * maxHeaderSize + 64 * 1024;

/** Largest body chunk in one RESPONSE or DATA frame; a longer body is split. */
export const RESPONSE_CHUNK = 256 * 1024;

/** Requests one link may hold at once (held polls included). */
export const MAX_EXCHANGES = 100_000;

/** The loop guard header (forward.ts), set on every request a link carries. */
const FORWARDED = "x-switchboard-forwarded";

/** Whether `req` asks to open a forwarding link. */
export function isLinkUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.toLowerCase() === LINK_PROTOCOL;
}

export type LinkHandler = (req: LinkRequest, res: LinkResponse) => void;

export interface LinkAcceptorOptions {
  /** The protocol's request handler; requests reach it marked as forwarded. */
  handler: LinkHandler;
  /** Largest request body accepted (the protocol's own limit). */
  maxBody: number;
}

/**
 * The links peers opened to one protocol server.
 *
 * @example
 * const links = new LinkAcceptor({ handler: (req, res) => engine.handleRequest(req, res), maxBody });
 * if (isLinkUpgrade(req)) links.accept(req, socket, head);
 */
export class LinkAcceptor {
  readonly #options: LinkAcceptorOptions;
  readonly #links = new Set<ServedLink>();

  constructor(options: LinkAcceptorOptions) {
    this.#options = options;
  }

  /** Completes the upgrade of a link request and serves the link. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const peer = req.headers[FORWARDED];
    if (typeof peer !== "string" || peer === "") {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${LINK_PROTOCOL}\r\n\r\n`,
    );
    const link = new ServedLink(socket as Socket, peer, this.#options, () =>
      this.#links.delete(link),
    );
    this.#links.add(link);
    if (head.length > 0) link.read(head);
  }

  /** Number of open links. */
  get size(): number {
    return this.#links.size;
  }

  /** Closes every link; their held requests end as if their clients had gone. */
  close(): void {
    for (const link of [...this.#links]) link.close();
  }
}

/** One accepted link: decodes requests, serves them, frames their responses. */
class ServedLink implements ResponseSink {
  readonly #socket: Socket;
  readonly #peer: string;
  readonly #options: LinkAcceptorOptions;
  readonly #decoder: FrameDecoder;
  readonly #exchanges = new Map<number, LinkResponse>();
  readonly #info: LinkSocketInfo;
  readonly #onClose: () => void;
  #closed = false;

  constructor(socket: Socket, peer: string, options: LinkAcceptorOptions, onClose: () => void) {
    this.#socket = socket;
    this.#peer = peer;
    this.#options = options;
    this.#onClose = onClose;
    this.#decoder = new FrameDecoder({
      maxFrame: options.maxBody + HEAD_ALLOWANCE,
      accepts: [FRAME_REQUEST, FRAME_CANCEL],
    });
    this.#info = {
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      localAddress: socket.localAddress,
      localPort: socket.localPort,
    };
    socket.setNoDelay?.(true);
    socket.setKeepAlive?.(true, 10_000);
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("error", (err) => debug("link from %s failed: %s", peer, err.message));
    socket.on("close", () => this.close());
  }

  read(chunk: Buffer): void {
    let frames: LinkFrame[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (err) {
      debug("closing the link from %s: %s", this.#peer, (err as Error).message);
      this.close();
      return;
    }
    for (const frame of frames) {
      if (this.#closed) return;
      if (frame.type === FRAME_REQUEST) this.#serve(frame);
      else this.#exchanges.get(frame.id)?.abort();
    }
  }

  #serve(frame: RequestFrame): void {
    if (this.#exchanges.has(frame.id) || this.#exchanges.size >= MAX_EXCHANGES) {
      debug("closing the link from %s: exchange %d refused", this.#peer, frame.id);
      this.close();
      return;
    }
    if (frame.body.length > this.#options.maxBody) {
      // The forwarding node applies the limit first; a peer that does not is not served.
      debug("closing the link from %s: body of %d bytes", this.#peer, frame.body.length);
      this.close();
      return;
    }
    const headers = frame.headers;
    headers[FORWARDED] = this.#peer;
    const id = frame.id;
    const req = new LinkRequest(frame.method, frame.url, headers, frame.body, this.#info, () =>
      res.destroy(),
    );
    const res = new LinkResponse(id, req, this);
    this.#exchanges.set(id, res);
    try {
      this.#options.handler(req, res);
    } catch (err) {
      debug("forwarded request %s failed: %o", frame.url, err);
      res.destroy();
    }
  }

  head(
    id: number,
    status: number,
    headers: LinkHeaders,
    body: Buffer | string,
    fin: boolean,
  ): void {
    const bytes =
      typeof body === "string" && body.length > RESPONSE_CHUNK / 4 ? Buffer.from(body) : body;
    if (Buffer.byteLength(bytes) <= RESPONSE_CHUNK) {
      this.#write(encodeResponse(id, status, headers, bytes, fin));
      return;
    }
    const whole = bytes as Buffer;
    this.#write(encodeResponse(id, status, headers, whole.subarray(0, RESPONSE_CHUNK), false));
    this.data(id, whole.subarray(RESPONSE_CHUNK), fin);
  }

  data(id: number, body: Buffer | string, fin: boolean): void {
    let bytes = typeof body === "string" ? Buffer.from(body) : body;
    while (bytes.length > RESPONSE_CHUNK) {
      this.#write(encodeData(id, bytes.subarray(0, RESPONSE_CHUNK), false));
      bytes = bytes.subarray(RESPONSE_CHUNK);
    }
    this.#write(encodeData(id, bytes, fin));
  }

  cancel(id: number): void {
    this.#write(encodeCancel(id));
  }

  done(id: number): void {
    this.#exchanges.delete(id);
  }

  /** Writes a frame; the frames of one event-loop turn leave together. */
  #write(frame: Buffer): void {
    if (this.#closed) return;
    writeInTurn(this.#socket, frame);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    const held = [...this.#exchanges.values()];
    this.#exchanges.clear();
    for (const res of held) res.abort();
    this.#onClose();
  }
}
