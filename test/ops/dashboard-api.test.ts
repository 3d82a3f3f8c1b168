/**
 * The dashboard API on one node with real clients: socket.io-client sockets
 * over polling and websocket in rooms, Bayeux clients (ours) over
 * long-polling and websocket on channels. The lists show them with their
 * transports, rooms and subscriptions, page and search on the server in a
 * stable order, cap the page size, and the disconnect call ends a socket
 * and a session. The stats answer counts the connections and carries a
 * bounded history.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import type { BayeuxClient } from "../../src/bayeux/client/index.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { call, post, startNode, type TestNode } from "./dashboard-node.js";

function join(socket: ClientSocket, room: string): Promise<void> {
  return new Promise((resolve) => socket.emit("join", room, () => resolve()));
}

function sum(byTransport: Record<string, number>): number {
  return Object.values(byTransport).reduce((a, b) => a + b, 0);
}

describe("dashboard API with real clients", () => {
  let node: TestNode;
  let polling: ClientSocket;
  let ws1: ClientSocket;
  let ws2: ClientSocket;
  let longPoll: BayeuxClient;
  let bayeuxWs: BayeuxClient;
  const get = (path: string) => call(`${node.base}/dashboard${path}`);

  before(async () => {
    node = await startNode({ sampleEvery: 20, historySize: 5 });
    polling = await node.socket("polling");
    ws1 = await node.socket("websocket");
    ws2 = await node.socket("websocket");
    await join(polling, "lobby");
    await join(ws1, "lobby");
    await join(ws1, "games/chess");
    await join(ws2, "games/go");
    longPoll = await node.bayeuxClient("long-polling");
    bayeuxWs = await node.bayeuxClient("websocket");
    await longPoll.subscribe("/news/sport", () => {});
    await bayeuxWs.subscribe("/news/weather", () => {});
    await bayeuxWs.subscribe("/alerts", () => {});
  });
  after(() => node.close());

  it("lists the sockets with transport, rooms, address and node", async () => {
    const answer = await get("/api/sockets");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["cache-control"], "no-store");
    assert.equal(answer.json.total, 3);
    assert.deepEqual(answer.json.missing, []);
    const byId = new Map(answer.json.items.map((s: { id: string }) => [s.id, s]));
    const p = byId.get(polling.id) as Record<string, unknown>;
    assert.equal(p.transport, "polling");
    assert.deepEqual(p.rooms, ["lobby"]);
    assert.equal(p.roomCount, 1);
    assert.equal(p.nsp, "/");
    assert.equal(p.node, node.dashboard.node);
    assert.equal(p.node, node.io.engine.nodeId, "the name node-stats gives the node");
    assert.match(String(p.address), /127\.0\.0\.1/);
    assert.ok(Math.abs(Number(p.connectedAt) - Date.now()) < 60_000);
    const w = byId.get(ws1.id) as Record<string, unknown>;
    assert.equal(w.transport, "websocket");
    assert.deepEqual(w.rooms, ["lobby", "games/chess"]);
    // Connection order.
    assert.deepEqual(
      answer.json.items.map((s: { id: string }) => s.id),
      [polling.id, ws1.id, ws2.id],
    );
  });

  it("pages in a stable order and caps the page size", async () => {
    const first = await get("/api/sockets?limit=2");
    const second = await get("/api/sockets?limit=2&offset=2");
    assert.deepEqual(
      [...first.json.items, ...second.json.items].map((s: { id: string }) => s.id),
      [polling.id, ws1.id, ws2.id],
    );
    assert.equal(second.json.total, 3);
    assert.equal(second.json.offset, 2);
    const capped = await get("/api/sockets?limit=100000");
    assert.equal(capped.json.limit, 100);
    const junk = await get("/api/sockets?limit=-3&offset=abc");
    assert.equal(junk.json.limit, 25);
    assert.equal(junk.json.offset, 0);
    const beyond = await get("/api/sockets?offset=50");
    assert.deepEqual(beyond.json.items, []);
    assert.equal(beyond.json.total, 3);
  });

  it("searches sockets by room and by id", async () => {
    const lobby = await get("/api/sockets?q=lobby");
    assert.equal(lobby.json.total, 2);
    const games = await get(`/api/sockets?q=${encodeURIComponent("games/")}`);
    assert.deepEqual(
      games.json.items.map((s: { id: string }) => s.id),
      [ws1.id, ws2.id],
    );
    const one = await get(`/api/sockets?q=${encodeURIComponent(String(ws2.id).slice(2, 12))}`);
    assert.deepEqual(
      one.json.items.map((s: { id: string }) => s.id),
      [ws2.id],
    );
    const none = await get("/api/sockets?q=no-such-room");
    assert.equal(none.json.total, 0);
    const paged = await get("/api/sockets?q=lobby&limit=1&offset=1");
    assert.equal(paged.json.total, 2);
    assert.deepEqual(
      paged.json.items.map((s: { id: string }) => s.id),
      [ws1.id],
    );
  });

  it("lists and searches Bayeux sessions with transport and subscriptions", async () => {
    const answer = await get("/api/sessions");
    assert.equal(answer.json.total, 2);
    const byId = new Map(answer.json.items.map((s: { clientId: string }) => [s.clientId, s]));
    const lp = byId.get(longPoll.clientId) as Record<string, unknown>;
    assert.equal(lp.transport, "long-polling");
    assert.deepEqual(lp.subscriptions, ["/news/sport"]);
    const ws = byId.get(bayeuxWs.clientId) as Record<string, unknown>;
    assert.equal(ws.transport, "websocket");
    assert.deepEqual([...(ws.subscriptions as string[])].sort(), ["/alerts", "/news/weather"]);
    assert.equal(ws.subscriptionCount, 2);
    const news = await get(`/api/sessions?q=${encodeURIComponent("/news/")}`);
    assert.equal(news.json.total, 2);
    const alerts = await get("/api/sessions?q=alerts");
    assert.deepEqual(
      alerts.json.items.map((s: { clientId: string }) => s.clientId),
      [bayeuxWs.clientId],
    );
  });

  it("counts the connections and keeps a bounded history", async () => {
    // A snapshot is shared for a second: the one taken before the clients came may answer first.
    await untilAsync(
      async () => sum((await get("/api/stats")).json.nodes[0].stats.connections.socketio) === 3,
      5000,
      "a snapshot with the clients",
    );
    const answer = await get("/api/stats?scope=node");
    assert.equal(answer.status, 200);
    const { nodes, sum: total, clustered, sampleEvery } = answer.json;
    assert.equal(clustered, false);
    assert.equal(sampleEvery, 20);
    assert.equal(nodes.length, 1);
    assert.equal(sum(nodes[0].stats.connections.socketio), 3);
    assert.equal(sum(nodes[0].stats.connections.bayeux), 2);
    assert.equal(sum(total.connections.socketio), 3);
    const cluster = await get("/api/stats?scope=cluster");
    assert.equal(cluster.json.scope, "cluster");
    assert.deepEqual(cluster.json.missing, []);
    assert.equal((await get("/api/stats?scope=galaxy")).status, 400);
    // Sampled every 20 ms, at most 5 kept, oldest first.
    await until(() => node.dashboard.report().history.length === 5, 5000, "a full history");
    const history = node.dashboard.report().history;
    assert.equal(history.length, 5);
    for (let i = 1; i < history.length; i++) assert.ok(history[i].time >= history[i - 1].time);
  });

  it("disconnects a socket and a Bayeux session", async () => {
    const gone = new Promise<string>((resolve) => ws2.once("disconnect", resolve));
    const id = ws2.id as string;
    const answer = await post(node.base, "/dashboard/api/disconnect", { protocol: "socketio", id });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, {
      disconnected: true,
      protocol: "socketio",
      id,
      node: node.dashboard.node,
    });
    assert.equal(await gone, "io server disconnect");
    await until(() => node.io.of("/").sockets.size === 2, 5000, "the socket gone");
    assert.equal((await get("/api/sockets")).json.total, 2);

    const clientId = longPoll.clientId as string;
    const ended = await post(node.base, "/dashboard/api/disconnect", {
      protocol: "bayeux",
      id: clientId,
    });
    assert.equal(ended.status, 200);
    assert.equal(node.bayeux.getSession(clientId), undefined);
    const sessions = await get("/api/sessions");
    assert.ok(!sessions.json.items.some((s: { clientId: string }) => s.clientId === clientId));

    const again = await post(node.base, "/dashboard/api/disconnect", {
      protocol: "bayeux",
      id: clientId,
    });
    assert.equal(again.status, 404);
  });
});
