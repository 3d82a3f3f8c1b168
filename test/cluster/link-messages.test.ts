/**
 * The owner's stand-ins for a forwarded request and its response: the
 * frames a response sends for each way of writing it, and the events a
 * handler sees when it ends, is dropped, or its client goes away.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { LinkRequest, LinkResponse, type ResponseSink } from "../../src/cluster/link-messages.js";

type Sent = [string, ...unknown[]];

function pair(body = ""): { req: LinkRequest; res: LinkResponse; sent: Sent[] } {
  const sent: Sent[] = [];
  const sink: ResponseSink = {
    head: (id, status, headers, chunk, fin) =>
      sent.push(["head", id, status, headers, String(chunk), fin]),
    data: (id, chunk, fin) => sent.push(["data", id, String(chunk), fin]),
    cancel: (id) => sent.push(["cancel", id]),
    done: (id) => sent.push(["done", id]),
  };
  const info = { remoteAddress: "10.0.0.2", remotePort: 1, localAddress: "10.0.0.1", localPort: 2 };
  const req = new LinkRequest(
    "POST",
    "/p?sid=x",
    { a: "1", b: ["2", "3"] },
    Buffer.from(body),
    info,
    () => res.destroy(),
  );
  const res = new LinkResponse(7, req, sink);
  return { req, res, sent };
}

describe("forwarded request and response on the owner", () => {
  it("reads like an IncomingMessage: headers, raw headers, addresses, body", async () => {
    const { req } = pair("hello");
    assert.equal(req.method, "POST");
    assert.deepEqual(req.rawHeaders, ["a", "1", "b", "2", "b", "3"]);
    assert.equal(req.socket.remoteAddress, "10.0.0.2");
    assert.equal(req.socket.localPort, 2);
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk));
    await once(req, "end");
    assert.equal(text, "hello");
  });

  it("sends a whole response as one frame, with headers set either way", async () => {
    const { res, sent } = pair();
    res.setHeader("X-One", "1");
    res.writeHead(201, { "Content-Type": "text/plain", "Set-Cookie": ["a=1", "b=2"] });
    assert.equal(res.headersSent, true);
    assert.throws(() => res.setHeader("late", "x"), { code: "ERR_HTTP_HEADERS_SENT" });
    res.end("ok");
    assert.deepEqual(sent, [
      [
        "head",
        7,
        201,
        { "x-one": "1", "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] },
        "ok",
        true,
      ],
      ["done", 7],
    ]);
    await once(res, "close");
    assert.equal(res.writableFinished, true);
  });

  it("sends written chunks as DATA frames after the head", () => {
    const { res, sent } = pair();
    res.write("a");
    res.write("b");
    res.end();
    assert.deepEqual(sent, [
      ["head", 7, 200, {}, "a", false],
      ["data", 7, "b", false],
      ["data", 7, "", true],
      ["done", 7],
    ]);
  });

  it("cancels a response dropped unfinished, and closes once", async () => {
    const { res, sent } = pair();
    let closes = 0;
    res.on("close", () => closes++);
    res.destroy();
    res.destroy();
    assert.deepEqual(sent, [
      ["cancel", 7],
      ["done", 7],
    ]);
    await once(res, "close");
    assert.equal(res.writableFinished, false);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closes, 1);
  });

  it("closes without a cancel frame when the client went away (abort)", async () => {
    const { req, res, sent } = pair();
    const aborted = once(req, "aborted");
    res.abort();
    await aborted;
    await once(res, "close");
    assert.deepEqual(sent, [["done", 7]]);
    assert.equal(res.writableFinished, false);
    res.end("late");
    assert.deepEqual(sent, [["done", 7]], "nothing written after the client left");
  });
});
