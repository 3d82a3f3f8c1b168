/**
 * Request-level helpers of the engine: the parsed query (kept on the request
 * as `_query`, where engine.io keeps it and Socket.IO reads it), the protocol
 * version check, and the error replies of the error table.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { ProtocolVersion } from "../codec/engineio/index.js";
import { refuseUpgrade } from "../transport/upgrade-refusal.js";
import { ENGINE_ERRORS, type EngineErrorKey } from "./errors.js";

export type EngineQuery = Record<string, string>;

/** A request as the engine sees it: with its parsed query string. */
export type EngineRequest = IncomingMessage & { _query?: EngineQuery };

/** Parses (once) and returns the query of `req`. */
export function queryOf(req: IncomingMessage): EngineQuery {
  const r = req as EngineRequest;
  if (r._query === undefined) {
    const url = req.url ?? "";
    const mark = url.indexOf("?");
    r._query = mark === -1 ? {} : parseQuery(url, mark + 1);
    // Kept for the session's life: share the usual transport name string.
    const transport = r._query.transport;
    if (transport === "websocket") r._query.transport = "websocket";
    else if (transport === "polling") r._query.transport = "polling";
  }
  return r._query;
}

/**
 * `%` and `+` need URL decoding; a `__proto__` name must become an own
 * property (Object.fromEntries defines it, an assignment would not).
 */
const NOT_PLAIN = /[%+]|__proto__/;

/**
 * The query of `url` from index `start`, as URLSearchParams reads it (empty
 * pairs skipped, a name without `=` has the value "", the last of repeated
 * names wins). Every request of a polling session is parsed here: a query
 * with no escape (`EIO=4&transport=polling&sid=…`) is split without
 * URLSearchParams; one with escapes goes through it, which never throws on
 * malformed ones (it keeps them as text), as does one naming `__proto__`.
 */
function parseQuery(url: string, start: number): EngineQuery {
  if (NOT_PLAIN.test(url)) {
    return Object.fromEntries(new URLSearchParams(url.slice(start)).entries());
  }
  const query: EngineQuery = {};
  const end = url.length;
  while (start < end) {
    let amp = url.indexOf("&", start);
    if (amp === -1) amp = end;
    if (amp > start) {
      const eq = url.indexOf("=", start);
      if (eq === -1 || eq > amp) query[url.slice(start, amp)] = "";
      else query[url.slice(start, eq)] = url.slice(eq + 1, amp);
    }
    start = amp + 1;
  }
  return query;
}

/**
 * The sid of a polling request's query (from index `start` of `url`) when
 * the query is the usual one, read without building it: no `%` or `+`, no
 * `__proto__`, `transport=polling` and `sid` each at most once, no JSONP
 * `j`. Undefined: no `sid`. Null: anything else (the caller reads it with
 * {@link queryOf}, as every other request is).
 *
 * @example
 * pollingSid("/socket.io/?EIO=4&transport=polling&sid=abc", 11); // "abc"
 */
export function pollingSid(url: string, start: number): string | null | undefined {
  if (NOT_PLAIN.test(url)) return null;
  let sid: string | undefined;
  let polling = false;
  const end = url.length;
  while (start < end) {
    let amp = url.indexOf("&", start);
    if (amp === -1) amp = end;
    let eq = url.indexOf("=", start);
    if (eq === -1 || eq > amp) eq = amp;
    const length = eq - start;
    if (length === 3 && url.startsWith("sid", start)) {
      if (sid !== undefined) return null;
      sid = url.slice(eq + 1, amp);
    } else if (length === 9 && url.startsWith("transport", start)) {
      if (polling || amp - eq !== 8 || !url.startsWith("polling", eq + 1)) return null;
      polling = true;
    } else if (length === 1 && url.charCodeAt(start) === 106 /* j */) {
      return null;
    }
    start = amp + 1;
  }
  if (sid === undefined) return undefined;
  return polling && sid !== "" ? sid : null;
}

/**
 * The protocol revision asked for by `EIO`. A missing `EIO` means v3, as in
 * engine.io; anything that is not a number is a bad request (null).
 */
export function protocolOf(query: EngineQuery): ProtocolVersion | "unsupported" | null {
  const eio = query.EIO;
  if (eio === undefined) return 3;
  if (eio === "4") return 4;
  if (eio === "3") return 3;
  return /^[0-9]{1,3}$/.test(eio) ? "unsupported" : null;
}

// RFC 9110 §5.5: field values are visible ASCII, obs-text, SP and HTAB.
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** Whether a header value contains a character HTTP does not allow. */
export function hasInvalidHeaderChar(value: string | undefined): boolean {
  return value !== undefined && INVALID_HEADER_CHAR.test(value);
}

/** The JSON body and status of an error-table entry. */
export function errorBody(key: EngineErrorKey, message?: string): { status: number; body: string } {
  const entry = ENGINE_ERRORS[key];
  return {
    status: entry.status,
    body: JSON.stringify({ code: entry.code, message: message ?? entry.message }),
  };
}

/** Answers an HTTP request with an error from the table. */
export function abortRequest(res: ServerResponse, key: EngineErrorKey, message?: string): void {
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  const { status, body } = errorBody(key, message);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers a websocket upgrade request with an error from the table, then closes it. */
export function abortUpgrade(socket: Duplex, key: EngineErrorKey, message?: string): void {
  const { status, body } = errorBody(key, message);
  refuseUpgrade(socket, status, body);
}
