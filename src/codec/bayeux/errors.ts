/**
 * Bayeux error codes, kept as data. The `error` field of a reply is
 * `code:args:message` (Bayeux 1.0 section 3.1.1 and the `error` BNF in
 * section 2.4): a three-digit code, comma-separated arguments, then text.
 *
 * The numbers follow the Bayeux codes table used by Faye and CometD, with one
 * deliberate choice: an unknown (or expired) client is `402`, as in the
 * specification's own example (`402:xj3sjdsjdsjad:Unknown Client ID`) and in
 * CometD's server, rather than Faye's `401`. Clients act on `advice`
 * (`reconnect: "handshake"`), not on the number, so both Faye and CometD
 * rehandshake either way.
 */
import { ProtocolError, SwitchboardError } from "../../shared/errors.js";

/** One entry of the table: the wire code and its default text. */
export interface BayeuxErrorCode {
  readonly code: number;
  readonly message: string;
}

/** Every error the server puts on the wire, by name. */
export const BAYEUX_ERRORS = {
  versionMismatch: { code: 300, message: "Version mismatch" },
  conntypeMismatch: { code: 301, message: "Connection types not supported" },
  extMismatch: { code: 302, message: "Extension mismatch" },
  badRequest: { code: 400, message: "Bad request" },
  clientUnknown: { code: 402, message: "Unknown client" },
  parameterMissing: { code: 402, message: "Missing required parameter" },
  channelForbidden: { code: 403, message: "Forbidden channel" },
  handshakeDenied: { code: 403, message: "Handshake denied" },
  subscribeDenied: { code: 403, message: "Subscribe denied" },
  publishDenied: { code: 403, message: "Publish denied" },
  tooManySubscriptions: { code: 403, message: "Too many subscriptions" },
  channelUnknown: { code: 404, message: "Unknown channel" },
  channelInvalid: { code: 405, message: "Invalid channel" },
  extUnknown: { code: 406, message: "Unknown extension" },
  publishFailed: { code: 407, message: "Failed to publish" },
  messageTooLarge: { code: 413, message: "Message too large" },
  serverError: { code: 500, message: "Internal server error" },
  extensionTimeout: { code: 500, message: "Extension timed out" },
  serverBusy: { code: 503, message: "Server busy" },
} as const satisfies Record<string, BayeuxErrorCode>;

export type BayeuxErrorName = keyof typeof BAYEUX_ERRORS;

// The error grammar allows tokens plus space, "/", "*" and "." in arguments
// and text; anything else is replaced so the field always parses.
const UNSAFE = /[^A-Za-z0-9\-_!~()$@ /*.]/g;

/**
 * Formats an error field from the table.
 *
 * @example
 * bayeuxError("clientUnknown", ["abc"]); // "402:abc:Unknown client"
 * bayeuxError("channelInvalid", ["/a b"], "Bad name"); // "405:/a b:Bad name"
 */
export function bayeuxError(
  name: BayeuxErrorName,
  args: readonly string[] = [],
  text?: string,
): string {
  const entry = BAYEUX_ERRORS[name];
  const safeArgs = args.map((arg) => String(arg).slice(0, 256).replace(UNSAFE, "_"));
  const message = (text ?? entry.message).replace(UNSAFE, "_");
  return `${entry.code}:${safeArgs.join(",")}:${message}`;
}

/** A parsed `code:args:message` field. */
export interface ParsedBayeuxError {
  code: number;
  args: string[];
  message: string;
}

/**
 * Parses an error field; returns undefined when it does not follow the grammar.
 *
 * @example
 * parseBayeuxError("402::Unknown client"); // { code: 402, args: [], message: "Unknown client" }
 */
export function parseBayeuxError(field: string): ParsedBayeuxError | undefined {
  const match = /^(\d{3}):([^:]*):(.*)$/s.exec(field);
  if (!match) return undefined;
  return {
    code: Number(match[1]),
    args: match[2] === "" ? [] : match[2].split(","),
    message: match[3],
  };
}

/** Input that cannot be read as a Bayeux batch (not JSON, wrong shape, too long). */
export class BayeuxParseError extends ProtocolError {
  /** The Bayeux error field to answer with. */
  readonly bayeuxError: string;
  /**
   * The messages, when the body parsed but cannot be processed (a batch past
   * `maxBatchLength`): each gets its own error reply, so clients can match
   * them by `id`. Null when the body is not a batch at all.
   */
  readonly batch: readonly unknown[] | null;

  constructor(
    code: string,
    message: string,
    bayeuxErrorField: string,
    options?: { cause?: unknown; batch?: readonly unknown[] },
  ) {
    super(code, message, options);
    this.bayeuxError = bayeuxErrorField;
    this.batch = options?.batch ?? null;
  }
}

/**
 * A message that cannot be encoded: its data is circular, holds a BigInt,
 * has a `toJSON` that throws, or nests too deep for `JSON.stringify`. The
 * original error is the `cause`; the message went to nobody.
 */
export class BayeuxEncodeError extends SwitchboardError {
  declare readonly code: "ERR_BAYEUX_UNENCODABLE";

  constructor(cause: unknown) {
    super(
      "ERR_BAYEUX_UNENCODABLE",
      `message cannot be encoded: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}
