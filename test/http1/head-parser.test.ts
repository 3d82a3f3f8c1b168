/**
 * The HTTP/1.1 request-head parser against wire vectors: typical polling and
 * Bayeux heads, every rule and error code, incremental feeding at every
 * split point, pipelining, limits at their exact boundary, smuggling shapes,
 * random corruption, and what a real node:http server makes of the same bytes.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { describe, it } from "node:test";
import {
  HttpParseError,
  type HttpParseErrorCode,
  MAX_LEADING_EMPTY_LINES,
  parseRequestHead,
  type RequestHead,
} from "../../src/http1/index.js";

const wire = (text: string) => Buffer.from(text, "latin1");
const head = (...lines: string[]) => wire(`${lines.join("\r\n")}\r\n\r\n`);

const POLL_FIELDS = [
  "Host: localhost:3000",
  "Connection: keep-alive",
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0.0.0 Safari/537.36",
  "Accept: */*",
  "Accept-Encoding: gzip, deflate, br, zstd",
  "Accept-Language: en-GB,en;q=0.9",
  "Origin: http://localhost:3000",
  "Referer: http://localhost:3000/chat",
  "Cookie: session=7f3a9c2e; io=abcdefghijklmnopqrst",
];
const POLL_GET = head(
  "GET /socket.io/?EIO=4&transport=polling&t=Pabc123&sid=abcdefghijklmnopqrst HTTP/1.1",
  ...POLL_FIELDS,
);
const BAYEUX_POST = head(
  "POST /bayeux HTTP/1.1",
  "Host: localhost:3000",
  "Content-Type: application/json;charset=UTF-8",
  "Content-Length: 112",
  "Origin: http://localhost:3000",
);

function parse(buf: Buffer, offset = 0, limits?: Parameters<typeof parseRequestHead>[2]) {
  return parseRequestHead(buf, offset, limits);
}

function parsed(buf: Buffer, offset = 0): RequestHead {
  const result = parse(buf, offset);
  assert.ok(result, "head should be complete");
  return result;
}

function rejects(
  buf: Buffer,
  code: HttpParseErrorCode,
  status?: number,
  limits?: Parameters<typeof parseRequestHead>[2],
) {
  assert.throws(
    () => parse(buf, 0, limits),
    (error: unknown) => {
      assert.ok(error instanceof HttpParseError, `not an HttpParseError: ${error}`);
      assert.equal(error.code, code, `${JSON.stringify(buf.toString("latin1"))}: ${error.message}`);
      if (status !== undefined) assert.equal(error.status, status);
      return true;
    },
  );
}

describe("parseRequestHead: typical heads", () => {
  it("parses an Engine.IO polling GET", () => {
    const h = parsed(POLL_GET);
    assert.equal(h.method, "GET");
    assert.equal(h.url, "/socket.io/?EIO=4&transport=polling&t=Pabc123&sid=abcdefghijklmnopqrst");
    assert.equal(h.versionMinor, 1);
    assert.deepEqual(
      h.rawHeaders,
      POLL_FIELDS.flatMap((line) => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon), line.slice(colon + 2)];
      }),
    );
    assert.equal(h.contentLength, -1);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true);
    assert.equal(h.upgrade, false);
    assert.equal(h.expectContinue, false);
    assert.equal(h.headLength, POLL_GET.length);
  });

  it("parses a Bayeux POST", () => {
    const h = parsed(BAYEUX_POST);
    assert.equal(h.method, "POST");
    assert.equal(h.url, "/bayeux");
    assert.equal(h.contentLength, 112);
    assert.equal(h.chunked, false);
    assert.equal(h.keepAlive, true);
    assert.equal(h.headLength, BAYEUX_POST.length);
  });

  it("parses a chunked POST with Expect: 100-continue", () => {
    const h = parsed(
      head(
        "POST /bayeux HTTP/1.1",
        "Host: a",
        "Transfer-Encoding: Chunked",
        "Expect: 100-Continue",
      ),
    );
    assert.equal(h.chunked, true);
    assert.equal(h.contentLength, -1);
    assert.equal(h.expectContinue, true);
  });

  it("parses a websocket upgrade", () => {
    const h = parsed(
      head(
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
        "Host: a",
        "Connection: keep-alive, Upgrade",
        "Upgrade: websocket",
      ),
    );
    assert.equal(h.upgrade, true);
    assert.equal(h.keepAlive, true);
  });
});

