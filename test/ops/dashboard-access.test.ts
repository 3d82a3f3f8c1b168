/**
 * Who the dashboard serves and how it refuses: loopback peers only without
 * a token (a remote peer, a relayed request or a foreign Host name gets 403),
 * the token as a Bearer header or as the cookie the page URL's `?token=`
 * sets, the same-origin rule of the disconnect call, 404 and 405, the
 * headers of every answer, and bad constructor options.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { COOKIE_NAME, Dashboard, DashboardError } from "../../src/ops/dashboard/index.js";
import { call, FAKE_PEER, post, startNode, type TestNode } from "./dashboard-node.js";

const REMOTE = { [FAKE_PEER]: "203.0.113.9" };

describe("dashboard access without a token", () => {
  let node: TestNode;
  before(async () => {
    node = await startNode();
  });
  after(() => node.close());

  it("serves the page, its files and the API to a loopback peer", async () => {
    const page = await call(`${node.base}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    const policy = String(page.headers["content-security-policy"]);
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline/);
    assert.match(page.text, /<script src="\/dashboard\/app\.js" defer><\/script>/);
    assert.doesNotMatch(page.text, /<script>/, "no inline script");
    assert.equal((await call(`${node.base}/dashboard/`)).status, 200);
    const js = await call(`${node.base}/dashboard/app.js`);
    assert.equal(js.status, 200);
    assert.match(String(js.headers["content-type"]), /^text\/javascript/);
    const css = await call(`${node.base}/dashboard/app.css`);
    assert.match(String(css.headers["content-type"]), /^text\/css/);
    const stats = await call(`${node.base}/dashboard/api/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.headers["cache-control"], "no-store");
    assert.equal(stats.json.scope, "node");
    assert.equal(
      (await call(`${node.base}/dashboard/api/stats`, { headers: { Host: "localhost:1" } })).status,
      200,
    );
  });

  it("refuses a remote peer, a relayed request and a foreign Host with 403 JSON", async () => {
    const cases: Record<string, string>[] = [
      REMOTE,
      { "X-Forwarded-For": "203.0.113.9" },
      { Forwarded: "for=203.0.113.9" },
      { Host: "attacker.example" },
    ];
    for (const headers of cases) {
      for (const path of ["/dashboard", "/dashboard/api/stats", "/dashboard/nothing-here"]) {
        const answer = await call(`${node.base}${path}`, { headers });
        assert.equal(answer.status, 403, `${path} ${JSON.stringify(headers)}`);
        assert.equal(answer.json.error.code, "ERR_DASHBOARD_REMOTE");
        assert.equal(answer.headers["cache-control"], "no-store");
      }
    }
  });

  it("answers 404 for unknown dashboard paths and leaves other paths alone", async () => {
    const missing = await call(`${node.base}/dashboard/api/nothing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, "ERR_DASHBOARD_NOT_FOUND");
    assert.equal((await call(`${node.base}/dashboard/index.html`)).status, 404);
    for (const path of ["/dashboardx", "/other", "/"]) {
      const other = await call(`${node.base}${path}`);
      assert.equal(other.status, 404);
      assert.equal(other.text, "app 404", path);
    }
  });

  it("answers 405 with Allow for a wrong method", async () => {
    const onStats = await call(`${node.base}/dashboard/api/stats`, { method: "POST" });
    assert.equal(onStats.status, 405);
    assert.equal(onStats.headers.allow, "GET, HEAD");
    assert.equal(onStats.json.error.code, "ERR_DASHBOARD_METHOD");
    const onPage = await call(`${node.base}/dashboard`, { method: "DELETE" });
    assert.equal(onPage.status, 405);
    const onDisconnect = await call(`${node.base}/dashboard/api/disconnect`);
    assert.equal(onDisconnect.status, 405);
    assert.equal(onDisconnect.headers.allow, "POST");
  });

  it("refuses a disconnect without proof of the same origin", async () => {
    const body = { protocol: "socketio", id: "nobody" };
    const url = `${node.base}/dashboard/api/disconnect`;
    const json = { "Content-Type": "application/json" };
    for (const headers of [
      json,
      { ...json, Origin: "http://attacker.example" },
      { ...json, Origin: node.base, "Sec-Fetch-Site": "cross-site" },
      { ...json, "Sec-Fetch-Site": "same-site" },
      { ...json, Origin: "null" },
    ]) {
      const answer = await call(url, { method: "POST", headers, body: JSON.stringify(body) });
      assert.equal(answer.status, 403, JSON.stringify(headers));
      assert.equal(answer.json.error.code, "ERR_DASHBOARD_CROSS_SITE");
    }
    // The same origin passes (and nobody holds that id).
    assert.equal((await post(node.base, "/dashboard/api/disconnect", body)).status, 404);
    const onlySite = await call(url, {
      method: "POST",
      headers: { ...json, "Sec-Fetch-Site": "same-origin" },
      body: JSON.stringify(body),
    });
    assert.equal(onlySite.status, 404);
    // A form post (no preflight cross-site) is not taken, nor is a bad body.
    const form = await call(url, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Origin: node.base },
      body: JSON.stringify(body),
    });
    assert.equal(form.status, 415);
    const bad = await post(node.base, "/dashboard/api/disconnect", { protocol: "mqtt", id: "x" });
    assert.equal(bad.status, 400);
    const big = await post(node.base, "/dashboard/api/disconnect", { id: "x".repeat(5000) });
    assert.equal(big.status, 413);
  });
});

describe("dashboard access with allowRemote", () => {
  let node: TestNode;
  before(async () => {
    node = await startNode({ allowRemote: true });
  });
  after(() => node.close());

  it("serves any peer", async () => {
    const answer = await call(`${node.base}/dashboard/api/stats`, { headers: REMOTE });
    assert.equal(answer.status, 200);
  });
});

describe("dashboard access with a token", () => {
  const token = "s3cret-token-for-tests";
  let node: TestNode;
  before(async () => {
    node = await startNode({ token });
  });
  after(() => node.close());

  it("needs the token from every peer, loopback included", async () => {
    const cases: Record<string, string>[] = [
      {},
      { Authorization: "Bearer wrong" },
      { Authorization: `Basic ${token}` },
    ];
    for (const headers of cases) {
      const answer = await call(`${node.base}/dashboard/api/stats`, { headers });
      assert.equal(answer.status, 401, JSON.stringify(headers));
      assert.equal(answer.json.error.code, "ERR_DASHBOARD_UNAUTHORIZED");
    }
    assert.equal((await call(`${node.base}/dashboard/app.js`)).status, 401);
    const remote = await call(`${node.base}/dashboard/api/stats`, {
      headers: { ...REMOTE, Authorization: `Bearer ${token}` },
    });
    assert.equal(remote.status, 200);
    assert.equal(node.dashboard.tokenRequired, true);
  });

  it("turns ?token= on the page URL into a cookie scoped to the path, then redirects", async () => {
    const wrong = await call(`${node.base}/dashboard?token=nope`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers["set-cookie"], undefined);
    const opened = await call(`${node.base}/dashboard/?token=${token}&view=x`);
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.location, "/dashboard/?view=x");
    const [cookie] = opened.headers["set-cookie"] as string[];
    assert.match(cookie, new RegExp(`^${COOKIE_NAME}=`));
    assert.match(cookie, /; Path=\/dashboard(;|$)/);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.ok(!cookie.includes(token), "the cookie does not hold the token itself");
    const pair = cookie.split(";")[0];
    const page = await call(`${node.base}/dashboard/`, { headers: { Cookie: `a=b; ${pair}` } });
    assert.equal(page.status, 200);
    const stats = await call(`${node.base}/dashboard/api/stats`, { headers: { Cookie: pair } });
    assert.equal(stats.status, 200);
    const forged = await call(`${node.base}/dashboard/api/stats`, {
      headers: { Cookie: `${COOKIE_NAME}=${token}` },
    });
    assert.equal(forged.status, 401);
  });

  it("needs both the token and the same origin to disconnect", async () => {
    const body = { protocol: "bayeux", id: "nobody" };
    const noToken = await post(node.base, "/dashboard/api/disconnect", body);
    assert.equal(noToken.status, 401);
    const auth = { Authorization: `Bearer ${token}` };
    const crossSite = await call(`${node.base}/dashboard/api/disconnect`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json", Origin: "http://attacker.example" },
      body: JSON.stringify(body),
    });
    assert.equal(crossSite.status, 403);
    const both = await post(node.base, "/dashboard/api/disconnect", body, auth);
    assert.equal(both.status, 404);
    assert.equal(both.json.error.code, "ERR_DASHBOARD_GONE");
  });
});

describe("dashboard options", () => {
  it("refuses what cannot work with ERR_DASHBOARD_OPTIONS", async () => {
    const node = await startNode();
    try {
      const io = node.io;
      const bad = [
        {},
        { io, token: "" },
        { io, path: "/" },
        { io, path: "no-slash" },
        { io, sampleEvery: 0 },
        { io, historySize: -1 },
      ];
      for (const options of bad) {
        assert.throws(
          () => new Dashboard(options),
          (err: unknown) => err instanceof DashboardError && err.code === "ERR_DASHBOARD_OPTIONS",
          JSON.stringify(Object.keys(options)),
        );
      }
      const custom = new Dashboard({ io, path: "/ops/live/" });
      assert.equal(custom.path, "/ops/live");
      custom.close();
    } finally {
      await node.close();
    }
  });

  it("answers 503 once closed", async () => {
    const node = await startNode();
    try {
      node.dashboard.close();
      const answer = await call(`${node.base}/dashboard/api/stats`);
      assert.equal(answer.status, 503);
      assert.equal(answer.json.error.code, "ERR_DASHBOARD_CLOSED");
    } finally {
      await node.close();
    }
  });
});
