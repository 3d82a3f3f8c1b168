/**
 * The HTTP/1.1 request-head parser (RFC 9112 §2-§6) of the kept-alive
 * connection layer: turns the bytes of one request line and its header
 * section into a {@link RequestHead}, deciding how the body is framed.
 *
 * It faces hostile clients, so it is strict where leniency enables request
 * smuggling (CRLF only, no obs-fold, no space before the colon, one framing:
 * Content-Length or chunked, never both, never ambiguous), bounded (size and
 * count limits, enforced before the head is complete) and linear in the bytes
 * received even when called again on every arrival (see `resumeAt`).
 */
import {
  COLON,
  COMMA,
  CR,
  equalsLower,
  FIELD_VALUE,
  HTAB,
  LF,
  SP,
  TARGET,
  TOKEN,
} from "./chars.js";
import { HttpParseError } from "./errors.js";

/** Bounds on one request head. */
export interface HeadLimits {
  /** Most bytes of a head, leading empty lines and the final blank line included (node's default: 16384). */
  maxHeaderSize: number;
  /** Most header fields (name/value pairs) in a head. */
  maxHeaders: number;
}

/** The limits used for any field not given. */
export const DEFAULT_HEAD_LIMITS: Readonly<HeadLimits> = { maxHeaderSize: 16384, maxHeaders: 100 };

/**
 * Empty lines (CRLF) tolerated before a request line, as RFC 9112 §2.2 asks
 * (clients used to send one after a POST body); more is not a client's slip.
 */
export const MAX_LEADING_EMPTY_LINES = 4;

/** One parsed request head: what the connection layer needs to route it and frame its body. */
export interface RequestHead {
  /** The method as sent (a token, case-sensitive). */
  method: string;
  /** The request-target as sent. */
  url: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later HTTP/1.x). */
  versionMinor: 0 | 1;
  /** Flat [name, value, ...] like node's `req.rawHeaders`: names as sent, values without surrounding OWS (latin1). */
  rawHeaders: string[];
  /** The Content-Length, or -1 when absent. */
  contentLength: number;
  /** Whether the body is chunked (Transfer-Encoding ends in "chunked"). */
  chunked: boolean;
  /** Whether the connection stays open after the response. */
  keepAlive: boolean;
  /** Whether the client asks to switch protocols (Connection: upgrade and an Upgrade field). */
  upgrade: boolean;
  /** Whether the client waits for "100 Continue" before sending the body. */
  expectContinue: boolean;
  /** Bytes from `offset` through the CRLF of the blank line: where the body (or next request) begins. */
  headLength: number;
}

function fail(code: ConstructorParameters<typeof HttpParseError>[0], message: string): never {
  throw new HttpParseError(code, message);
}

/**
 * Parses one request head starting at buf[offset]. Returns null while the
 * head is incomplete (call again with more bytes appended) and throws
 * {@link HttpParseError} as soon as the bytes are malformed or over a limit.
 *
 * `resumeAt` lets a caller that calls again after each arrival keep the total
 * work linear: pass the end of the bytes the previous (null) call saw, as an
 * index in the new buffer, and the search for the end of the head resumes
 * there instead of at `offset`.
 */
export function parseRequestHead(
  buf: Buffer,
  offset: number,
  limits?: Partial<HeadLimits>,
  resumeAt = 0,
): RequestHead | null {
  const maxHeaderSize = limits?.maxHeaderSize ?? DEFAULT_HEAD_LIMITS.maxHeaderSize;
  const maxHeaders = limits?.maxHeaders ?? DEFAULT_HEAD_LIMITS.maxHeaders;
  const len = buf.length;
  if (offset < 0) offset = 0;

  // Leading empty lines.
  let start = offset;
  for (let empty = 0; start < len; empty++) {
    const c = buf[start];
    if (c === LF) fail("BAD_REQUEST_LINE", "bare LF before the request line");
    if (c !== CR) break;
    if (empty === MAX_LEADING_EMPTY_LINES) fail("BAD_REQUEST_LINE", "too many empty lines");
    if (start + 1 === len) return incomplete(len - offset, maxHeaderSize);
    if (buf[start + 1] !== LF) fail("BAD_REQUEST_LINE", "bare CR before the request line");
    start += 2;
  }
  if (start === len) return incomplete(len - offset, maxHeaderSize);

  // The end of the head: the first LF that closes an empty line. Every LF on
  // the way must end a CRLF; the search stops where the head would be too large.
  const window = Math.min(len, offset + maxHeaderSize);
  let lf = buf.indexOf(LF, resumeAt > start ? resumeAt : start);
  let headEnd = -1;
  while (lf !== -1 && lf < window) {
    if (buf[lf - 1] !== CR || lf - 1 < start) {
      const inRequestLine = buf.indexOf(LF, start) === lf;
      fail(inRequestLine ? "BAD_REQUEST_LINE" : "BAD_HEADER", "bare LF");
    }
    if (buf[lf - 2] === LF) {
      headEnd = lf + 1;
      break;
    }
    lf = buf.indexOf(LF, lf + 1);
  }
  if (headEnd === -1) return incomplete(len - offset, maxHeaderSize);
  return parseHead(buf, offset, start, headEnd, maxHeaders);
}

