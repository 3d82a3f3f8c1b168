/**
 * The node's slow-consumer list (what the dashboard shows) names the
 * Socket.IO connections that missed volatile packets: a direct volatile emit
 * to a busy socket, a volatile broadcast to a small room (walked socket by
 * socket) and to a big one (written through its fan-out list). Each entry
 * is the connection's Engine.IO id with the packets it missed, and the
 * drop counter agrees. Real socket.io-client sockets over websocket.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import { nodeStats } from "../../src/ops/node-stats.js";
import { until } from "../socketio/raw-clients.js";
import { startNode, type TestNode } from "./dashboard-node.js";

function join(socket: ClientSocket, room: string): Promise<void> {
  return new Promise((resolve) => socket.emit("join", room, () => resolve()));
}

/** The Engine.IO ids of the server sockets in `room`. */
function engineIds(node: TestNode, room: string): string[] {
  const ids = node.io.of("/").adapter.rooms.get(room) ?? new Set<string>();
  return [...ids].map((id) => node.io.of("/").sockets.get(id)?.conn.id as string).sort();
}

describe("slow consumers: Socket.IO volatile drops", { timeout: 30_000 }, () => {
  let node: TestNode;

  before(async () => {
    node = await startNode();
  });
  after(() => node.close());

  function slowList(): [string, string, number][] {
    return nodeStats({ io: node.io })
      .snapshot()
      .slowConsumers.map((s) => [s.protocol, s.id, s.dropped]);
  }

  it("lists a socket that missed direct volatile emits", async () => {
    const client = await node.socket("websocket");
    let got = 0;
    client.on("v", () => got++);
    client.on("end", () => got++);
    const server = node.io.of("/").sockets.get(client.id as string);
    assert.ok(server);
    const dropsBefore = node.io.stats.volatileDrops;
    // A volatile packet is dropped while a write is in flight: the first goes, two do not.
    server.volatile.emit("v");
    server.volatile.emit("v");
    server.volatile.emit("v");
    server.emit("end");
    await until(() => got === 2, 5000, "the first volatile packet and the end");
    assert.equal(node.io.stats.volatileDrops - dropsBefore, 2);
    assert.deepEqual(slowList(), [["socketio", server.conn.id, 2]]);
    client.disconnect();
  });

  it("lists each member of a small and of a big room that missed volatile broadcasts", async () => {
    const small = [await node.socket("websocket"), await node.socket("websocket")];
    for (const socket of small) await join(socket, "small");
    // 16 members and more: the room is written through its fan-out list.
    const big: ClientSocket[] = [];
    for (let i = 0; i < 16; i++) big.push(await node.socket("websocket"));
    for (const socket of big) await join(socket, "big");
    const seen = new Map<ClientSocket, number>();
    for (const socket of [...small, ...big]) {
      seen.set(socket, 0);
      socket.on("v", () => seen.set(socket, (seen.get(socket) ?? 0) + 1));
      socket.on("end", () => seen.set(socket, (seen.get(socket) ?? 0) + 100));
    }
    const dropsBefore = node.io.stats.volatileDrops;
    for (const room of ["small", "big"]) {
      node.io.to(room).volatile.emit("v");
      node.io.to(room).volatile.emit("v");
    }
    node.io.to("small").to("big").emit("end");
    await until(
      () => [...seen.values()].every((n) => n === 101),
      5000,
      "one volatile packet and the end at every member",
    );
    assert.equal(node.io.stats.volatileDrops - dropsBefore, 18);
    const listed = new Map(slowList().map(([protocol, id, dropped]) => [id, [protocol, dropped]]));
    for (const id of [...engineIds(node, "small"), ...engineIds(node, "big")]) {
      assert.deepEqual(listed.get(id), ["socketio", 1], `connection ${id}`);
    }
    const drops = nodeStats({ io: node.io }).snapshot().slowConsumerDrops.socketio;
    assert.equal(drops, 20, "the 2 direct and the 18 broadcast drops");
  });
});
