/**
 * `switchboard --redis-url … --forward-sessions` (and `--advertise`): three
 * standalone nodes behind a round-robin proxy, with recovery on (the default
 * with `--redis-url`: Socket.IO recovery and the Bayeux channel log), serve a
 * long-polling and an upgrading Socket.IO client, each connected once, and
 * Faye clients; the option checks of the two flags. Needs the shared Redis
 * (fails under CI=true without it).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { io as ioc, type Socket } from "socket.io-client";
import { parseCli } from "../../src/cli/options.js";
import type { RunningServer } from "../../src/cli/server.js";
import { startClusterNode } from "../helpers/cli-node.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { REDIS_URL, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";
import { until } from "../socketio/raw-clients.js";

const skip = await redisSkip("shared");

describe("switchboard --forward-sessions: three nodes, no sticky sessions", { skip }, () => {
  const prefix = uniquePrefix("nosticky-cli");
  const nodes: RunningServer[] = [];
  const clients: Socket[] = [];
  const fayes: FayeClient[] = [];
  let proxy: RoundRobinProxy;

  before(async () => {
    for (const id of ["fa", "fb", "fc"]) {
      nodes.push(
        await startClusterNode(
          { redisUrl: REDIS_URL, nodeId: id, prefix, forwardSessions: true },
          { recovery: { window: 60_000 } },
        ),
      );
    }
    proxy = await startRoundRobinProxy(nodes.map((n) => n.port));
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(fayes.map(shutdown));
    await proxy?.close();
    await Promise.all(nodes.map((node) => node.close()));
  });

  it("publishes Bayeux messages through the channel log", () => {
    assert.ok(
      nodes.every((n) => n.bayeux?.channelLog !== null && n.bayeux?.channelLog !== undefined),
    );
  });

  it("records each node's listening address for its peers", () => {
    assert.deepEqual(
      nodes.map((n) => [n.io.engine.advertise, n.bayeux?.records.advertise]),
      nodes.map((n) => [`http://127.0.0.1:${n.port}`, `http://127.0.0.1:${n.port}`]),
    );
  });

  for (const transports of [["polling"], undefined] as const) {
    it(`connects a ${transports ? "polling" : "polling → websocket"} client once`, async () => {
      const client = ioc(proxy.url, {
        forceNew: true,
        reconnection: false,
        ...(transports ? { transports: [...transports] } : {}),
      });
      clients.push(client);
      let connects = 0;
      const errors: unknown[] = [];
      client.on("connect", () => connects++);
      client.on("connect_error", (err) => errors.push(err));
      await until(() => connects === 1, 8000, "connect");
      if (!transports) {
        await until(() => client.io.engine.transport.name === "websocket", 8000, "upgrade");
      }
      // A run of acked round trips through whichever node the proxy picks.
      const before = proxy.sent.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 6; i++) {
        const reply = await client.timeout(5000).emitWithAck("nickname", `n${i}`);
        assert.deepEqual(reply, { ok: true, nickname: `n${i}` });
      }
      assert.ok(client.connected, "still connected");
      assert.equal(connects, 1);
      assert.deepEqual(errors, []);
      if (transports) assert.ok(proxy.sent.reduce((a, b) => a + b, 0) > before);
    });
  }

  it("serves a Faye long-polling client: one handshake, no failure, publishes once", async () => {
    const client = new faye.Client(`${proxy.url}/bayeux`, { timeout: 5, retry: 1 });
    fayes.push(client);
    client.disable("websocket");
    let handshakes = 0;
    const failures: unknown[] = [];
    client.addExtension({
      outgoing(m: { channel: string }, cb: (m: unknown) => void) {
        if (m.channel === "/meta/handshake") handshakes++;
        cb(m);
      },
      incoming(m: { successful?: boolean; error?: string }, cb: (m: unknown) => void) {
        if (m.successful === false) failures.push(m.error);
        cb(m);
      },
    });
    const got: unknown[] = [];
    await client.subscribe("/nosticky/cli", (data) => got.push(data));
    for (const [i, node] of nodes.entries()) {
      await node.bayeux?.hub.settled();
      node.bayeux?.publish("/nosticky/cli", { i });
      await until(() => got.length === i + 1, 8000, `publish ${i}`);
    }
    assert.deepEqual(got, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    assert.equal(handshakes, 1);
    assert.deepEqual(failures, []);
  });
});

describe("--forward-sessions and --advertise options", () => {
  const base = ["--redis-url", "redis://127.0.0.1:6379"];
  it("turns forwarding on, --advertise implying it", () => {
    const plain = parseCli([...base, "--forward-sessions"], {});
    assert.equal(plain.kind === "serve" && plain.options.cluster?.forwardSessions, true);
    const advertised = parseCli([...base, "--advertise", "http://10.0.0.5:3000"], {});
    assert.ok(advertised.kind === "serve");
    assert.equal(advertised.options.cluster?.forwardSessions, true);
    assert.equal(advertised.options.cluster?.advertise, "http://10.0.0.5:3000");
  });

  it("refuses them without --redis-url and a bad address", () => {
    assert.throws(() => parseCli(["--forward-sessions"], {}), /without --redis-url/);
    assert.throws(
      () => parseCli([...base, "--advertise", "https://x:1"], {}),
      /invalid --advertise/,
    );
  });
});
