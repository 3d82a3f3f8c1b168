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
import { equalsLower, TOKEN } from "./chars.js";
import { HttpParseError } from "./errors.js";

// Byte values, as literals here rather than imports: hot loops read them on
// every byte, and an imported binding costs a check an own constant does not.
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const COMMA = 0x2c;
const DEL = 0x7f;

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
 * {@link HttpParseError} as soon as the bytes seen are malformed or over a
 * limit, complete or not.
 *
 * `resumeAt` keeps the total work linear when a caller calls again after
 * each arrival: pass the buffer length the previous (null) call saw, as an
 * index in the new buffer. Those bytes were already checked, so until the
 * blank line arrives only the new ones are looked at.
 */
export function parseRequestHead(
  buf: Buffer,
  offset: number,
  limits?: Partial<HeadLimits>,
  resumeAt = 0,
): RequestHead | null {
  const maxHeaderSize = limits?.maxHeaderSize ?? DEFAULT_HEAD_LIMITS.maxHeaderSize;
  const maxHeaders = limits?.maxHeaders ?? DEFAULT_HEAD_LIMITS.maxHeaders;
  if (offset < 0) offset = 0;
  const limit = Math.min(buf.length, offset + maxHeaderSize);
  if (resumeAt > offset) {
    const blank = buf.indexOf(HEAD_END, resumeAt - 3 > offset ? resumeAt - 3 : offset);
    if (blank === -1 || blank + 4 > limit) {
      checkLineFeeds(buf, offset, resumeAt);
      return incomplete(buf, offset, maxHeaderSize);
    }
  }
  return parseHead(buf, offset, limit, maxHeaderSize, maxHeaders);
}

const HEAD_END = Buffer.from("\r\n\r\n", "latin1");

/** Fails on an LF in buf[from..] that does not end a CRLF starting at or after `offset`. */
function checkLineFeeds(buf: Buffer, offset: number, from: number): void {
  for (let lf = buf.indexOf(LF, from); lf !== -1; lf = buf.indexOf(LF, lf + 1)) {
    if (lf - 1 < offset || buf[lf - 1] !== CR) fail("BAD_HEADER", "bare LF");
  }
}

/** The answer for a head cut short: wait for more, unless it can only end too large. */
function incomplete(buf: Buffer, offset: number, maxHeaderSize: number): null {
  if (buf.length - offset >= maxHeaderSize) {
    fail("HEADERS_TOO_LARGE", `request head over ${maxHeaderSize} bytes`);
  }
  return null;
}

// Bounds of each field's name and value (4 numbers a field) in the head being
// parsed: strings are cut only once the head is known complete. Reused, as
// parsing is synchronous.
const fields: number[] = [];

/** The request-line's version part, byte by byte; 0 stands for a digit. */
const VERSION = [0x48, 0x54, 0x54, 0x50, 0x2f, 0, 0x2e, 0, CR];

/**
 * One pass over buf[offset..limit): leading empty lines, request-line, field
 * lines, blank line; each byte is looked at once. Null when `limit` cuts it.
 */