describe("parseRequestHead: semantics", () => {
  it("keep-alive: HTTP/1.1 unless close, HTTP/1.0 only with keep-alive", () => {
    assert.equal(parsed(head("GET / HTTP/1.1", "Host: a")).keepAlive, true);
    assert.equal(parsed(head("GET / HTTP/1.1", "Host: a", "Connection: Close")).keepAlive, false);
    assert.equal(
      parsed(head("GET / HTTP/1.1", "Host: a", "Connection: foo", "connection: x,  CLOSE "))
        .keepAlive,
      false,
    );
    assert.equal(parsed(head("GET / HTTP/1.0")).keepAlive, false);
    assert.equal(parsed(head("GET / HTTP/1.0", "Connection: Keep-Alive")).keepAlive, true);
    assert.equal(parsed(head("GET / HTTP/1.0", "Connection: keep-alive, close")).keepAlive, false);
    assert.equal(parsed(head("GET / HTTP/1.0", "Connection: keep-alive-ish")).keepAlive, false);
  });

  it("upgrade needs both the Connection token and an Upgrade field", () => {
    assert.equal(parsed(head("GET / HTTP/1.1", "Host: a", "Upgrade: websocket")).upgrade, false);
    assert.equal(parsed(head("GET / HTTP/1.1", "Host: a", "Connection: upgrade")).upgrade, false);
    assert.equal(
      parsed(
        head("GET / HTTP/1.1", "Host: a", "Connection: x", "Connection: Upgrade", "upgrade: h2c"),
      ).upgrade,
      true,
    );
  });

  it("HTTP/1.0 without Host is fine; HTTP/1.9 counts as 1.1", () => {
    assert.equal(parsed(head("GET / HTTP/1.0")).versionMinor, 0);
    const later = parsed(head("GET / HTTP/1.9", "Host: a"));
    assert.equal(later.versionMinor, 1);
    assert.equal(later.keepAlive, true);
  });

  it("trims OWS around values (not inside) and keeps names and methods as sent", () => {
    const h = parsed(
      head("get * HTTP/1.1", "hOsT:a", "X-Empty:", "X-Pad: \t a  b \t", "X-Tab:\tv"),
    );
    assert.equal(h.method, "get");
    assert.equal(h.url, "*");
    assert.deepEqual(h.rawHeaders, ["hOsT", "a", "X-Empty", "", "X-Pad", "a  b", "X-Tab", "v"]);
  });

  it("decodes values as latin1", () => {
    const h = parsed(
      Buffer.concat([
        wire("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf"),
        Buffer.from([0xe9, 0xff]),
        wire("\r\n\r\n"),
      ]),
    );
    assert.equal(h.rawHeaders[3], "caf\u00e9\u00ff");
  });

  it("accepts repeated identical Content-Length values", () => {
    assert.equal(
      parsed(head("POST / HTTP/1.1", "Host: a", "Content-Length: 5, 5")).contentLength,
      5,
    );
    assert.equal(
      parsed(head("POST / HTTP/1.1", "Host: a", "Content-Length: 7", "content-length: 7"))
        .contentLength,
      7,
    );
    assert.equal(parsed(head("POST / HTTP/1.1", "Host: a", "Content-Length: 0")).contentLength, 0);
    assert.equal(
      parsed(head("POST / HTTP/1.1", "Host: a", "Content-Length: 007")).contentLength,
      7,
    );
  });

  it("takes Content-Length up to 2^53-1 and refuses more", () => {
    const max = parsed(head("POST / HTTP/1.1", "Host: a", "Content-Length: 9007199254740991"));
    assert.equal(max.contentLength, Number.MAX_SAFE_INTEGER);
    rejects(
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 9007199254740992"),
      "BAD_CONTENT_LENGTH",
    );
    rejects(
      head("POST / HTTP/1.1", "Host: a", `Content-Length: ${"9".repeat(400)}`),
      "BAD_CONTENT_LENGTH",
      400,
    );
  });

  it("Transfer-Encoding lists may span several fields", () => {
    const h = parsed(head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"));
    assert.equal(h.chunked, true);
  });
});

describe("parseRequestHead: every error code", () => {
  const vectors: [string, Buffer, HttpParseErrorCode, number][] = [
    ["head over the size limit", wire(`GET /${"a".repeat(20000)}`), "HEADERS_TOO_LARGE", 431],
    [
      "too many fields",
      head("GET / HTTP/1.1", "Host: a", ...Array.from({ length: 100 }, (_, k) => `X-${k}: v`)),
      "TOO_MANY_HEADERS",
      431,
    ],
    ["no spaces", head("GET/HTTP/1.1", "Host: a"), "BAD_METHOD", 400],
    ["method alone", head("GET", "Host: a"), "BAD_REQUEST_LINE", 400],
    ["no version", head("GET /", "Host: a"), "BAD_REQUEST_LINE", 400],
    [
      "bare LF in the request line",
      wire("GET / HTTP/1.1\nHost: a\r\n\r\n"),
      "BAD_REQUEST_LINE",
      400,
    ],
    ["bare CR after the version", wire("GET / HTTP/1.1\rHost: a\r\n\r\n"), "BAD_REQUEST_LINE", 400],
    [
      "too many leading empty lines",
      wire(`${"\r\n".repeat(5)}GET / HTTP/1.1\r\nHost: a\r\n\r\n`),
      "BAD_REQUEST_LINE",
      400,
    ],
    ["leading bare LF", wire("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), "BAD_REQUEST_LINE", 400],
    ["method with a bad byte", head("GE(T / HTTP/1.1", "Host: a"), "BAD_METHOD", 400],
    ["empty method", head(" / HTTP/1.1", "Host: a"), "BAD_METHOD", 400],
    ["double space", head("GET  / HTTP/1.1", "Host: a"), "BAD_TARGET", 400],
    ["target with a CTL", head("GET /a\x01b HTTP/1.1", "Host: a"), "BAD_TARGET", 400],
    ["target with DEL", head("GET /a\x7f HTTP/1.1", "Host: a"), "BAD_TARGET", 400],
    ["HTTP/2.0", head("GET / HTTP/2.0", "Host: a"), "BAD_VERSION", 505],
    ["HTTP/0.9", head("GET / HTTP/0.9", "Host: a"), "BAD_VERSION", 505],
    ["lowercase http", head("GET / http/1.1", "Host: a"), "BAD_VERSION", 505],
    ["HTTP/1.10", head("GET / HTTP/1.10", "Host: a"), "BAD_VERSION", 505],
    ["HTTP/1", head("GET / HTTP/1", "Host: a"), "BAD_VERSION", 505],
    ["trailing space after the version", head("GET / HTTP/1.1 ", "Host: a"), "BAD_VERSION", 505],
    ["space before the colon", head("GET / HTTP/1.1", "Host : a"), "BAD_HEADER", 400],
    ["missing colon", head("GET / HTTP/1.1", "Host: a", "X-Nothing"), "BAD_HEADER", 400],
    ["empty name", head("GET / HTTP/1.1", "Host: a", ": v"), "BAD_HEADER", 400],
    ["bad name byte", head("GET / HTTP/1.1", "Host: a", "X(y): v"), "BAD_HEADER", 400],
    ["NUL in a value", head("GET / HTTP/1.1", "Host: a", "X: a\x00b"), "BAD_HEADER", 400],
    ["CTL in a value", head("GET / HTTP/1.1", "Host: a", "X: a\x1bb"), "BAD_HEADER", 400],
    ["DEL in a value", head("GET / HTTP/1.1", "Host: a", "X: a\x7f"), "BAD_HEADER", 400],
    ["obs-fold", head("GET / HTTP/1.1", "Host: a", "X: a", " b"), "BAD_HEADER", 400],
    ["obs-fold with a tab", head("GET / HTTP/1.1", "Host: a", "X: a", "\tb"), "BAD_HEADER", 400],
    ["bare LF in a field", wire("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), "BAD_HEADER", 400],
    ["bare CR in a field", wire("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), "BAD_HEADER", 400],
    ["LF LF ending", wire("GET / HTTP/1.1\r\nHost: a\n\n"), "BAD_HEADER", 400],
    [
      "bare CR as the blank line",
      wire("GET / HTTP/1.1\r\nHost: a\r\n\rX: b\r\n\r\n"),
      "BAD_HEADER",
      400,
    ],
    [
      "non-numeric Content-Length",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 1x"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "signed Content-Length",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: +5"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "negative Content-Length",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: -1"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "empty Content-Length",
      head("POST / HTTP/1.1", "Host: a", "Content-Length:"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "Content-Length list with a hole",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 5,"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "Content-Length 5, 6",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 5, 6"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "duplicated differing Content-Length",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Content-Length: 50"),
      "BAD_CONTENT_LENGTH",
      400,
    ],
    [
      "Content-Length with Transfer-Encoding",
      head("POST / HTTP/1.1", "Host: a", "Content-Length: 5", "Transfer-Encoding: chunked"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "Transfer-Encoding with Content-Length after it",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Content-Length: 0"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "chunked, identity",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, identity"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "xchunked",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: xchunked"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "chunked twice",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked, chunked"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "chunked twice across fields",
      head(
        "POST / HTTP/1.1",
        "Host: a",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: chunked",
      ),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "chunked then something across fields",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "empty Transfer-Encoding",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding:"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "chunked with a parameter",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: chunked;x=1"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "Transfer-Encoding in HTTP/1.0",
      head("POST / HTTP/1.0", "Transfer-Encoding: chunked"),
      "BAD_TRANSFER_ENCODING",
      400,
    ],
    [
      "unimplemented coding",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding: gzip, chunked"),
      "BAD_TRANSFER_ENCODING",
      501,
    ],
    [
      "Transfer-Encoding : chunked",
      head("POST / HTTP/1.1", "Host: a", "Transfer-Encoding : chunked"),
      "BAD_HEADER",
      400,
    ],
    ["HTTP/1.1 without Host", head("GET / HTTP/1.1", "X: a"), "MISSING_HOST", 400],
    ["two Host fields", head("GET / HTTP/1.1", "Host: a", "host: b"), "MISSING_HOST", 400],
    [
      "two Host fields in HTTP/1.0",
      head("GET / HTTP/1.0", "Host: a", "Host: a"),
      "MISSING_HOST",
      400,
    ],
  ];
  for (const [label, buf, code, status] of vectors) {
    it(`${label} → ${code} ${status}`, () => rejects(buf, code, status));
  }
});

describe("parseRequestHead: incremental and pipelined input", () => {
  it("returns null at every split point before the end, then the same head", () => {
    for (const full of [POLL_GET, BAYEUX_POST, wire(`\r\n\r\n${POLL_GET.toString("latin1")}`)]) {
      const expected = parsed(full);
      for (let k = 0; k < full.length; k++) {
        assert.equal(parse(full.subarray(0, k)), null, `split at ${k}`);
      }
      assert.deepEqual(parse(full), expected);
    }
  });

  it("gives the same heads when resumed byte by byte with resumeAt", () => {
    const full = Buffer.concat([POLL_GET, wire("GET /next")]);
    const expected = parsed(full);
    let seen = 0;
    for (let k = 1; k <= full.length; k++) {
      const result = parseRequestHead(full.subarray(0, k), 0, undefined, seen);
      seen = k;
      if (k < expected.headLength) assert.equal(result, null, `at ${k}`);
      else {
        assert.deepEqual(result, expected, `at ${k}`);
        break;
      }
    }
  });

  it("fails a partial head as soon as a bad byte arrives", () => {
    rejects(wire("GET / HTTP/1.1\r\nHost: a\r\nX: \x00"), "BAD_HEADER");
    rejects(wire("GET / HTTP/3"), "BAD_VERSION");
    rejects(wire("GET / HTTP/1.1\r\nHost : "), "BAD_HEADER");
    rejects(wire("GET / HTTP/1.1\r\nContent-Length: 1x\r\n"), "BAD_CONTENT_LENGTH");
    // Resumed: the new bytes are checked for bare LFs before the head is complete.
    assert.throws(
      () => parseRequestHead(wire("GET / HTTP/1.1\r\nHost: a\nX"), 0, undefined, 20),
      (error: unknown) => error instanceof HttpParseError && error.code === "BAD_HEADER",
    );
  });

  it("parses pipelined heads back to back from their offsets", () => {
    const stream = Buffer.concat([
      wire("\r\n"),
      POLL_GET,
      BAYEUX_POST,
      wire("x".repeat(112)),
      head("GET /last HTTP/1.0"),
      wire("GET /partial HTTP/1.1\r\nHo"),
    ]);
    const first = parsed(stream, 0);
    assert.equal(first.headLength, POLL_GET.length + 2);
    const second = parsed(stream, first.headLength);
    assert.equal(second.url, "/bayeux");
    const third = parsed(stream, first.headLength + second.headLength + second.contentLength);
    assert.equal(third.url, "/last");
    const fourth = first.headLength + second.headLength + second.contentLength + third.headLength;
    assert.equal(parse(stream, fourth), null);
  });

  it("skips up to MAX_LEADING_EMPTY_LINES empty lines and counts them in headLength", () => {
    for (let n = 0; n <= MAX_LEADING_EMPTY_LINES; n++) {
      const buf = Buffer.concat([wire("\r\n".repeat(n)), BAYEUX_POST]);
      const h = parsed(buf);
      assert.equal(h.method, "POST");
      assert.equal(h.headLength, BAYEUX_POST.length + 2 * n);
    }
    assert.equal(parse(wire("\r\n\r\n")), null);
    assert.equal(parse(wire("\r\n\r")), null);
  });
});

describe("parseRequestHead: limits at their boundary", () => {
  it("maxHeaderSize: a head of exactly the limit passes, one byte more fails", () => {
    const exact = POLL_GET.length;
    assert.ok(parse(POLL_GET, 0, { maxHeaderSize: exact }));
    rejects(POLL_GET, "HEADERS_TOO_LARGE", 431, { maxHeaderSize: exact - 1 });
    // Leading empty lines count.
    rejects(Buffer.concat([wire("\r\n"), POLL_GET]), "HEADERS_TOO_LARGE", 431, {
      maxHeaderSize: exact + 1,
    });
  });

  it("maxHeaderSize: a partial head fails once it reaches the limit, without waiting", () => {
    const partial = POLL_GET.subarray(0, 200);
    assert.equal(parse(partial, 0, { maxHeaderSize: 201 }), null);
    rejects(partial, "HEADERS_TOO_LARGE", 431, { maxHeaderSize: 200 });
    rejects(partial, "HEADERS_TOO_LARGE", 431, { maxHeaderSize: 199 });
    // The same when resumed.
    assert.throws(() => parseRequestHead(partial, 0, { maxHeaderSize: 150 }, 100), HttpParseError);
  });

  it("maxHeaderSize defaults to 16384", () => {
    const filler = (n: number) => `X: ${"a".repeat(n)}`;
    const base = head("GET / HTTP/1.1", "Host: a", filler(0)).length;
    assert.ok(parse(head("GET / HTTP/1.1", "Host: a", filler(16384 - base))));
    rejects(head("GET / HTTP/1.1", "Host: a", filler(16385 - base)), "HEADERS_TOO_LARGE");
  });

  it("maxHeaders: exactly the limit passes, one more fails", () => {
    const buf = head("GET / HTTP/1.1", "Host: a", "A: 1", "B: 2");
    assert.equal(parse(buf, 0, { maxHeaders: 3 })?.rawHeaders.length, 6);
    rejects(buf, "TOO_MANY_HEADERS", 431, { maxHeaders: 2 });
    const hundred = head(
      "GET / HTTP/1.1",
      "Host: a",
      ...Array.from({ length: 99 }, (_, k) => `X-${k}: v`),
    );
    assert.equal(parse(hundred)?.rawHeaders.length, 200);
  });
});

describe("parseRequestHead: hostile input", () => {
  it("only ever throws HttpParseError on random corruption of valid heads", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const alphabet = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x00, 0x7f, 0xff, 0x41, 0x30];
    let complete = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(round % 2 === 0 ? POLL_GET : BAYEUX_POST);
      for (let n = 1 + Math.floor(random() * 4); n > 0; n--) {
        const at = Math.floor(random() * bytes.length);
        bytes[at] =
          random() < 0.7
            ? alphabet[Math.floor(random() * alphabet.length)]
            : Math.floor(random() * 256);
      }
      const cut = random() < 0.5 ? bytes : bytes.subarray(0, Math.floor(random() * bytes.length));
      try {
        if (parseRequestHead(cut, 0) !== null) complete++;
      } catch (error) {
        assert.ok(error instanceof HttpParseError, `threw ${error}`);
      }
    }
    assert.ok(complete > 0);
  });
});

/** What a node:http server reports for one request sent as raw bytes. */
function nodeSees(
  port: number,
  bytes: Buffer,
): Promise<{ method: string; url: string; rawHeaders: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    socket.on("error", reject);
    socket.setTimeout(5000, () => reject(new Error("node:http did not answer")));
    const received: Buffer[] = [];
    socket.on("data", (data) => received.push(data));
    socket.once("close", () => {
      // A "100 Continue" may come first: the JSON body is after the last head.
      const text = Buffer.concat(received).toString("latin1");
      try {
        resolve(JSON.parse(text.slice(text.lastIndexOf("\r\n\r\n") + 4)));
      } catch (error) {
        reject(new Error(`unexpected answer ${JSON.stringify(text)}: ${error}`));
      }
    });
  });
}

describe("parseRequestHead: agrees with node:http", () => {
  const heads = [
    POLL_GET,
    BAYEUX_POST,
    head("GET / HTTP/1.1", "Host: a"),
    head("GET / HTTP/1.0"),
    head("OPTIONS * HTTP/1.1", "Host: a"),
    head("DELETE /x?y=1#frag HTTP/1.1", "Host: a", "Content-Length: 0"),
    head("PUT /u HTTP/1.1", "Host: a", "Content-Length: 3"),
    head("POST /c HTTP/1.1", "Host: a", "Transfer-Encoding: chunked"),
    head(
      "GET /ws HTTP/1.1",
      "Host: a",
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Version: 13",
    ),
    head("GET / HTTP/1.1", "HOST: A", "x-lower: v", "X-UPPER: V"),
    head("GET / HTTP/1.1", "Host: a", "X-Pad:    spaced value   "),
    head("GET / HTTP/1.1", "Host: a", "X-Tabs:\t\ttabbed\t"),
    head("GET / HTTP/1.1", "Host: a", "X-Empty:"),
    head("GET / HTTP/1.1", "Host: a", "X-Dup: 1", "X-Dup: 2", "x-dup: 3"),
    head("GET / HTTP/1.1", "Host: a", "Cookie: a=1; b=2", "Cookie: c=3"),
    head("GET /%7Euser/a%20b HTTP/1.1", "Host: a", "Accept: text/html, */*;q=0.8"),
    head("GET / HTTP/1.1", "Host: a", "X-Chars: !#$%&'*+-.^_`|~\"(),/:;<=>?@[\\]{}"),
    head("GET / HTTP/1.1", "Host: a", "!#$%&'*+-.^_`|~09AZaz: token name"),
    Buffer.concat([wire("GET / HTTP/1.1\r\nHost: a\r\nX-Latin: \xe9t\xe9 "), wire("\r\n\r\n")]),
    wire(`\r\nGET /after-empty-line HTTP/1.1\r\nHost: a\r\n\r\n`),
    head("GET / HTTP/1.1", "Host: a", "Expect: 100-continue", "Content-Length: 0"),
  ];

  it(`sees the same method, url and rawHeaders for ${heads.length} heads`, async () => {
    const server = createServer((req: IncomingMessage, res) => {
      const body = JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders });
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body, "latin1"),
        connection: "close",
      });
      res.end(Buffer.from(body, "latin1"));
      req.resume();
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const bytes of heads) {
        const mine = parsed(bytes);
        const theirs = await nodeSees(port, bytes).catch((error) => {
          throw new Error(`${JSON.stringify(bytes.toString("latin1"))}: ${error.message}`);
        });
        assert.deepEqual(
          { method: mine.method, url: mine.url, rawHeaders: mine.rawHeaders },
          theirs,
          JSON.stringify(bytes.toString("latin1")),
        );
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
