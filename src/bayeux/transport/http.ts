/**
 * Long-polling and callback-polling over HTTP (Bayeux 1.0 sections 6.1 and
 * 6.2). A request carries a batch as a POST body (`application/json`,
 * `text/json`, `text/plain`, or a form field `message=`) or as a GET query
 * (`?message=...`, with `jsonp=<callback>` for callback-polling). The
 * response is one JSON array: queued deliveries, then the replies; a held
 * `/meta/connect` keeps the response open until it is released.
 *
 * This file moves bytes only: all protocol decisions are the processor's.
 * Every long-poll is a request, so a request costs no closure of its own
 * where it can be helped: the body's listeners are shared functions that
 * find their state on the request, a synchronous answer is written at once
 * (no promise), and a response is one `writeHead` of a flat header list and
 * one `end`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { refused, wasForwarded } from "../../cluster/forward.js";
import {
  type BayeuxMessage,
  BayeuxParseError,
  bayeuxError,
  decodeBatch,
  parseErrorReplies,
} from "../../codec/bayeux/index.js";
import type { FastRoute } from "../../http1/connection.js";
import type { Exchange } from "../../http1/exchange.js";
import { toIncomingMessage } from "../../http1/incoming.js";
import { isUnderPrefix, normalizePrefix, requestPath } from "../../mount/path.js";
import { createDebug } from "../../shared/debug.js";
import { BodyReader } from "../../transport/body-reader.js";
import { joinedRawHeader, rawHeader } from "../../transport/raw-header.js";
import { encodeReply } from "../server/connect-reply.js";
import type { Delivery } from "../server/delivery.js";
import type { HeldResult, ProcessResult } from "../server/host.js";
import type { LatchListener } from "../server/latch.js";
import type { BayeuxServer } from "../server/server.js";
import { allowOrigin, applyCors } from "./cors.js";

const debug = createDebug("bayeux:http");

/**
 * A JSONP callback must be a plain (optionally dotted) identifier, so the
 * script we answer with can only ever call a function.
 */
const JSONP_CALLBACK = /^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}$/;

/** Whether a JSONP callback name is safe to echo. */
export function isValidJsonpCallback(name: string): boolean {
  return JSONP_CALLBACK.test(name);
}

/** The query of a request URL; null when it has none (a POST's usual URL). */
function queryOf(url: string | undefined): URLSearchParams | null {
  const q = url?.indexOf("?") ?? -1;
  return q === -1 ? null : new URLSearchParams(url!.slice(q + 1));
}

const NONE: readonly Delivery[] = [];

const JSON_TYPE = "application/json; charset=utf-8";
const NO_CACHE = "no-cache, no-store";

function ignore(): void {}

const kBody = Symbol("switchboard.bayeuxBody");
const kAbandon = Symbol("switchboard.bayeuxAbandon");

/** A POST body being read. */
interface BodyState {
  handler: BayeuxHttpHandler;
  res: ServerResponse;
  reader: BodyReader;
  jsonp: string | null;
}

type BodyRequest = IncomingMessage & { [kBody]?: BodyState };
type HeldResponse = ServerResponse & { [kAbandon]?: HeldAnswer | null };

/** A long-poll whose connect is held: answered in the tick the connect is released. */
class HeldAnswer implements LatchListener<HeldResult> {
  readonly handler: BayeuxHttpHandler;
  readonly res: ServerResponse;
  readonly result: ProcessResult;
  readonly jsonp: string | null;

  constructor(
    handler: BayeuxHttpHandler,
    res: ServerResponse,
    result: ProcessResult,
    jsonp: string | null,
  ) {
    this.handler = handler;
    this.res = res;
    this.result = result;
    this.jsonp = jsonp;
  }

  resolved(released: HeldResult): void {
    this.handler.released(this.res, this.result, released, this.jsonp);
  }

  rejected(err: unknown): void {
    this.handler.heldFailed(this.res, err, this.jsonp);
  }
}

function onBodyChunk(this: BodyRequest, chunk: Buffer): void {
  const state = this[kBody];
  if (state === undefined || state.reader.push(chunk) || state.res.headersSent) return;
  state.res.setHeader("Connection", "close");
  state.handler.fail(state.res, 413, bayeuxError("messageTooLarge"), state.jsonp);
}

function onBodyEnd(this: BodyRequest): void {
  const state = this[kBody];
  this[kBody] = undefined;
  if (state !== undefined && !state.reader.exceeded) state.handler.onBody(this, state);
}