function parseHead(
  buf: Buffer,
  offset: number,
  limit: number,
  maxHeaderSize: number,
  maxHeaders: number,
): RequestHead | null {
  let i = offset;
  let c = 0;

  for (let empty = 0; ; empty++) {
    if (i >= limit) return incomplete(buf, offset, maxHeaderSize);
    c = buf[i];
    if (c !== CR) {
      if (c === LF) fail("BAD_REQUEST_LINE", "bare LF before the request line");
      break;
    }
    if (empty === MAX_LEADING_EMPTY_LINES) fail("BAD_REQUEST_LINE", "too many empty lines");
    if (i + 1 >= limit) return incomplete(buf, offset, maxHeaderSize);
    if (buf[i + 1] !== LF) fail("BAD_REQUEST_LINE", "bare CR before the request line");
    i += 2;
  }
  const start = i;

  // request-line = method SP request-target SP HTTP-version CRLF
  while (i < limit && (c = buf[i]) !== SP) {
    if (TOKEN[c] !== 1)
      fail(c === CR || c === LF ? "BAD_REQUEST_LINE" : "BAD_METHOD", "bad method");
    i++;
  }
  if (i >= limit) return incomplete(buf, offset, maxHeaderSize);
  if (i === start) fail("BAD_METHOD", "empty method");
  const methodEnd = i++;
  const target = i;
  while (i < limit && (c = buf[i]) > SP && c !== DEL) i++;
  if (i >= limit) return incomplete(buf, offset, maxHeaderSize);
  if (c !== SP) {
    fail(c === CR || c === LF ? "BAD_REQUEST_LINE" : "BAD_TARGET", "bad request-target");
  }
  if (i === target) fail("BAD_TARGET", "empty request-target");
  const targetEnd = i++;
  for (let k = 0; k < VERSION.length; k++) {
    if (i + k >= limit) return incomplete(buf, offset, maxHeaderSize);
    c = buf[i + k];
    if (VERSION[k] === 0 ? !isDigit(c) : c !== VERSION[k]) {
      if (c === LF) fail("BAD_REQUEST_LINE", "bare LF");
      fail("BAD_VERSION", "not an HTTP/x.y version");
    }
    if (k === 5 && c !== 0x31) fail("BAD_VERSION", "HTTP major version other than 1");
  }
  const versionMinor = buf[i + 7] === 0x30 ? 0 : 1;
  if (i + 9 >= limit) return incomplete(buf, offset, maxHeaderSize);
  if (buf[i + 9] !== LF) fail("BAD_REQUEST_LINE", "bare CR");
  i += 10;

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

  // field-line = field-name ":" OWS field-value OWS CRLF, until the blank line
  for (;;) {
    if (i >= limit) return incomplete(buf, offset, maxHeaderSize);
    c = buf[i];
    if (c === CR) {
      if (i + 1 >= limit) return incomplete(buf, offset, maxHeaderSize);
      if (buf[i + 1] !== LF) fail("BAD_HEADER", "bare CR");
      i += 2;
      break;
    }
    if (c === SP || c === HTAB) fail("BAD_HEADER", "obs-fold or whitespace before a field name");
    if (++count > maxHeaders) fail("TOO_MANY_HEADERS", `more than ${maxHeaders} header fields`);
    const name = i;
    while (i < limit && (c = buf[i]) !== COLON) {
      if (TOKEN[c] !== 1) fail("BAD_HEADER", "bad field name");
      i++;
    }
    if (i >= limit) return incomplete(buf, offset, maxHeaderSize);
    if (i === name) fail("BAD_HEADER", "empty field name");
    const nameEnd = i++;
    while (i < limit && ((c = buf[i]) === SP || c === HTAB)) i++;
    const value = i;
    for (;;) {
      if (i >= limit) return incomplete(buf, offset, maxHeaderSize);
      c = buf[i];
      if (c < SP || c === DEL) {
        if (c === CR) break;
        if (c !== HTAB) fail("BAD_HEADER", "control character in a field value");
      }
      i++;
    }
    if (i + 1 >= limit) return incomplete(buf, offset, maxHeaderSize);
    if (buf[i + 1] !== LF) fail("BAD_HEADER", "bare CR");
    let valueEnd = i;
    while (valueEnd > value && ((c = buf[valueEnd - 1]) === SP || c === HTAB)) valueEnd--;
    i += 2;
    const at = (count - 1) * 4;
    fields[at] = name;
    fields[at + 1] = nameEnd;
    fields[at + 2] = value;
    fields[at + 3] = valueEnd;

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
            else if (equalsLower(buf, elementStart, elementEnd, "keep-alive")) {
              keepAliveToken = true;
            } else if (equalsLower(buf, elementStart, elementEnd, "upgrade")) upgradeToken = true;
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

  if (hosts > 1) fail("MISSING_HOST", "several Host fields");
  if (hosts === 0 && versionMinor === 1) fail("MISSING_HOST", "HTTP/1.1 request without Host");
  if (transferEncoding) {
    if (contentLength !== -1) {
      fail("BAD_TRANSFER_ENCODING", "both Transfer-Encoding and Content-Length");
    }
    if (versionMinor === 0) fail("BAD_TRANSFER_ENCODING", "Transfer-Encoding in HTTP/1.0");
    if (!lastChunked) fail("BAD_TRANSFER_ENCODING", "final transfer coding is not chunked");
    if (chunkedCount > 1) fail("BAD_TRANSFER_ENCODING", "chunked applied more than once");
    if (unknownCoding) {
      throw new HttpParseError("BAD_TRANSFER_ENCODING", "unsupported transfer coding", 501);
    }
  }

  // One string for the whole head; every field is a substring of it (much
  // cheaper than one buffer decode per field).
  const text = latin1(buf, start, i);
  const rawHeaders: string[] = new Array(count * 2);
  for (let k = 0; k < count * 2; k += 2) {
    const at = k * 2;
    rawHeaders[k] = text.substring(fields[at] - start, fields[at + 1] - start);
    rawHeaders[k + 1] = text.substring(fields[at + 2] - start, fields[at + 3] - start);
  }
  return {
    method: text.substring(0, methodEnd - start),
    url: text.substring(target - start, targetEnd - start),
    versionMinor,
    rawHeaders,
    contentLength,
    chunked: transferEncoding,
    keepAlive: !close && (versionMinor === 1 || keepAliveToken),
    upgrade: upgradeToken && upgradeField,
    expectContinue,
    headLength: i - offset,
  };
}

type Latin1Slice = (this: Buffer, start: number, end: number) => string;
const nativeLatin1 = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;

/** buf.toString("latin1", start, end), by node's own latin1Slice when present (a little faster). */
function latin1(buf: Buffer, start: number, end: number): string {
  return nativeLatin1 !== undefined
    ? nativeLatin1.call(buf, start, end)
    : buf.toString("latin1", start, end);
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