function incomplete(have: number, maxHeaderSize: number): null {
  // A head not complete within maxHeaderSize bytes can only end beyond it.
  if (have >= maxHeaderSize) fail("HEADERS_TOO_LARGE", `request head over ${maxHeaderSize} bytes`);
  return null;
}

/** Parses the complete head buf[start..headEnd) (CRLF-terminated lines, blank line last). */
function parseHead(
  buf: Buffer,
  offset: number,
  start: number,
  headEnd: number,
  maxHeaders: number,
): RequestHead {
  // One string for the whole head; every field is a substring of it (much
  // cheaper than one buffer decode per field).
  const text = buf.toString("latin1", start, headEnd);
  let i = start;
  let c = 0;

  // request-line = method SP request-target SP HTTP-version CRLF
  while ((c = buf[i]) !== SP) {
    if (TOKEN[c] !== 1) fail(c === CR ? "BAD_REQUEST_LINE" : "BAD_METHOD", "bad method");
    i++;
  }
  if (i === start) fail("BAD_METHOD", "empty method");
  const method = text.substring(0, i - start);
  const target = ++i;
  while ((c = buf[i]) !== SP) {
    if (TARGET[c] !== 1) fail(c === CR ? "BAD_REQUEST_LINE" : "BAD_TARGET", "bad request-target");
    i++;
  }
  if (i === target) fail("BAD_TARGET", "empty request-target");
  const url = text.substring(target - start, i - start);
  i++;
  if (
    buf[i] !== 0x48 || // H
    buf[i + 1] !== 0x54 || // T
    buf[i + 2] !== 0x54 || // T
    buf[i + 3] !== 0x50 || // P
    buf[i + 4] !== 0x2f || // /
    !isDigit(buf[i + 5]) ||
    buf[i + 6] !== 0x2e || // .
    !isDigit(buf[i + 7]) ||
    buf[i + 8] !== CR
  ) {
    fail("BAD_VERSION", "not an HTTP/x.y version");
  }
  if (buf[i + 5] !== 0x31) fail("BAD_VERSION", "HTTP major version other than 1");
  const versionMinor = buf[i + 7] === 0x30 ? 0 : 1;
  if (buf[i + 9] !== LF) fail("BAD_REQUEST_LINE", "bare CR");
  i += 10;

  const rawHeaders: string[] = [];
  let count = 0;
  let hosts = 0;
  let contentLength = -1;
  let transferEncoding = false;
  let chunkedCount = 0;
  let lastChunked = false;
  let unknownCoding = false;
  let close = false;
  let keepAliveToken = false;
  let upgradeToken = false;
  let upgradeField = false;
  let expectContinue = false;

  // field-line = field-name ":" OWS field-value OWS CRLF
  while ((c = buf[i]) !== CR) {
    if (c === SP || c === HTAB) fail("BAD_HEADER", "obs-fold or whitespace before a field name");
    if (++count > maxHeaders) fail("TOO_MANY_HEADERS", `more than ${maxHeaders} header fields`);
    const name = i;
    while ((c = buf[i]) !== COLON) {
      if (TOKEN[c] !== 1) fail("BAD_HEADER", "bad field name");
      i++;
    }
    if (i === name) fail("BAD_HEADER", "empty field name");
    const nameEnd = i++;
    while ((c = buf[i]) === SP || c === HTAB) i++;
    const value = i;
    let valueEnd = i;
    while ((c = buf[i]) !== CR) {
      if (FIELD_VALUE[c] !== 1) fail("BAD_HEADER", "control character in a field value");
      i++;
      if (c !== SP && c !== HTAB) valueEnd = i;
    }
    if (buf[i + 1] !== LF) fail("BAD_HEADER", "bare CR");
    i += 2;
    rawHeaders.push(
      text.substring(name - start, nameEnd - start),
      text.substring(value - start, valueEnd - start),
    );

    switch (nameEnd - name) {
      case 4:
        if (equalsLower(buf, name, nameEnd, "host")) hosts++;
        break;
      case 6:
        if (equalsLower(buf, name, nameEnd, "expect")) {
          if (equalsLower(buf, value, valueEnd, "100-continue")) expectContinue = true;
        }
        break;
      case 7:
        if (equalsLower(buf, name, nameEnd, "upgrade")) upgradeField = true;
        break;
      case 10:
        if (equalsLower(buf, name, nameEnd, "connection")) {
          for (let at = value; ; at++) {
            at = nextElement(buf, at, valueEnd);
            if (equalsLower(buf, elementStart, elementEnd, "close")) close = true;
            else if (equalsLower(buf, elementStart, elementEnd, "keep-alive"))
              keepAliveToken = true;
            else if (equalsLower(buf, elementStart, elementEnd, "upgrade")) upgradeToken = true;
            if (at === valueEnd) break;
          }
        }
        break;
      case 14:
        if (equalsLower(buf, name, nameEnd, "content-length")) {
          contentLength = parseContentLength(buf, value, valueEnd, contentLength);
        }
        break;
      case 17:
        if (equalsLower(buf, name, nameEnd, "transfer-encoding")) {
          transferEncoding = true;
          for (let at = value; ; at++) {
            at = nextElement(buf, at, valueEnd);
            if (elementStart === elementEnd) fail("BAD_TRANSFER_ENCODING", "empty transfer coding");
            lastChunked = equalsLower(buf, elementStart, elementEnd, "chunked");
            if (lastChunked) chunkedCount++;
            else unknownCoding = true;
            if (at === valueEnd) break;
          }
        }
        break;
    }
  }
  // The loop stopped at a CR opening a line: it must be the blank line ending the head.
  if (i + 2 !== headEnd) fail("BAD_HEADER", "bare CR");

  if (hosts > 1) fail("MISSING_HOST", "several Host fields");
  if (hosts === 0 && versionMinor === 1) fail("MISSING_HOST", "HTTP/1.1 request without Host");
  if (transferEncoding) {
    if (contentLength !== -1)
      fail("BAD_TRANSFER_ENCODING", "both Transfer-Encoding and Content-Length");
    if (versionMinor === 0) fail("BAD_TRANSFER_ENCODING", "Transfer-Encoding in HTTP/1.0");
    if (!lastChunked) fail("BAD_TRANSFER_ENCODING", "final transfer coding is not chunked");
    if (chunkedCount > 1) fail("BAD_TRANSFER_ENCODING", "chunked applied more than once");
    if (unknownCoding) {
      throw new HttpParseError("BAD_TRANSFER_ENCODING", "transfer coding not implemented", 501);
    }
  }

  return {
    method,
    url,
    versionMinor,
    rawHeaders,
    contentLength,
    chunked: transferEncoding,
    keepAlive: !close && (versionMinor === 1 || keepAliveToken),
    upgrade: upgradeToken && upgradeField,
    expectContinue,
    headLength: headEnd - offset,
  };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// The bounds of the element nextElement() found last (module state, so the
// per-header loops allocate nothing).
let elementStart = 0;
let elementEnd = 0;

/**
 * Finds the comma-separated list element starting at buf[from] (before `to`),
 * sets elementStart/elementEnd to its bounds with OWS trimmed, and returns
 * the index of the comma after it, or `to` for the last element.
 */
function nextElement(buf: Buffer, from: number, to: number): number {
  let i = from;
  let c = 0;
  while (i < to && ((c = buf[i]) === SP || c === HTAB)) i++;
  elementStart = i;
  elementEnd = i;
  while (i < to && (c = buf[i]) !== COMMA) {
    i++;
    if (c !== SP && c !== HTAB) elementEnd = i;
  }
  return i;
}

/**
 * Content-Length = 1*DIGIT, possibly repeated as a list ("5, 5") or across
 * fields; every value must agree with `previous` (-1: none yet).
 */
function parseContentLength(buf: Buffer, from: number, to: number, previous: number): number {
  let length = previous;
  for (let at = from; ; at++) {
    at = nextElement(buf, at, to);
    if (elementStart === elementEnd) fail("BAD_CONTENT_LENGTH", "empty Content-Length");
    let n = 0;
    for (let k = elementStart; k < elementEnd; k++) {
      const c = buf[k];
      if (!isDigit(c)) fail("BAD_CONTENT_LENGTH", "Content-Length is not a number");
      n = n * 10 + (c - 0x30);
      if (n > Number.MAX_SAFE_INTEGER) fail("BAD_CONTENT_LENGTH", "Content-Length too large");
    }
    if (length !== -1 && length !== n)
      fail("BAD_CONTENT_LENGTH", "differing Content-Length values");
    length = n;
    if (at === to) return length;
  }
}
