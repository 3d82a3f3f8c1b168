/**
 * One client connection read by Switchboard instead of node:http: request
 * heads are parsed here, a request a route claims (a long-poll of an open
 * session) is answered through an {@link Exchange}, and the first request
 * none claims (or anything unusual: an upgrade, `Expect`, a chunked body,
 * HTTP/1.0, a head that does not parse) hands the connection, from that
 * request's first byte on, to node:http for the rest of its life: node then
 * answers it exactly as it would have, errors included.
 *
 * One request is served at a time: bytes that arrive while an answer is
 * pending wait (a pipelining client's), bounded by the head size limit.
 */
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../shared/logger.js";
import { EMPTY, Exchange, type ExchangeOwner } from "./exchange.js";
import type { Http1Front } from "./front.js";
import { type HeadLimits, parseRequestHead } from "./head-parser.js";

/** What a route needs to take a request. */
export interface FastRoute {
  /** Largest body the route takes here; a larger one goes to node:http. */
  readonly maxBody: number;
  /** Whether the route serves this request (head only: the body is not read yet). */
  claim(exchange: Exchange): boolean;
  /** Serves the request, its body read whole into `exchange.body`. */
  serve(exchange: Exchange): void;
  /** Hears what `serve` threw (the connection then answers 500 and closes). */
  readonly logger: Logger;
}

const TIMEOUT_RESPONSE = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
const ERROR_RESPONSE =
  "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

export class Http1Connection implements ExchangeOwner {
  readonly socket: Socket;
  readonly #front: Http1Front;
  /** Received bytes not parsed yet, from the start of the next request. */
  #pending: Buffer | null = null;
  /** The request being read (its body) or waiting for its answer. */
  #exchange: Exchange | null = null;
  #route: FastRoute | null = null;
  /** The body being read: its bytes, how many are in. */
  #body: Buffer | null = null;
  #bodyIn = 0;
  #parsing = false;
  /** The length of `#pending` when its head was last found incomplete (the parser resumes there). */
  #resumeAt = 0;
  readonly #limits: HeadLimits;
  #done = false;
  /** When the connection last went idle (ms), or 0 while a request is under way. */
  idleSince = 0;
  /** When the request being received started (ms), or 0. */
  startedAt: number;

  constructor(socket: Socket, front: Http1Front) {
    this.socket = socket;
    this.#front = front;
    this.#limits = front.limits;
    this.startedAt = Date.now();
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onClose);
    socket.on("error", ignore);
    socket.on("drain", this.#onDrain);
  }

