/**
 * HTTP long-polling (XHR flavour). The client holds a GET open until the
 * server has packets for it, and sends its own packets in POST bodies
 * (Engine.IO protocol, "HTTP long-polling" section).
 *
 * - GET: answered once packets are ready, all queued packets in one payload.
 *   A second GET while one is held is a protocol violation.
 * - POST: a payload of packets, answered `ok`. The body is read in chunks and
 *   refused with 413 the moment it crosses `maxHttpBufferSize`.
 *
 * Request listeners are shared functions; the transport is found through a
 * symbol on the request, so no closure is created per request. A response
 * whose headers nobody decorates is written with one `writeHead` of a flat
 * header list and one `end`; a poll answered with one broadcast message alone
 * gets the message's shared body bytes, and the headers made for the last such
 * body (a broadcast answers its polling recipients one after the other).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import {
  decodePayload,
  decodePayloadV3,
  decodePayloadV3Binary,
  type EngineParseError,
  encodePacketToString,
  encodePayloadV3,
  encodePayloadV3Binary,
  hasBinary,
  type Packet,
  type ProtocolVersion,
  RECORD_SEPARATOR,
} from "../codec/engineio/index.js";
import { Exchange, kHolder } from "../http1/exchange.js";
import { BodyReader } from "./body-reader.js";
import { compressBody, negotiateEncoding } from "./http-compression.js";
import { rawHeader } from "./raw-header.js";
import { type PreEncoded, Transport, type TransportConfig } from "./transport.js";

/** The held poll's transport, on its response (an exchange has the slot already). */
const kPoll = kHolder;
const kData = Symbol("switchboard.data");

interface DataState {
  transport: PollingTransport;
  reader: BodyReader;
  binary: boolean;
  res: ServerResponse;
}

type PollResponse = ServerResponse & { [kPoll]?: PollingTransport };
type DataRequest = IncomingMessage & { [kData]?: DataState };

function onPollClose(this: PollResponse): void {
  const transport = this[kPoll];
  this[kPoll] = undefined;
  // 'close' also follows a completed response; only an unanswered poll counts.
  if (transport && transport.res === this) transport.onPollAborted();
}

function onDataChunk(this: DataRequest, chunk: Buffer): void {
  const state = this[kData];
  if (state && !state.reader.push(chunk)) state.transport.onDataTooLarge(this, state);
}

function onDataEnd(this: DataRequest): void {
  const state = this[kData];
  this[kData] = undefined;
  if (state) state.transport.onDataComplete(this, state);
}

function onDataClose(this: DataRequest): void {
  const state = this[kData];
  this[kData] = undefined;
  if (state) state.transport.onDataAborted(this);
}

/** Minimal JSON error body, as the engine's error table writes them. */
const BAD_REQUEST_BODY = '{"code":3,"message":"Bad request"}';

const TEXT_TYPE = "text/plain; charset=UTF-8";
const BINARY_TYPE = "application/octet-stream";

/** The answer to a POST with no decorated headers: always the same. */
const OK_HEADERS: string[] = [
  // text/html, not text/plain: some user agents offered text/plain as a download.
  "Content-Type",
  "text/html",
  "Content-Length",
  "2",
  "cache-control",
  "no-store",
];

/** A poll answer's headers when nobody decorates them: one flat list for `writeHead`. */
function plainHeaders(type: string, length: number): string[] {
  return ["Content-Type", type, "Content-Length", String(length), "cache-control", "no-store"];
}

/** The last shared body a poll was answered with, and its headers. */
let sharedBody: Buffer | null = null;
let sharedHeaders: string[] = [];

/** Old Internet Explorer flagged polling responses as XSS unless told otherwise. */
function isOldIE(req: IncomingMessage): boolean {
  const ua = rawHeader(req, "user-agent");
  return ua !== undefined && (ua.includes(";MSIE") || ua.includes("Trident/"));
}

export class PollingTransport extends Transport {
  /** On the prototype, not in each instance. */
  get name(): "polling" {
    return "polling";
  }
  /** v3 only: whether binary payloads may be sent (the client did not ask for `b64`). */
  readonly supportsBinary: boolean;
  /** The held GET, while there is one. */
  req: IncomingMessage | null = null;
  res: ServerResponse | null = null;
  /** The POST being read, while there is one. */
  dataReq: IncomingMessage | null = null;
  /** Set when closed with no poll held: the client must learn it on its next GET. */
  closedWithoutPoll = false;
  /** True until the first response (the handshake's) has been written. */
  #initial = true;

  constructor(protocol: ProtocolVersion, config: TransportConfig, supportsBinary = true) {
    super(protocol, config);
    this.supportsBinary = supportsBinary;
  }

  get handlesUpgrades(): boolean {
    return false;
  }

