/**
 * Whether an Engine.IO request may proceed (engine.io's `verify`), checked in
 * this order: transport, Origin header, JSONP index, then either the session
 * (sid known, transport consistent) or the handshake (GET, protocol version,
 * connection limit, the user's `allowRequest`). A refusal is a row of the
 * error table plus context for `connection_error`.
 */
import type { IncomingMessage } from "node:http";
import { isValidJsonpIndex } from "../transport/polling-jsonp.js";
import type { EngineErrorKey } from "./errors.js";
import type { ResolvedOptions } from "./options.js";
import { hasInvalidHeaderChar, protocolOf, queryOf } from "./request.js";
import type { TransportName } from "./types.js";

/** A refusal: the error-table row, its context, and an optional message override. */
export type Verdict = { key: EngineErrorKey; context: Record<string, unknown>; message?: string };

/** What verification needs to know about the server. */
export interface VerifyContext {
  readonly opts: ResolvedOptions;
  hasSession(sid: string): boolean;
  sessionTransport(sid: string): TransportName;
  isLingering(sid: string): boolean;
  clientsCount(): number;
}

/**
 * Calls `done()` when `req` may proceed, `done(verdict)` otherwise.
 *
 * @example
 * verifyRequest(context, req, false, (verdict) => verdict ? refuse(verdict) : serve());
 */
export function verifyRequest(
  ctx: VerifyContext,
  req: IncomingMessage,
  upgrade: boolean,
  done: (verdict?: Verdict) => void,
): void {
  const query = queryOf(req);
  const transport = query.transport as TransportName;
  if (!ctx.opts.transports.includes(transport)) {
    done({ key: "UNKNOWN_TRANSPORT", context: { transport } });
    return;
  }
  if (hasInvalidHeaderChar(req.headers.origin)) {
    done({ key: "BAD_REQUEST", context: { name: "INVALID_ORIGIN", origin: req.headers.origin } });
    return;
  }
  if (query.j !== undefined && (upgrade || !isValidJsonpIndex(query.j))) {
    done({ key: "BAD_REQUEST", context: { name: "INVALID_JSONP_INDEX", j: query.j } });
    return;
  }
  const sid = query.sid;
  if (sid !== undefined) {
    if (!ctx.hasSession(sid)) {
      if (!upgrade && ctx.isLingering(sid)) {
        done();
        return;
      }
      done({ key: "UNKNOWN_SID", context: { sid } });
      return;
    }
    const previous = ctx.sessionTransport(sid);
    if (!upgrade && previous !== transport) {
      done({
        key: "BAD_REQUEST",
        context: { name: "TRANSPORT_MISMATCH", transport, previousTransport: previous },
      });
      return;
    }
    done();
    return;
  }
  if (req.method !== "GET") {
    done({ key: "BAD_HANDSHAKE_METHOD", context: { method: req.method } });
    return;
  }
  if (transport === "websocket" && !upgrade) {
    done({ key: "BAD_REQUEST", context: { name: "TRANSPORT_HANDSHAKE_ERROR" } });
    return;
  }
  const protocol = protocolOf(query);
  if (protocol === null) {
    done({ key: "BAD_REQUEST", context: { name: "INVALID_PROTOCOL", protocol: query.EIO } });
    return;
  }
  if (protocol === "unsupported" || (protocol === 3 && !ctx.opts.allowEIO3)) {
    done({ key: "UNSUPPORTED_PROTOCOL_VERSION", context: { protocol: query.EIO ?? 3 } });
    return;
  }
  if (ctx.clientsCount() >= ctx.opts.maxConnections) {
    done({ key: "TOO_MANY_CONNECTIONS", context: { max: ctx.opts.maxConnections } });
    return;
  }
  const allowRequest = ctx.opts.allowRequest;
  if (!allowRequest) {
    done();
    return;
  }
  let answered = false;
  try {
    allowRequest(req, (message, success) => {
      if (answered) return;
      answered = true;
      if (success) done();
      else {
        const verdict: Verdict = { key: "FORBIDDEN", context: { message } };
        if (typeof message === "string" && message) verdict.message = message;
        done(verdict);
      }
    });
  } catch (err) {
    if (!answered) {
      answered = true;
      done({ key: "FORBIDDEN", context: { message: String(err) } });
    }
  }
}