/** A held connect's client went away: its deliveries stay queued for the next connect. */
function onHeldClose(this: HeldResponse): void {
  const answer = this[kAbandon];
  this[kAbandon] = null;
  if (answer && !this.writableFinished) answer.result.abandon?.();
}

/**
 * The response body: deliveries (shared JSON), then those a released
 * connect carries, then the replies and the released connect's own; the
 * same text as `encodeBatch` gives for them, with no array built.
 */
function encodeAnswer(
  deliveries: readonly Delivery[],
  more: readonly Delivery[],
  replies: readonly BayeuxMessage[],
  last: BayeuxMessage | null,
): string {
  let out = "[";
  let comma = false;
  for (let i = 0; i < deliveries.length; i++, comma = true) {
    out += comma ? `,${deliveries[i].json}` : deliveries[i].json;
  }
  for (let i = 0; i < more.length; i++, comma = true) {
    out += comma ? `,${more[i].json}` : more[i].json;
  }
  for (let i = 0; i < replies.length; i++, comma = true) {
    out += comma ? `,${encodeReply(replies[i])}` : encodeReply(replies[i]);
  }
  if (last !== null) out += comma ? `,${encodeReply(last)}` : encodeReply(last);
  return `${out}]`;
}

export class BayeuxHttpHandler {
  readonly #server: BayeuxServer;

  constructor(server: BayeuxServer) {
    this.#server = server;
  }

  /**
   * Answers one HTTP request under the Bayeux path.
   *
   * @example
   * const http = new BayeuxHttpHandler(bayeux);
   * createServer((req, res) => http.handleRequest(req, res));
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    res.on("error", ignore);
    req.on("error", ignore);
    const options = this.#server.options;
    this.#server.learnAddress(req);
    if (applyCors(req, res, options.cors)) return;
    if (req.method !== "GET" && req.method !== "POST") {
      res.setHeader("Allow", "GET, POST, OPTIONS");
      this.fail(res, 405, bayeuxError("badRequest", [], "Method not allowed"), null);
      return;
    }
    const query = queryOf(req.url);
    const jsonp = query === null ? null : query.get("jsonp");
    if (jsonp !== null && !isValidJsonpCallback(jsonp)) {
      this.fail(res, 400, bayeuxError("badRequest", ["jsonp"], "Bad callback name"), null);
      return;
    }
    if (this.#server.closed) {
      this.fail(res, 503, bayeuxError("serverBusy"), jsonp);
      return;
    }
    if (req.method === "GET") {
      const message = query === null ? null : query.get("message");
      if (message === null) {
        this.fail(res, 400, bayeuxError("parameterMissing", ["message"]), jsonp);
        return;
      }
      const size = Buffer.byteLength(message);
      this.#server.stats.bytesIn += size;
      if (size > options.maxMessageSize) {
        this.fail(res, 413, bayeuxError("messageTooLarge"), jsonp);
        return;
      }
      this.#answer(req, res, message, jsonp, null);
      return;
    }
    (req as BodyRequest)[kBody] = {
      handler: this,
      res,
      reader: new BodyReader(options.maxMessageSize),
      jsonp,
    };
    req.on("data", onBodyChunk);
    req.on("end", onBodyEnd);
  }

  /**
   * Package-internal: the route by which an HTTP/1.1 front (see
   * `Http1Front`) serves this path's long-polling POSTs below node:http.
   * It takes POSTs without a query (no JSONP) while the server neither
   * forwards to other nodes nor is closed; extensions and a `canHandshake`
   * policy get a real `IncomingMessage` as the request.
   */
  fastRoute(): FastRoute {
    const server = this.#server;
    const prefix = normalizePrefix(server.options.path);
    return {
      get maxBody() {
        return server.options.maxMessageSize;
      },
      claim: (exchange) => {
        if (exchange.method !== "POST" || !server.options.fastPolling) return false;
        if (server.forwarder !== null || server.closed) return false;
        const path = requestPath(exchange.url);
        return path !== undefined && !exchange.url.includes("?") && isUnderPrefix(path, prefix);
      },
      serve: (exchange) => this.#serveFast(exchange),
      logger: server.logger,
    };
  }

