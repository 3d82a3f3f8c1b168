/** Raw long-polling and callback-polling over loopback HTTP. */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import {
  connected,
  get,
  HANDSHAKE,
  handshake,
  post,
  type Running,
  startServer,
} from "./helpers.js";

describe("bayeux http: long-polling", { timeout: 20000 }, () => {
  let s: Running;
  before(async () => {
    s = await startServer({ timeout: 300, maxMessageSize: 2048, maxBatchLength: 5 });
  });
  after(() => s.close());

  for (const type of ["application/json", "text/json", "text/plain;charset=UTF-8"]) {
    it(`accepts a POST of ${type}`, async () => {
      const res = await post(s.url, [HANDSHAKE], { "content-type": type });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^application\/json/);
      assert.equal(res.headers.get("cache-control"), "no-cache, no-store");
      assert.equal(res.json()[0].successful, true);
    });
  }

  it("accepts a form-encoded message= field", async () => {
    const body = new URLSearchParams({ message: JSON.stringify([HANDSHAKE]) }).toString();
    const res = await post(s.url, body, { "content-type": "application/x-www-form-urlencoded" });
    assert.equal(res.json()[0].successful, true);
  });

  it("accepts a single message object, not only an array", async () => {
    const res = await post(s.url, HANDSHAKE);
    assert.equal(res.json()[0].channel, "/meta/handshake");
  });

  it("serves the sub-paths CometD posts to", async () => {
    const res = await post(`${s.url}/handshake`, [HANDSHAKE]);
    assert.equal(res.json()[0].successful, true);
    const other = await post(`${s.url.replace("/bayeux", "/bayeuxx")}`, [HANDSHAKE]);
    assert.equal(other.status, 404, "only the mount path");
  });

  it("accepts GET ?message=", async () => {
    const res = await get(`${s.url}?message=${encodeURIComponent(JSON.stringify([HANDSHAKE]))}`);
    assert.equal(res.status, 200);
    assert.equal(res.json()[0].successful, true);
  });

  it("holds a connect and answers it with the deliveries in one array", async () => {
    const clientId = await connected(s.url);
    await post(s.url, [{ channel: "/meta/subscribe", clientId, subscription: "/room/*" }]);
    const poll = post(`${s.url}/connect`, [
      { channel: "/meta/connect", clientId, connectionType: "long-polling" },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    s.bayeux.publish("/room/1", { text: "a" });
    s.bayeux.publish("/room/2", { text: "b" });
    const res = await poll;
    assert.deepEqual(res.json(), [
      { channel: "/room/1", data: { text: "a" } },
      { channel: "/room/2", data: { text: "b" } },
      {
        channel: "/meta/connect",
        clientId,
        successful: true,
        advice: { reconnect: "retry", interval: 0, timeout: 300 },
      },
    ]);
  });

  it("answers a batch of messages in one array, in order", async () => {
    const clientId = await connected(s.url);
    const res = await post(s.url, [
      { channel: "/meta/subscribe", clientId, subscription: "/b", id: "1" },
      { channel: "/b", clientId, data: "x", id: "2" },
      { channel: "/meta/unsubscribe", clientId, subscription: "/b", id: "3" },
    ]);
    const body = res.json();
    assert.deepEqual(
      body.map((m) => [m.channel, m.id, m.successful]),
      [
        ["/b", "2", undefined],
        ["/meta/subscribe", "1", true],
        ["/b", "2", true],
        ["/meta/unsubscribe", "3", true],
      ],
    );
  });

  it("keeps deliveries queued when a held long-poll is aborted", async () => {
    const clientId = await connected(s.url);
    await post(s.url, [{ channel: "/meta/subscribe", clientId, subscription: "/kept" }]);
    const body = JSON.stringify([
      { channel: "/meta/connect", clientId, connectionType: "long-polling" },
    ]);
    await new Promise<void>((resolve) => {
      const req = request(s.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("error", () => resolve());
      req.end(body, () =>
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50),
      );
    });
    await new Promise((r) => setTimeout(r, 50));
    s.bayeux.publish("/kept", 1);
    const res = await post(s.url, [
      { channel: "/meta/connect", clientId, connectionType: "long-polling" },
    ]);
    assert.deepEqual(res.json()[0], { channel: "/kept", data: 1 });
  });

  it("answers 402 with handshake advice to an unknown client", async () => {
    const res = await post(s.url, [
      { channel: "/meta/connect", clientId: "gone", connectionType: "long-polling" },
    ]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json()[0], {
      channel: "/meta/connect",
      clientId: "gone",
      successful: false,
      error: "402:gone:Unknown client",
      advice: { reconnect: "handshake", interval: 0 },
    });
  });
});

describe("bayeux http: callback-polling (JSONP)", { timeout: 20000 }, () => {
  let s: Running;
  before(async () => {
    s = await startServer({ timeout: 300 });
  });
  after(() => s.close());

  it("wraps the reply in the callback with text/javascript", async () => {
    const message = encodeURIComponent(
      JSON.stringify([{ ...HANDSHAKE, supportedConnectionTypes: ["callback-polling"] }]),
    );
    const res = await get(`${s.url}?jsonp=cb_1&message=${message}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/javascript/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const match = /^\/\*\*\/cb_1\((.*)\);$/s.exec(res.text);
    assert.ok(match, res.text);
    assert.equal(JSON.parse(match[1])[0].successful, true);
  });

  it("marks connects as callback-polling", async () => {
    const clientId = await handshake(s.url);
    const message = encodeURIComponent(
      JSON.stringify([{ channel: "/meta/connect", clientId, connectionType: "callback-polling" }]),
    );
    const res = await get(`${s.url}?jsonp=a.b&message=${message}`);
    assert.match(res.text, /^\/\*\*\/a\.b\(\[/);
    assert.equal(s.bayeux.getSession(clientId)?.connectionType, "callback-polling");
  });

  it("escapes U+2028 and U+2029 in the script", async () => {
    const clientId = await connected(s.url);
    await post(s.url, [{ channel: "/meta/subscribe", clientId, subscription: "/ls" }]);
    s.bayeux.publish("/ls", "a\u2028b\u2029c");
    const message = encodeURIComponent(
      JSON.stringify([{ channel: "/meta/connect", clientId, connectionType: "callback-polling" }]),
    );
    const res = await get(`${s.url}?jsonp=cb&message=${message}`);
    assert.ok(!res.text.includes("\u2028") && !res.text.includes("\u2029"));
    assert.ok(res.text.includes("\\u2028"));
  });

  for (const name of ["alert(1)", "a;b", "1abc", "a b", "", "x".repeat(100), "a..b", "<script>"]) {
    it(`refuses the callback name ${JSON.stringify(name.slice(0, 20))}`, async () => {
      const message = encodeURIComponent(JSON.stringify([HANDSHAKE]));
      const res = await get(`${s.url}?jsonp=${encodeURIComponent(name)}&message=${message}`);
      assert.equal(res.status, 400);
      assert.match(res.headers.get("content-type")!, /^application\/json/);
      assert.ok(!res.text.includes(name) || name === "", "the name is never echoed");
    });
  }
});

describe("bayeux http: CORS", { timeout: 20000 }, () => {
  let s: Running;
  let open: Running;
  let restricted: Running;
  before(async () => {
    s = await startServer();
    open = await startServer({ cors: { origin: true } });
    restricted = await startServer({
      cors: { origin: ["https://ok.example"], credentials: false },
    });
  });
  after(async () => {
    await s.close();
    await open.close();
    await restricted.close();
  });

  it("sends no CORS header to a cross-origin request by default (same origin only)", async () => {
    const preflight = await fetch(s.url, {
      method: "OPTIONS",
      headers: {
        origin: "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(preflight.status, 204);
    for (const res of [
      preflight,
      await post(s.url, [HANDSHAKE], {
        "content-type": "application/json",
        origin: "https://evil.example",
      }),
      await get(`${s.url}?message=${encodeURIComponent(JSON.stringify([HANDSHAKE]))}`, {
        origin: "https://evil.example",
      }),
    ]) {
      for (const name of [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
      ]) {
        assert.equal(res.headers.get(name), null, name);
      }
    }
    // The request itself is still answered: a same-origin page reads it.
    const same = await post(s.url, [HANDSHAKE], {
      "content-type": "application/json",
      origin: new URL(s.url).origin,
    });
    assert.equal(same.json()[0].successful, true);
  });

  it("answers a preflight of an allowed origin", async () => {
    const res = await fetch(open.url, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type");
    assert.match(res.headers.get("access-control-allow-methods")!, /POST/);
    assert.equal(res.headers.get("access-control-max-age"), "86400");
  });

  it("reflects the origin on a cross-origin POST when origin: true", async () => {
    const res = await post(open.url, [HANDSHAKE], {
      "content-type": "application/json",
      origin: "https://app.example",
    });
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(res.headers.get("vary"), "Origin");
  });

  it("sends nothing to an origin outside the allow list", async () => {
    const bad = await post(restricted.url, [HANDSHAKE], {
      "content-type": "application/json",
      origin: "https://evil.example",
    });
    assert.equal(bad.headers.get("access-control-allow-origin"), null);
    const good = await post(restricted.url, [HANDSHAKE], {
      "content-type": "application/json",
      origin: "https://ok.example",
    });
    assert.equal(good.headers.get("access-control-allow-origin"), "https://ok.example");
    assert.equal(good.headers.get("access-control-allow-credentials"), null);
  });
});

describe("bayeux http: bad input", { timeout: 20000 }, () => {
  let s: Running;
  before(async () => {
    s = await startServer({ maxMessageSize: 2048, maxBatchLength: 5 });
  });
  after(() => s.close());

  for (const [name, body, field] of [
    ["non-JSON", "{nope", "400::Bad request"],
    ["a number", "42", "400::Bad request"],
    ["a string", '"hi"', "400::Bad request"],
  ] as const) {
    it(`answers 400 to ${name}`, async () => {
      const res = await post(s.url, body);
      assert.equal(res.status, 400);
      assert.deepEqual(res.json(), [{ successful: false, error: field }]);
    });
  }

  it("answers a batch past maxBatchLength with one error reply per message", async () => {
    const batch = [
      ...Array.from({ length: 5 }, (_, i) => ({ ...HANDSHAKE, id: `m${i}` })),
      { channel: "/meta/connect", id: 7, clientId: "abc", connectionType: "long-polling" },
      "not a message",
    ];
    const res = await post(s.url, batch);
    assert.equal(res.status, 200, "clients read the replies (they resend on other statuses)");
    const replies = res.json();
    assert.equal(replies.length, 7);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(replies[i], {
        channel: "/meta/handshake",
        id: `m${i}`,
        successful: false,
        error: "400:5:Too many messages",
      });
    }
    assert.deepEqual(replies[5], {
      channel: "/meta/connect",
      id: 7,
      clientId: "abc",
      successful: false,
      error: "400:5:Too many messages",
    });
    assert.deepEqual(replies[6], {
      channel: "",
      successful: false,
      error: "400:5:Too many messages",
    });
    assert.equal(s.bayeux.sessionCount, 0, "nothing in the batch was processed");
  });

  it("accepts a batch exactly at maxBatchLength", async () => {
    const res = await post(s.url, Array(5).fill(HANDSHAKE));
    assert.equal(res.status, 200);
    assert.equal(res.json().length, 5);
  });

  it("answers 413 to a body past maxMessageSize, and accepts one at it", async () => {
    const pad = (n: number) => JSON.stringify([{ ...HANDSHAKE, ext: { pad: "" } }]).length + n;
    const big = JSON.stringify([{ ...HANDSHAKE, ext: { pad: "x".repeat(2048 - pad(0) + 1) } }]);
    assert.equal(Buffer.byteLength(big), 2049);
    const res = await post(s.url, big);
    assert.equal(res.status, 413);
    assert.equal(res.json()[0].error, "413::Message too large");
    const fits = JSON.stringify([{ ...HANDSHAKE, ext: { pad: "x".repeat(2048 - pad(0)) } }]);
    assert.equal((await post(s.url, fits)).status, 200);
    const getBig = await get(`${s.url}?message=${encodeURIComponent(big)}`);
    assert.equal(getBig.status, 413);
  });

  it("answers 400 to a GET without message and a form without the field", async () => {
    assert.equal((await get(s.url)).status, 400);
    const res = await post(s.url, "other=1", {
      "content-type": "application/x-www-form-urlencoded",
    });
    assert.equal(res.status, 400);
    assert.equal(res.json()[0].error, "402:message:Missing required parameter");
  });

  it("answers 405 to other methods", async () => {
    const res = await fetch(s.url, { method: "PUT", body: "[]" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, POST, OPTIONS");
  });

  it("is not polluted by __proto__ keys", async () => {
    const body = `[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"__proto__":{"polluted":true},"ext":{"__proto__":{"polluted":true}}}]`;
    const res = await post(s.url, body);
    assert.equal(res.json()[0].successful, true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("answers a message without a channel and keeps serving", async () => {
    const res = await post(s.url, [{ id: "z" }, null, []]);
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.json().map((m) => m.error),
      [
        "402:channel:Missing required parameter",
        "400::Message is not an object",
        "400::Message is not an object",
      ],
    );
    assert.equal((await post(s.url, [HANDSHAKE])).json()[0].successful, true);
  });
});
