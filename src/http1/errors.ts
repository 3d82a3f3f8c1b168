import { SwitchboardError } from "../shared/errors.js";

/**
 * Why an HTTP/1.1 request head was refused. Each code maps to
 * the response status the connection layer sends before closing (see
 * {@link HTTP_PARSE_STATUS}).
 */
export type HttpParseErrorCode =
  | "HEADERS_TOO_LARGE"
  | "TOO_MANY_HEADERS"
  | "BAD_REQUEST_LINE"
  | "BAD_METHOD"
  | "BAD_TARGET"
  | "BAD_VERSION"
  | "BAD_HEADER"
  | "BAD_CONTENT_LENGTH"
  | "BAD_TRANSFER_ENCODING"
  | "MISSING_HOST";

/** The statuses a parse error can ask for. */
export type HttpParseStatus = 400 | 431 | 501 | 505;

/**
 * The default status of each code. BAD_TRANSFER_ENCODING is 400, except for a
 * transfer coding the server does not implement (anything but "chunked" in a
 * list that otherwise ends in "chunked"), which is 501 as RFC 9112 §6.1 asks.
 */
export const HTTP_PARSE_STATUS: Readonly<Record<HttpParseErrorCode, HttpParseStatus>> = {
  HEADERS_TOO_LARGE: 431,
  TOO_MANY_HEADERS: 431,
  BAD_REQUEST_LINE: 400,
  BAD_METHOD: 400,
  BAD_TARGET: 400,
  BAD_VERSION: 505,
  BAD_HEADER: 400,
  BAD_CONTENT_LENGTH: 400,
  BAD_TRANSFER_ENCODING: 400,
  MISSING_HOST: 400,
};

/**
 * The only error the HTTP/1 codecs throw: the input is malformed, ambiguous
 * (a request-smuggling shape) or over a limit. The connection layer answers
 * with `status` and closes, since the byte stream can no longer be framed.
 */
export class HttpParseError extends SwitchboardError {
  declare readonly code: HttpParseErrorCode;
  readonly status: HttpParseStatus;

  constructor(code: HttpParseErrorCode, message: string, status?: HttpParseStatus) {
    super(code, message);
    this.status = status ?? HTTP_PARSE_STATUS[code];
  }
}
