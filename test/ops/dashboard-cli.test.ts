/**
 * The dashboard in the standalone server: on by default at /dashboard for
 * loopback peers (and the start line says so), behind a token with
 * --dashboard-token, absent with --no-dashboard (the demo's 404 answers),
 * and two CLI nodes on one Redis answering for each other.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ServeOptions } from "../../src/cli/options.js";
import { type RunningServer, startServer } from "../../src/cli/server.js";
import { repo } from "../browser/cli-server.js";
import { LOCAL_SERVE, startClusterNode } from "../helpers/cli-node.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";
import { call } from "./dashboard-node.js";

const quiet = { log: () => {} };
const base = (running: RunningServer) => `http://127.0.0.1:${running.port}`;

/** The first two log records `switchboard` prints with `args`, then stops it. */
async function startLines(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(repo, "src", "cli", "main.ts"),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...args,
    ],
    {
      cwd: repo,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, REDIS_URL: "", ...env },
    },
  );
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await until(() => out.split("\n").length > 2, 20_000, "two start lines");
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  return out;
}

describe("dashboard in the standalone server", () => {
  const running: RunningServer[] = [];
  const start = async (extra: Partial<ServeOptions> = {}) => {
    const server = await startServer({ ...LOCAL_SERVE, ...extra }, quiet);
    running.push(server);
    return server;
  };
  after(async () => {
    for (const server of running) await server.close();
  });

  it("serves /dashboard to loopback peers by default", async () => {
    const server = await start();
    assert.ok(server.dashboard);
    assert.equal(server.dashboard.path, "/dashboard");
    assert.equal(server.dashboard.tokenRequired, false);
    const page = await call(`${base(server)}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.text, /Switchboard dashboard/);
    const stats = await call(`${base(server)}/dashboard/api/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.json.node, server.dashboard.node);
    const remote = await call(`${base(server)}/dashboard/api/stats`, {
      headers: { "X-Forwarded-For": "203.0.113.9" },
    });
    assert.equal(remote.status, 403);
    // The demo is still there.
    assert.equal((await call(`${base(server)}/`)).status, 200);
  });

  it("asks for the token with dashboard.token", async () => {
    const server = await start({ dashboard: { token: "cli-token-123" } });
    assert.equal((await call(`${base(server)}/dashboard/api/stats`)).status, 401);
    const ok = await call(`${base(server)}/dashboard/api/stats`, {
      headers: { Authorization: "Bearer cli-token-123" },
    });
    assert.equal(ok.status, 200);
  });

  it("serves nothing at /dashboard with dashboard: false", async () => {
    const server = await start({ dashboard: false });
    assert.equal(server.dashboard, null);
    const answer = await call(`${base(server)}/dashboard/api/stats`);
    assert.equal(answer.status, 404);
    assert.equal(answer.json, undefined, "the demo's plain 404, not the dashboard's");
  });

  it("says at start who may see the dashboard", { timeout: 60_000 }, async () => {
    const open = await startLines([]);
    assert.match(open, /dashboard at http:\/\/127\.0\.0\.1:\d+\/dashboard \(loopback peers only/);
    assert.match(open, /"access":"loopback"/);
    const guarded = await startLines([], { SWITCHBOARD_DASHBOARD_TOKEN: "env-token-123" });
    assert.match(guarded, /dashboard at http:\/\/127\.0\.0\.1:\d+\/dashboard \(token required/);
    assert.match(guarded, /"access":"token"/);
    assert.ok(!guarded.includes("env-token-123"), "the token is never printed");
  });
});

describe("dashboard of two CLI nodes on Redis", { skip: await redisSkip("shared") }, () => {
  const nodes: RunningServer[] = [];
  after(async () => {
    for (const node of nodes) await node.close();
  });

  it("answers for both nodes", { timeout: 30_000 }, async () => {
    const prefix = uniquePrefix("dashboard-cli");
    for (const nodeId of ["dash-a", "dash-b"]) {
      nodes.push(
        await startClusterNode({ redisUrl: REDIS_URL, nodeId, prefix, readyTimeout: 5000 }),
      );
    }
    const [a] = nodes;
    await until(() => a.broker?.nodes().includes("dash-b") === true, 10_000, "node b seen");
    const answer = await call(`${base(a)}/dashboard/api/stats?scope=cluster`);
    assert.equal(answer.status, 200);
    assert.deepEqual(
      answer.json.nodes.map((n: { node: string }) => n.node),
      ["dash-a", "dash-b"],
    );
    assert.deepEqual(answer.json.missing, []);
  });
});