  /** Dispatches a request of this session by method. */
  onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "GET") this.onPollRequest(req, res);
    else if (req.method === "POST") this.onDataRequest(req, res);
    else {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(BAD_REQUEST_BODY);
    }
  }

  onPollRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.readyState !== "open") {
      // The session was closed while no poll was held: engine.io answers the
      // next poll with a noop then the close packet, in one payload.
      this.#respond(req, res, this.#encode([{ type: "noop" }, { type: "close" }]), false, false);
      return;
    }
    if (this.res !== null) {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(BAD_REQUEST_BODY);
      this.emitError("overlap from client");
      return;
    }
    this.req = req;
    this.res = res;
    (res as PollResponse)[kPoll] = this;
    // `on`, not `once`: no wrapper per poll (the listener ignores a late call).
    res.on("close", onPollClose);
    this.writable = true;
    this.owner?.onTransportReady(this);
  }

  onPollAborted(): void {
    this.req = this.res = null;
    this.writable = false;
    this.emitError("poll connection closed prematurely");
  }

  onDataRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.dataReq !== null) {
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(BAD_REQUEST_BODY);
      this.emitError("data request overlap from client");
      return;
    }
    const binary = rawHeader(req, "content-type") === "application/octet-stream";
    if (binary && this.protocol === 4) {
      // v4 long-polling carries binary as base64 text only.
      res.writeHead(400, { "Content-Type": "application/json" });
      res.end(BAD_REQUEST_BODY);
      this.emitError("invalid content");
      return;
    }
    const reader = new BodyReader(this.config.maxHttpBufferSize);
    if (req instanceof Exchange) {
      // Read whole already (the HTTP/1.1 front), within maxHttpBufferSize.
      reader.push(req.body);
      this.onDataComplete(req as unknown as IncomingMessage, {
        transport: this,
        reader,
        binary,
        res,
      });
      return;
    }
    this.dataReq = req;
    (req as DataRequest)[kData] = { transport: this, reader, binary, res };
    // Shared listeners, each acting once (they clear the request's state).
    req.on("data", onDataChunk);
    req.on("end", onDataEnd);
    req.on("close", onDataClose);
  }

  onDataTooLarge(req: IncomingMessage, state: DataState): void {
    (req as DataRequest)[kData] = undefined;
    req.removeListener("data", onDataChunk);
    this.dataReq = null;
    // Connection: close makes node drop the rest of the body with the socket.
    state.res.writeHead(413, { Connection: "close" });
    state.res.end();
    this.emitError("payload too large");
  }

  onDataAborted(req: IncomingMessage): void {
    if (this.dataReq === req) this.dataReq = null;
    this.emitError("data request connection closed prematurely");
  }

  onDataComplete(req: IncomingMessage, state: DataState): void {
    if (this.dataReq === req) this.dataReq = null;
    this.config.counters.bytesIn += state.reader.length;
    let packets: Packet[] | null = null;
    let error: unknown = null;
    try {
      packets = this.decodeBody(state.reader, state.binary);
    } catch (err) {
      error = err;
    }
    // A body that does not decode is still answered `ok`, as engine.io does:
    // the session ends ("parse error"), a held poll gets the close packet and
    // the client's next request learns of it (400, unknown sid).
    if (this.#plain(req, false)) state.res.writeHead(200, OK_HEADERS);
    else {
      const headers: OutgoingHttpHeaders = { "Content-Type": "text/html", "Content-Length": "2" };
      state.res.writeHead(200, this.#headers(req, headers, false));
    }
    state.res.end("ok");
    if (packets === null) {
      this.emitError(error instanceof Error ? error.message : "parse error", true);
      return;
    }
    for (const packet of packets) {
      if (this.readyState !== "open") break;
      if (packet.type === "close") {
        // Release a held poll before the session goes away.
        if (this.writable) this.send([{ type: "noop" }]);
        this.emitClose();
        break;
      }
      this.emitPacket(packet);
    }
  }

  /** Turns a complete POST body into packets; throws {@link EngineParseError}. */
  protected decodeBody(reader: BodyReader, binary: boolean): Packet[] {
    if (this.protocol === 3) {
      return binary ? decodePayloadV3Binary(reader.bytes()) : decodePayloadV3(reader.text());
    }
    return decodePayload(reader.text());
  }

  /**
   * Answers the held poll with one prepared message alone (a broadcast's
   * packet): v4 writes the message's shared body bytes; anything else
   * (v3, JSONP, decorated headers, compression) takes {@link send}.
   */
  sendPrepared(prepared: PreEncoded, compress: boolean): void {
    const req = this.req;
    const res = this.res;
    if (req === null || res === null) return;
    const body = this.protocol === 4 && !this.wrapsPayload ? prepared.pollingBody() : null;
    const threshold = this.config.httpCompressionThreshold;
    if (
      body === null ||
      (compress && threshold !== null && body.length >= threshold) ||
      !this.#plain(req, this.#initial)
    ) {
      this.send([prepared.packet(compress)]);
      return;
    }
    this.#release(res);
    this.#initial = false;
    this.config.counters.bytesOut += body.length;
    if (sharedBody !== body) {
      sharedBody = body;
      sharedHeaders = plainHeaders(TEXT_TYPE, body.length);
    }
    res.writeHead(200, sharedHeaders);
    res.end(body);
  }

  /** Forgets the held poll whose response is about to be written. */
  #release(res: ServerResponse): void {
    this.req = this.res = null;
    (res as PollResponse)[kPoll] = undefined;
    res.removeListener("close", onPollClose);
    this.writable = false;
  }

  /** Whether the payload is wrapped (JSONP): shared plain bodies do not apply. */
  protected get wrapsPayload(): boolean {
    return false;
  }

  send(packets: Packet[], notify = false): void {
    const req = this.req;
    const res = this.res;
    if (req === null || res === null) return;
    this.#release(res);
    let compress = false;
    for (const packet of packets) {
      if (packet.options?.compress !== false) {
        compress = true;
        break;
      }
    }
    this.#respond(req, res, this.#encode(packets), compress, notify);
  }

  #encode(packets: Packet[]): string | Buffer {
    if (this.protocol === 3) {
      if (this.supportsBinary && hasBinary(packets)) return encodePayloadV3Binary(packets);
      return this.wrap(encodePayloadV3(packets));
    }
    let out = "";
    for (let i = 0; i < packets.length; i++) {
      const packet = packets[i];
      const prepared = packet.options?.prepared as PreEncoded | undefined;
      if (i > 0) out += RECORD_SEPARATOR;
      out += prepared !== undefined ? prepared.pollingPacket() : encodePacketToString(packet);
    }
    return this.wrap(out);
  }

  /** Hook for JSONP, which wraps the payload in a script. */
  protected wrap(payload: string): string {
    return payload;
  }

  #respond(
    req: IncomingMessage,
    res: ServerResponse,
    body: string | Buffer,
    compress: boolean,
    notify: boolean,
  ): void {
    const type = typeof body === "string" ? TEXT_TYPE : BINARY_TYPE;
    const threshold = this.config.httpCompressionThreshold;
    const length = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    this.config.counters.bytesOut += length;
    const encoding =
      compress && threshold !== null && length >= threshold
        ? negotiateEncoding(req.headers["accept-encoding"])
        : null;
    const initial = this.#initial;
    this.#initial = false;
    if (encoding === null && this.#plain(req, initial)) {
      res.writeHead(200, plainHeaders(type, length));
      res.end(body);
      if (notify) this.owner?.onTransportDrain(this);
      return;
    }
    const headers: OutgoingHttpHeaders = { "Content-Type": type };
    if (encoding === null) {
      headers["Content-Length"] = length;
      res.writeHead(200, this.#headers(req, headers, initial));
      res.end(body);
      if (notify) this.owner?.onTransportDrain(this);
      return;
    }
    compressBody(encoding, body, (err, compressed) => {
      if (err) {
        res.writeHead(500);
        res.end();
        this.emitError("compression error");
        return;
      }
      headers["Content-Encoding"] = encoding;
      headers["Content-Length"] = compressed.length;
      res.writeHead(200, this.#headers(req, headers, initial));
      res.end(compressed);
      if (notify) this.owner?.onTransportDrain(this);
    });
  }

  /** Whether a response's headers are the plain ones: no engine decoration, no old IE. */
  #plain(req: IncomingMessage, initial: boolean): boolean {
    return !this.config.decoratesHeaders(initial) && !isOldIE(req);
  }

  #headers(
    req: IncomingMessage,
    headers: OutgoingHttpHeaders,
    initial: boolean,
  ): OutgoingHttpHeaders {
    if (isOldIE(req)) headers["X-XSS-Protection"] = "0";
    headers["cache-control"] = "no-store";
    this.config.decorateHeaders(headers, req, this.sid, initial);
    return headers;
  }

  close(done?: () => void): void {
    if (this.readyState !== "open") {
      done?.();
      return;
    }
    if (this.dataReq !== null) {
      this.dataReq.destroy();
      this.dataReq = null;
    }
    if (this.writable) this.send([{ type: "close" }]);
    else if (!this.discarded && done !== undefined) this.closedWithoutPoll = true;
    // An orderly close (the session's `close()`, which passes `done`) without
    // a held poll is told on the client's next GET (see the server's linger
    // list), as engine.io keeps such a session until then. Any other end (ping
    // timeout, parse or transport error) forgets the sid at once: the next
    // request gets 400, unknown sid.
    this.readyState = "closed";
    this.writable = false;
    done?.();
  }
}