  /** A POST claimed by {@link fastRoute} (never a preflight): its headers read from the raw list. */
  #serveFast(exchange: Exchange): void {
    const server = this.#server;
    const options = server.options;
    const res = exchange as unknown as ServerResponse;
    const req = server.usesRequest
      ? toIncomingMessage(exchange)
      : (exchange as unknown as IncomingMessage);
    server.learnAddress(req);
    allowOrigin(joinedRawHeader(req, "origin"), res, options.cors);
    if (server.closed) {
      this.fail(res, 503, bayeuxError("serverBusy"), null);
      return;
    }
    const body = exchange.body;
    if (body.length > options.maxMessageSize) {
      this.#server.stats.bytesIn += body.length;
      this.fail(res, 413, bayeuxError("messageTooLarge"), null);
      return;
    }
    this.#read(req, res, body.length, body.toString("utf8"), rawHeader(req, "content-type"), null);
  }

  /** Package-internal (the body listeners): a POST body was read whole. */
  onBody(req: IncomingMessage, state: BodyState): void {
    const { res, reader, jsonp } = state;
    this.#read(req, res, reader.length, reader.text(), req.headers["content-type"], jsonp);
  }

  /** A POST body: the batch itself, or a form whose `message` field is. */
  #read(
    req: IncomingMessage,
    res: ServerResponse,
    size: number,
    raw: string,
    type: string | undefined,
    jsonp: string | null,
  ): void {
    this.#server.stats.bytesIn += size;
    let text = raw;
    if (type?.startsWith("application/x-www-form-urlencoded")) {
      const message = new URLSearchParams(text).get("message");
      if (message === null) {
        this.fail(res, 400, bayeuxError("parameterMissing", ["message"]), jsonp);
        return;
      }
      text = message;
    }
    this.#answer(req, res, text, jsonp, raw);
  }

  /** Answers a batch; a failure on the way is a 500, never an exception out of a listener. */
  #answer(
    req: IncomingMessage,
    res: ServerResponse,
    text: string,
    jsonp: string | null,
    raw: string | null,
  ): void {
    try {
      this.#route(req, res, text, jsonp, raw);
    } catch (err) {
      this.#failed(res, err, jsonp);
    }
  }

  /** Decodes a batch and serves it here or, for another node's session, through its owner. */
  #route(
    req: IncomingMessage,
    res: ServerResponse,
    text: string,
    jsonp: string | null,
    raw: string | null,
  ): void {
    const server = this.#server;
    let batch: unknown[];
    try {
      batch = decodeBatch(text, server.options);
    } catch (err) {
      debug("bad request: %s", (err as Error).message);
      if (err instanceof BayeuxParseError && err.batch !== null) {
        // The body parsed: each message gets its own error reply, with 200
        // so that clients read them (on any other status Faye and CometD
        // see a transport failure and resend the batch).
        this.#send(res, 200, JSON.stringify(parseErrorReplies(err)), jsonp);
        return;
      }
      const field = err instanceof BayeuxParseError ? err.bayeuxError : bayeuxError("badRequest");
      this.fail(res, 400, field, jsonp);
      return;
    }
    // Another node's session (no sticky load balancing): served by its owner.
    const forwarder = server.forwarder;
    const foreign =
      forwarder === null || wasForwarded(req) ? undefined : server.foreignClientId(batch);
    if (foreign !== undefined && forwarder !== null) {
      const local = (): void => this.#process(req, res, batch, jsonp);
      server.locateOwner(foreign, (target, unavailable) => {
        if (target === null) {
          // The session store is down: the session may live on another
          // node, so the client retries (as after any transport failure)
          // instead of losing its session to a 402.
          if (unavailable) this.fail(res, 503, bayeuxError("serverError"), jsonp);
          else local();
          return;
        }
        forwarder.request(
          target,
          req,
          res,
          (err) => {
            // The owner is unreachable. Gone (the connection was refused, or
            // the broker saw it leave): its session is adopted here, or
            // (when another node adopted it first) forwarded once more to
            // that one. Otherwise it may still be there: the client resends
            // after a 502, as after any transport failure, rather than
            // losing its session to a 402.
            server.ownerUnreachable(foreign, err);
            const elsewhere = (): void => {
              if (refused(err)) local();
              else this.fail(res, 502, bayeuxError("serverError"), jsonp);
            };
            const adopting = server.adopt(foreign);
            if (adopting === undefined) {
              elsewhere();
              return;
            }
            adopting.then((session) => {
              if (session !== undefined) {
                local();
                return;
              }
              server.locateOwner(foreign, (next) => {
                if (next === null || (next.host === target.host && next.port === target.port)) {
                  elsewhere();
                } else forwarder.request(next, req, res, local, raw);
              });
            }, elsewhere);
          },
          raw,
        );
      });
      return;
    }
    this.#process(req, res, batch, jsonp);
  }

  /** Processes a batch: answered at once when every step was synchronous. */
  #process(
    req: IncomingMessage,
    res: ServerResponse,
    batch: unknown[],
    jsonp: string | null,
  ): void {
    let result: ProcessResult | Promise<ProcessResult>;
    try {
      result = this.#server.processBatch(batch, {
        connectionType: jsonp === null ? "long-polling" : "callback-polling",
        request: req,
      });
    } catch (err) {
      this.#failed(res, err, jsonp);
      return;
    }
    if (result instanceof Promise) {
      result
        .then((done) => this.#respond(res, done, jsonp))
        .catch((err: unknown) => this.#failed(res, err, jsonp));
      return;
    }
    try {
      this.#respond(res, result, jsonp);
    } catch (err) {
      this.#failed(res, err, jsonp);
    }
  }

  /** Answers now, or once the held connect is released; throws what encoding throws. */
  #respond(res: ServerResponse, result: ProcessResult, jsonp: string | null): void {
    const { replies, deliveries, waiting } = result;
    if (waiting === null) {
      this.#server.stats.messagesOut += replies.length + deliveries.length;
      this.#send(res, 200, encodeAnswer(deliveries, NONE, replies, null), jsonp);
      return;
    }
    // A client that goes away while its connect is held leaves its
    // deliveries queued for the next connect.
    const answer = new HeldAnswer(this, res, result, jsonp);
    (res as HeldResponse)[kAbandon] = answer;
    res.on("close", onHeldClose);
    waiting.listen(answer);
  }

  /** Package-internal ({@link HeldAnswer}): the held connect of `result` was released. */
  released(
    res: ServerResponse,
    result: ProcessResult,
    released: HeldResult,
    jsonp: string | null,
  ): void {
    try {
      (res as HeldResponse)[kAbandon] = null;
      res.removeListener("close", onHeldClose);
      const { replies, deliveries } = result;
      const last = released.reply;
      const more = released.deliveries;
      this.#server.stats.messagesOut +=
        replies.length + (last ? 1 : 0) + deliveries.length + more.length;
      this.#send(res, 200, encodeAnswer(deliveries, more, replies, last ?? null), jsonp);
    } catch (err) {
      this.#failed(res, err, jsonp);
    }
  }

  /** Package-internal ({@link HeldAnswer}): the held connect of `res` failed. */
  heldFailed(res: ServerResponse, err: unknown, jsonp: string | null): void {
    (res as HeldResponse)[kAbandon] = null;
    res.removeListener("close", onHeldClose);
    this.#failed(res, err, jsonp);
  }

  #failed(res: ServerResponse, err: unknown, jsonp: string | null): void {
    this.#server.logger.error({ err }, "long-polling request failed");
    this.fail(res, 500, bayeuxError("serverError"), jsonp);
  }

  /** Package-internal (the body listeners): answers with one error reply. */
  fail(res: ServerResponse, status: number, error: string, jsonp: string | null): void {
    this.#send(res, status, JSON.stringify([{ successful: false, error }]), jsonp);
  }

  #send(res: ServerResponse, status: number, body: string, jsonp: string | null): void {
    if (res.headersSent || res.destroyed) return;
    if (jsonp === null) {
      // Headers set before (CORS, Allow) are kept: writeHead adds these to them.
      const size = Buffer.byteLength(body);
      this.#server.stats.bytesOut += size;
      const length = String(size);
      res.writeHead(status, [
        "Cache-Control",
        NO_CACHE,
        "Content-Type",
        JSON_TYPE,
        "Content-Length",
        length,
      ]);
      res.end(body);
      return;
    }
    res.statusCode = status;
    res.setHeader("Cache-Control", NO_CACHE);
    // JSON is not quite a JavaScript subset: U+2028/U+2029 must be escaped.
    // The leading comment keeps a reflected name from forming a different
    // script prefix (the "Rosetta Flash" defence).
    body = `/**/${jsonp}(${body.replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")});`;
    res.setHeader("Content-Type", "text/javascript; charset=utf-8");
    res.setHeader("X-Content-Type-Options", "nosniff");
    const size = Buffer.byteLength(body);
    this.#server.stats.bytesOut += size;
    res.setHeader("Content-Length", size);
    res.end(body);
  }
}
