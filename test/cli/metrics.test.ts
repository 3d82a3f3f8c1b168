/**
 * The standalone server's `/metrics`: served by default (and what it says
 * after a client connects), off with `--no-metrics` / SWITCHBOARD_METRICS=0,
 * and on a two-node Redis cluster the broker's figures: nodes seen, a
 * broadcast published on one node and received on the other (and how long
 * messages took from a's send to b's receipt), a cluster query
 * (`fetchSockets`) counted with its latency (shared Redis; fails under
 * CI=true without it).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import { parseCli } from "../../src/cli/options.js";
import type { RunningServer } from "../../src/cli/server.js";
import { startServer } from "../../src/cli/server.js";
import { LOCAL_SERVE, startClusterNode } from "../helpers/cli-node.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { parseExposition, sampleOf, scrape } from "../ops/metrics-helpers.js";
import { until, untilAsync } from "../socketio/raw-clients.js";

const CLIENT = { transports: ["websocket"], forceNew: true, reconnection: false };

describe("the standalone server's /metrics", () => {
  it("is served by default and counts the node's clients", { timeout: 15_000 }, async () => {
    const running = await startServer({ ...LOCAL_SERVE }, { log: () => {} });
    const client = connect(`http://127.0.0.1:${running.port}`, CLIENT);
    try {
      await until(() => client.connected, 5000, "the connect");
      assert.ok(running.metrics);
      const { samples, type } = await scrape(running.port);
      assert.equal(type, "text/plain; version=0.0.4; charset=utf-8");
      assert.equal(
        sampleOf(samples, 'switchboard_connections{protocol="socketio",transport="websocket"}'),
        1,
      );
      assert.equal(sampleOf(samples, 'switchboard_handshakes_total{protocol="bayeux"}'), 0);
      assert.equal(samples.has("switchboard_cluster_nodes"), false);
      const head = await fetch(`http://127.0.0.1:${running.port}/metrics?x=1`, { method: "HEAD" });
      assert.equal(head.status, 200);
    } finally {
      client.close();
      await running.close();
    }
  });

  it("is not served with metrics off", { timeout: 15_000 }, async () => {
    const running = await startServer({ ...LOCAL_SERVE, metrics: false }, { log: () => {} });
    try {
      assert.equal(running.metrics, null);
      const res = await fetch(`http://127.0.0.1:${running.port}/metrics`);
      assert.equal(res.status, 404);
      await res.text();
    } finally {
      await running.close();
    }
  });

  it("parses --no-metrics and SWITCHBOARD_METRICS", () => {
    const serve = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const command = parseCli(argv, env);
      assert.equal(command.kind, "serve");
      return command.kind === "serve" ? command.options : undefined;
    };
    assert.equal(serve([])?.metrics, undefined, "on by default");
    assert.equal(serve(["--no-metrics"])?.metrics, false);
    assert.equal(serve([], { SWITCHBOARD_METRICS: "0" })?.metrics, false);
    assert.equal(serve([], { SWITCHBOARD_METRICS: "1" })?.metrics, undefined);
    assert.equal(serve(["--no-metrics"], { SWITCHBOARD_METRICS: "1" })?.metrics, false);
    assert.throws(() => parseCli([], { SWITCHBOARD_METRICS: "yes" }), /SWITCHBOARD_METRICS/);
    assert.throws(() => parseCli(["--bayeux-path", "/metrics"], {}), /would hide \/metrics/);
  });
});

describe("a cluster's /metrics", { skip: await redisSkip("shared") }, () => {
  let a: RunningServer;
  let b: RunningServer;
  let client: ClientSocket;
  const prefix = uniquePrefix("metrics");

  before(async () => {
    a = await startClusterNode({ redisUrl: REDIS_URL, nodeId: "metrics-a", prefix });
    b = await startClusterNode({ redisUrl: REDIS_URL, nodeId: "metrics-b", prefix });
  });
  after(async () => {
    client?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it("counts nodes seen, broker publishes and receipts, and cluster queries", {
    timeout: 30_000,
  }, async () => {
    const samplesOf = async (node: RunningServer) => (await scrape(node.port)).samples;
    for (const node of [a, b]) {
      await untilAsync(
        async () => (await samplesOf(node)).get("switchboard_cluster_nodes") === 2,
        10_000,
        "both nodes to see each other",
      );
    }
    // a watched before b joined: it saw b come up.
    assert.equal(
      sampleOf(await samplesOf(a), 'switchboard_cluster_node_events_total{event="up"}'),
      1,
    );

    const got: unknown[] = [];
    client = connect(`http://127.0.0.1:${b.port}`, CLIENT);
    client.on("hello", (data: unknown) => got.push(data));
    await until(() => client.connected, 5000, "the connect to b");
    const beforeA = await samplesOf(a);
    const beforeB = await samplesOf(b);
    const delta = (now: Map<string, number>, then: Map<string, number>, series: string) =>
      sampleOf(now, series) - sampleOf(then, series);

    // A broadcast on a reaches b's client through Redis.
    await untilAsync(
      async () => {
        a.io.emit("hello", "from a");
        await until(() => got.length > 0, 500, "the broadcast").catch(() => {});
        return got.length > 0;
      },
      10_000,
      "a broadcast from a to reach b's client",
    );
    const published = await samplesOf(a);
    const sent = delta(published, beforeA, "switchboard_broker_published_total");
    assert.ok(sent >= 1, `a published ${sent}`);
    await untilAsync(
      async () =>
        delta(await samplesOf(b), beforeB, 'switchboard_deliveries_total{protocol="socketio"}') ===
        got.length,
      5000,
      "b's deliveries",
    );
    const afterB = await samplesOf(b);
    assert.ok(delta(afterB, beforeB, "switchboard_broker_received_total") >= got.length);
    assert.ok(
      delta(published, beforeA, "switchboard_broker_publish_duration_seconds_count") >= 1,
      "a timed its publishes to Redis",
    );
    assert.ok(
      delta(afterB, beforeB, "switchboard_broker_receive_latency_seconds_count") >= got.length,
      "b timed each message from a",
    );

    // Receive latency: 100 more broadcasts, each timed once on b from a's send time
    // (whole milliseconds each, so only their sum over many is sure to be above 0).
    const timed = got.length;
    for (let i = 0; i < 100; i++) a.io.emit("hello", i);
    await until(() => got.length === timed + 100, 10_000, "the 100 broadcasts on b");
    const latencyB = await samplesOf(b);
    const count = delta(latencyB, afterB, "switchboard_broker_receive_latency_seconds_count");
    const sum = delta(latencyB, afterB, "switchboard_broker_receive_latency_seconds_sum");
    assert.ok(count >= 100, `b timed ${count} messages`);
    assert.ok(sum > 0 && sum < count, `b's latency sum ${sum} s over ${count} messages`);
    assert.equal(
      sampleOf(latencyB, 'switchboard_broker_receive_latency_seconds_bucket{le="+Inf"}'),
      sampleOf(latencyB, "switchboard_broker_receive_latency_seconds_count"),
    );

    // A cluster query from a: one request, answered by b, timed.
    const sockets = await a.io.fetchSockets();
    assert.deepEqual(
      sockets.map((s) => s.id),
      [client.id],
    );
    const queried = await samplesOf(a);
    assert.equal(delta(queried, published, "switchboard_cluster_requests_total"), 1);
    assert.equal(
      delta(queried, published, "switchboard_cluster_request_duration_seconds_count"),
      1,
    );
    assert.equal(delta(queried, published, "switchboard_cluster_partial_answers_total"), 0);
    assert.ok(sampleOf(queried, "switchboard_cluster_request_duration_seconds_sum") > 0);
    // The exposition stays parseable with every family present.
    assert.ok(parseExposition((await scrape(a.port)).text).size > 50);
  });
});
