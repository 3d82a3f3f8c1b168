import assert from "node:assert/strict";
import { IncomingMessage } from "node:http";
import { Socket as NetSocket } from "node:net";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { type HandshakeSource, SocketHandshake } from "../../src/socketio/socket-types.js";

function request(url: string, headers: Record<string, string>, query?: Record<string, string>) {
  const req = new IncomingMessage(new NetSocket());
  req.url = url;
  req.headers = headers;
  if (query !== undefined) (req as unknown as { _query: unknown })._query = query;
  return req;
}

function source(req: IncomingMessage, auth?: Record<string, unknown>): HandshakeSource {
  return {
    request: req,
    _remoteAddress: "10.0.0.7",
    _issuedAt: 1_700_000_000_000,
    _authPayload: auth,
  };
}

describe("SocketHandshake", () => {
  it("reads socket.io's fields from the request", () => {
    const req = request("/socket.io/?EIO=4&transport=websocket&role=ctl", {
      host: "example.test",
      origin: "http://other.test",
    });
    const hs = new SocketHandshake(source(req, { token: "t" }));
    assert.equal(hs.headers, req.headers);
    assert.equal(hs.address, "10.0.0.7");
    assert.equal(hs.xdomain, true);
    assert.equal(hs.secure, false);
    assert.equal(hs.issued, 1_700_000_000_000);
    assert.equal(hs.time, new Date(1_700_000_000_000).toString());
    assert.equal(hs.url, "/socket.io/?EIO=4&transport=websocket&role=ctl");
    assert.deepEqual({ ...hs.query }, { EIO: "4", transport: "websocket", role: "ctl" });
    assert.deepEqual(hs.auth, { token: "t" });
    assert.equal(hs.query, hs.query, "query is parsed once");
  });

  it("shares the engine's parsed query when each key appears once", () => {
    const parsed = { EIO: "4", transport: "polling", a: "1" };
    const hs = new SocketHandshake(
      source(request("/s/?EIO=4&&transport=polling&a=1&", {}, parsed)),
    );
    assert.equal(hs.query, parsed);
  });

  it("parses apart, with arrays, when a key repeats or is __proto__", () => {
    const repeated = new SocketHandshake(
      source(request("/s/?EIO=4&a=1&a=2", {}, { EIO: "4", a: "2" })),
    );
    assert.deepEqual({ ...repeated.query }, { EIO: "4", a: ["1", "2"] });
    const proto = Object.fromEntries([
      ["__proto__", "x"],
      ["EIO", "4"],
    ]);
    const polluted = new SocketHandshake(source(request("/s/?__proto__=x&EIO=4", {}, proto)));
    assert.equal(Object.hasOwn(polluted.query, "__proto__"), false);
    assert.equal(polluted.query.EIO, "4");
  });

  it("gives an empty auth object when the client sent none, the same one each time", () => {
    const hs = new SocketHandshake(source(request("/s/", {})));
    assert.deepEqual(hs.auth, {});
    hs.auth.user = "u";
    assert.equal(hs.auth.user, "u");
  });

  it("keeps assigned fields and extra properties", () => {
    const hs = new SocketHandshake(source(request("/s/?a=1", {})));
    hs.query = { replaced: "yes" };
    hs.session = { id: 1 };
    assert.deepEqual(hs.query, { replaced: "yes" });
    assert.deepEqual(hs.session, { id: 1 });
  });

  it("serialises and inspects as a plain record of every field", () => {
    const hs = new SocketHandshake(source(request("/s/?a=1", { host: "h" })));
    hs.extra = 5;
    const json = JSON.parse(JSON.stringify(hs)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), [
      "headers",
      "time",
      "address",
      "xdomain",
      "secure",
      "issued",
      "url",
      "query",
      "auth",
      "extra",
    ]);
    assert.equal(json.address, "10.0.0.7");
    assert.match(inspect(hs), /address: '10\.0\.0\.7'/);
  });
});
