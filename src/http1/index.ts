/**
 * Pure HTTP/1.1 codecs for Switchboard's own kept-alive connection handling:
 * the request-head parser and the chunked body decoder, both strict and
 * bounded for hostile clients, and the error they throw.
 */
export {
  ChunkedDecoder,
  type ChunkedLimits,
  type ChunkedPushResult,
  DEFAULT_CHUNKED_LIMITS,
  MAX_CHUNK_SIZE_DIGITS,
} from "./chunked.js";
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
