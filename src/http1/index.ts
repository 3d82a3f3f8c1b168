/**
 * Pure HTTP/1.1 codecs for Switchboard's own kept-alive connection handling:
 * the request-head parser, strict and bounded for hostile clients, and the
 * error it throws. (A chunked body is left to node:http: see `Http1Connection`.)
 */
export {
  HTTP_PARSE_STATUS,
  HttpParseError,
  type HttpParseErrorCode,
  type HttpParseStatus,
} from "./errors.js";
export {
  DEFAULT_HEAD_LIMITS,
  type HeadLimits,
  MAX_LEADING_EMPTY_LINES,
  parseRequestHead,
  type RequestHead,
} from "./head-parser.js";
