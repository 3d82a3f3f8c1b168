/**
 * Broadcasts to a large room take a shorter path (a member list of the room,
 * written connection by connection). These tests drive that path with real
 * socket.io-client connections and check it delivers exactly what the long
 * path would: to every member once, never to the excluded sender, to polling
 * members too, after joins and leaves, with volatile and with listeners that
 * need the long path (outgoing catch-alls, engine per-packet events).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Socket } from "../../src/index.js";
import { type Harness, startServer } from "./helpers.js";

const MEMBERS = 20;

interface Member {
  client: ClientSocket;
  server: Socket;
  got: unknown[];
}

async function join(h: Harness, transports: ("polling" | "websocket")[]): Promise<Member> {
  const client = h.client("/", { transports });
  const got: unknown[] = [];
  client.on("m", (value: unknown) => got.push(value));
  const [server] = (await once(h.io, "connection")) as [Socket];
  server.join("big");
  if (!client.connected)
    await new Promise((resolve) => client.once("connect", () => resolve(null)));
  return { client, server, got };
}

/** `MEMBERS` websocket clients joined to the room "big". */
async function bigRoom(h: Harness): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < MEMBERS; i++) members.push(await join(h, ["websocket"]));
  return members;
}

/** Waits until every member's list has `count` entries (or fails after 3 s). */
async function settle(members: Member[], count: (m: Member) => number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (members.some((m) => m.got.length < count(m))) {
    if (Date.now() > deadline) throw new Error("deliveries missing");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}

describe("broadcast to a large room", { timeout: 20000 }, () => {
  let h: Harness;
  const members: Member[] = [];

  before(async () => {
    h = await startServer();
    for (let i = 0; i < MEMBERS - 1; i++) members.push(await join(h, ["websocket"]));
    members.push(await join(h, ["polling"]));
  });

  after(async () => {
    await h.close();
  });

  const reset = () => {
    for (const m of members) m.got.length = 0;
  };

  test("every member gets each message once, in order, websocket and polling alike", async () => {
    reset();
    for (let i = 0; i < 5; i++) h.io.to("big").emit("m", i);
    await settle(members, () => 5);
    for (const m of members) assert.deepEqual(m.got, [0, 1, 2, 3, 4]);
  });

  test("socket.to(room) leaves the sender out", async () => {
    reset();
    const sender = members[3];
    sender.server.to("big").emit("m", "from 3");
    const others = members.filter((m) => m !== sender);
    await settle(others, () => 1);
    assert.deepEqual(sender.got, []);
    for (const m of others) assert.deepEqual(m.got, ["from 3"]);
  });

  test("a member that left gets nothing; one that joined gets the next message", async () => {
    reset();
    const leaving = members[5];
    leaving.server.leave("big");
    h.io.to("big").emit("m", "after leave");
    await settle(
      members.filter((m) => m !== leaving),
      () => 1,
    );
    assert.deepEqual(leaving.got, []);
    leaving.server.join("big");
    reset();
    h.io.to("big").emit("m", "after join");
    await settle(members, () => 1);
    for (const m of members) assert.deepEqual(m.got, ["after join"]);
  });

  test("a disconnected member is skipped and the rest still get the message", async () => {
    reset();
    const gone = members.pop() as Member;
    const closed = new Promise((resolve) => gone.server.once("disconnect", resolve));
    gone.client.disconnect();
    await closed;
    h.io.to("big").emit("m", "after disconnect");
    await settle(members, () => 1);
    for (const m of members) assert.deepEqual(m.got, ["after disconnect"]);
  });

  test("an outgoing catch-all listener sees the broadcast", async () => {
    reset();
    const seen: unknown[] = [];
    members[0].server.onAnyOutgoing((event, value) => seen.push([event, value]));
    h.io.to("big").emit("m", "watched");
    await settle(members, () => 1);
    assert.deepEqual(seen, [["m", "watched"]]);
  });

  test("engine per-packet events fire for a socket that listens to them", async () => {
    reset();
    const flushed: unknown[] = [];
    members[1].server.conn.on("packetCreate", (packet: { type: string }) =>
      flushed.push(packet.type),
    );
    h.io.to("big").emit("m", "with packet events");
    await settle(members, () => 1);
    assert.deepEqual(flushed, ["message"]);
  });

  test("binary payloads reach every member", async () => {
    reset();
    h.io.to("big").emit("m", Buffer.from([1, 2, 3]));
    await settle(members, () => 1);
    for (const m of members)
      assert.deepEqual(Buffer.from(m.got[0] as ArrayBuffer), Buffer.from([1, 2, 3]));
  });
});

describe("broadcast to a large room: upgrades, server listeners, slow members", {
  timeout: 30000,
}, () => {
  test("a member that upgrades from polling keeps receiving, before and after", async () => {
    const h = await startServer();
    try {
      const members = await bigRoom(h);
      const upgrading = h.client("/", { transports: ["polling", "websocket"] });
      const got: unknown[] = [];
      upgrading.on("m", (value: unknown) => got.push(value));
      const [server] = (await once(h.io, "connection")) as [Socket];
      server.join("big");
      h.io.to("big").emit("m", "before");
      if (server.conn.transport.name !== "websocket") await once(server.conn, "upgrade");
      h.io.to("big").emit("m", "after");
      await settle([...members, { client: upgrading, server, got }], () => 2);
      assert.deepEqual(got, ["before", "after"]);
      for (const m of members) assert.deepEqual(m.got, ["before", "after"]);
    } finally {
      await h.close();
    }
  });

  test("engine-level flush listeners see every recipient's packet", async () => {
    const h = await startServer();
    try {
      const members = await bigRoom(h);
      h.io.to("big").emit("m", "warm");
      await settle(members, () => 1);
      let flushed = 0;
      h.io.engine.on("flush", () => flushed++);
      h.io.to("big").emit("m", "watched");
      await settle(members, () => 2);
      assert.equal(flushed, MEMBERS);
    } finally {
      await h.close();
    }
  });

  test("a member that stops reading is dropped at maxBufferedBytes; the rest keep receiving", async () => {
    const h = await startServer({ maxBufferedBytes: 256 * 1024, transports: ["websocket"] });
    try {
      const members = await bigRoom(h);
      const stalled = members[7];
      const reason = new Promise((resolve) => stalled.server.once("disconnect", resolve));
      const tcp = (
        stalled.client.io.engine.transport as unknown as { ws: { _socket: { pause(): void } } }
      ).ws._socket;
      tcp.pause();
      const chunk = "x".repeat(32 * 1024);
      let sent = 0;
      while (stalled.server.connected && sent < 4096) {
        h.io.to("big").emit("m", chunk);
        sent++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(await reason, "transport error");
      const rest = members.filter((m) => m !== stalled);
      await settle(rest, () => sent);
      for (const m of rest) assert.equal(m.got.length, sent);
    } finally {
      await h.close();
    }
  });
});