  /** Whether no request is under way: closing the connection loses nothing. */
  get idle(): boolean {
    return this.#exchange === null && this.#pending === null && !this.#done;
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#done) return;
    const body = this.#body;
    if (body !== null) {
      const take = Math.min(chunk.length, body.length - this.#bodyIn);
      chunk.copy(body, this.#bodyIn, 0, take);
      this.#bodyIn += take;
      if (take < chunk.length) this.#pending = chunk.subarray(take);
      if (this.#bodyIn < body.length) return;
      const exchange = this.#exchange!;
      exchange.body = body;
      this.#body = null;
      this.#serve(exchange, this.#route!);
      if (this.#exchange === null) this.#parse();
      return;
    }
    this.#pending = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    if (this.#exchange === null) this.#parse();
    else if (this.#pending.length > this.#limits.maxHeaderSize) this.socket.pause();
  };

  readonly #onEnd = (): void => {
    // The client half-closed: what it has not been answered yet is lost, as
    // node:http (without `httpAllowHalfOpen`) treats it.
    this.#abort();
    if (!this.#done) this.socket.end();
  };

  readonly #onClose = (): void => {
    this.#abort();
    this.#done = true;
    this.#front.forget(this);
  };

  readonly #onDrain = (): void => {
    if (this.#done || this.#exchange !== null) return;
    this.socket.resume();
    if (this.#pending !== null) this.#parse();
  };

  #abort(): void {
    const exchange = this.#exchange;
    this.#exchange = null;
    this.#body = null;
    if (exchange !== null && !exchange.writableEnded) exchange.aborted();
  }

  /** Reads the requests in `#pending`, one at a time. */
  #parse(): void {
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      while (this.#pending !== null && this.#exchange === null && !this.#done) {
        if (this.socket.writableNeedDrain) {
          this.socket.pause();
          return;
        }
        if (!this.#next(this.#pending)) return;
      }
    } finally {
      this.#parsing = false;
    }
  }

  /** Takes one request from `pending`; false when it must wait or left for node:http. */
  #next(pending: Buffer): boolean {
    const front = this.#front;
    let head: ReturnType<typeof parseRequestHead>;
    try {
      head = parseRequestHead(pending, 0, this.#limits, this.#resumeAt);
    } catch {
      this.#handOff();
      return false;
    }
    this.#resumeAt = head === null ? pending.length : 0;
    if (head === null) {
      if (this.idleSince !== 0) {
        this.idleSince = 0;
        this.startedAt = Date.now();
      }
      return false;
    }
    if (
      head.versionMinor !== 1 ||
      head.upgrade ||
      head.expectContinue ||
      head.chunked ||
      head.rawHeaders.length === 0
    ) {
      this.#handOff();
      return false;
    }
    const exchange = new Exchange(
      this,
      head.method,
      head.url,
      head.rawHeaders,
      EMPTY,
      head.keepAlive,
    );
    const route = front.claim(exchange);
    const length = head.contentLength < 0 ? 0 : head.contentLength;
    if (route === null || length > route.maxBody) {
      this.#handOff();
      return false;
    }
    this.idleSince = 0;
    const end = head.headLength + length;
    if (pending.length >= end) {
      if (length > 0) exchange.body = pending.subarray(head.headLength, end);
      this.#pending = end === pending.length ? null : pending.subarray(end);
      this.#serve(exchange, route);
      return true;
    }
    // The body is still coming: read into one buffer of its announced size.
    const body = Buffer.allocUnsafe(length);
    this.#bodyIn = pending.copy(body, 0, head.headLength);
    this.#body = body;
    this.#exchange = exchange;
    this.#route = route;
    this.#pending = null;
    this.startedAt = Date.now();
    return false;
  }

  #serve(exchange: Exchange, route: FastRoute): void {
    this.#exchange = exchange;
    this.#route = null;
    try {
      route.serve(exchange);
    } catch (err) {
      route.logger.error({ err, url: exchange.url }, "request failed");
      if (!exchange.writableEnded) {
        this.#exchange = null;
        this.#finish(ERROR_RESPONSE);
      }
    }
  }

  respond(
    exchange: Exchange,
    status: number,
    reason: string,
    set: readonly (string | OutgoingHttpHeader)[] | null,
    pending: string[] | OutgoingHttpHeaders | null,
    body: string | Buffer,
  ): void {
    if (this.#done) return;
    const front = this.#front;
    const keepAlive = exchange.keepAlive && !front.closing;
    const close = front.writer.write(this.socket, status, reason, set, pending, body, keepAlive);
    if (this.#exchange === exchange) this.#exchange = null;
    if (close) {
      this.#done = true;
      this.#pending = null;
      return;
    }
    this.idleSince = Date.now();
    if (this.#pending !== null && !this.#parsing) {
      this.socket.resume();
      setImmediate(() => this.#parse());
    }
  }

  /** Writes a last response of our own and closes. */
  #finish(response: string): void {
    this.#done = true;
    this.#pending = null;
    this.socket.end(response);
  }

  /** The sweep's check: closes a connection idle or stalled past the server's timeouts. */
  check(now: number, keepAlive: number, headers: number, request: number): void {
    if (this.#done) return;
    if (this.idle) {
      if (this.idleSince !== 0 && now - this.idleSince > keepAlive) this.socket.destroy();
      else if (this.idleSince === 0 && headers > 0 && now - this.startedAt > headers) {
        this.#finish(TIMEOUT_RESPONSE);
      }
      return;
    }
    if (this.#body !== null && request > 0 && now - this.startedAt > request) {
      this.#abort();
      this.#finish(TIMEOUT_RESPONSE);
    } else if (this.#exchange === null && headers > 0 && now - this.startedAt > headers) {
      this.#finish(TIMEOUT_RESPONSE);
    }
  }

  /** Closes the connection when nothing is under way on it; returns whether it did. */
  closeIfIdle(): boolean {
    if (!this.idle) return false;
    this.socket.destroy();
    return true;
  }

  /**
   * Gives the connection to node:http from the current request on: the
   * bytes not parsed go back to the socket, node's connection listener
   * takes it, and reads it through stream events so those bytes come first.
   */
  #handOff(): void {
    const socket = this.socket;
    this.#done = true;
    socket.removeListener("data", this.#onData);
    socket.removeListener("end", this.#onEnd);
    socket.removeListener("close", this.#onClose);
    socket.removeListener("error", ignore);
    socket.removeListener("drain", this.#onDrain);
    this.#front.forget(this);
    socket.pause();
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) socket.unshift(pending);
    this.#front.handOff(socket);
    socket.resume();
  }
}

function ignore(): void {}
