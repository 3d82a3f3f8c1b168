/** The front's response writer: the bytes of a whole response, from its parts. */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import { InvalidHeaderError, ResponseWriter } from "../../src/http1/response.js";

function sink(): { socket: Socket; out: () => string; writes: () => number; ended: () => boolean } {
  const chunks: (string | Buffer)[] = [];
  let ended = false;
  const socket = {
    write(chunk: string | Buffer) {
      chunks.push(chunk);
      return true;
    },
    end() {
      ended = true;
    },
  } as unknown as Socket;
  return {
    socket,
    out: () => chunks.map((c) => (typeof c === "string" ? c : c.toString("latin1"))).join(""),
    writes: () => chunks.length,
    ended: () => ended,
  };
}

const writer = () => new ResponseWriter(() => 5);

describe("ResponseWriter", () => {
  it("writes status, headers, Date, Content-Length, keep-alive and the body in one write", () => {
    const s = sink();
    const close = writer().write(
      s.socket,
      200,
      "",
      null,
      ["Content-Type", "text/plain"],
      "hé",
      true,
    );
    assert.equal(close, false);
    assert.equal(s.writes(), 1);
    const text = s.out();
    assert.match(
      text,
      /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nContent-Length: 3\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n/,
    );
    assert.equal(Buffer.from(text, "latin1").subarray(-3).toString("utf8"), "hé");
  });

  it("keeps a given Content-Length, Date and Connection, and closes on Connection: close", () => {
    const s = sink();
    const close = writer().write(
      s.socket,
      413,
      "",
      null,
      { Connection: "close", "Content-Length": 0, Date: "x" },
      "",
      true,
    );
    assert.equal(close, true);
    assert.ok(s.ended());
    assert.equal(
      s.out(),
      "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\nDate: x\r\n\r\n",
    );
  });

  it("answers a client that asked to close with Connection: close", () => {
    const s = sink();
    assert.equal(writer().write(s.socket, 200, "", null, null, "ok", false), true);
    assert.match(s.out(), /\r\nConnection: close\r\n\r\nok$/);
    assert.ok(s.ended());
  });

  it("merges setHeader's headers, writeHead's winning by name, arrays one line each", () => {
    const s = sink();
    const set = [
      "vary",
      "Vary",
      "Origin",
      "set-cookie",
      "Set-Cookie",
      ["a=1", "b=2"],
      "x-a",
      "X-A",
      "1",
    ];
    writer().write(s.socket, 204, "Nothing", set, ["x-a", "2"], "", true);
    const text = s.out();
    assert.match(text, /^HTTP\/1\.1 204 Nothing\r\n/);
    assert.match(text, /\r\nVary: Origin\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nx-a: 2\r\n/);
    assert.doesNotMatch(text, /X-A: 1/);
  });

  it("refuses a header value that would split the response", () => {
    const s = sink();
    assert.throws(
      () => writer().write(s.socket, 200, "", null, ["X-Evil", "a\r\nSet-Cookie: x"], "", true),
      InvalidHeaderError,
    );
    assert.equal(s.writes(), 0);
  });

  it("writes the same bytes again for the same constant header list and body", () => {
    const w = writer();
    const headers = ["Content-Type", "text/plain; charset=UTF-8", "Content-Length", "3"];
    const ok = ["Content-Type", "text/html", "Content-Length", "2"];
    const body = Buffer.from("abc");
    const written: (string | Buffer)[] = [];
    const socket = { write: (b: string | Buffer) => written.push(b) } as unknown as Socket;
    w.write(socket, 200, "", null, headers, body, true);
    w.write(socket, 200, "", null, ok, "ok", true);
    w.write(socket, 200, "", null, headers, body, true);
    w.write(socket, 200, "", null, ok, "ok", true);
    assert.equal(written.length, 4);
    assert.ok(Buffer.isBuffer(written[0]));
    // Unless a second passed in between (the Date), the kept bytes are written as they are.
    if ((written[2] as Buffer).toString() === (written[0] as Buffer).toString()) {
      assert.equal(written[2], written[0]);
      assert.equal(written[3], written[1]);
    }
    const other = Buffer.from("abc");
    w.write(socket, 200, "", null, headers, other, true);
    assert.notEqual(written[4], written[0], "another body is another response");
  });
});
