/** Connection state recovery with socket.io-client 4.8 after a forced disconnect. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Socket } from "../../src/index.js";
import { MODES, sleep, startServer, waitFor } from "../socketio/helpers.js";

const T = { timeout: 10_000 };
const RECONNECT = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 };

for (const mode of MODES) {
  describe(`connection state recovery over ${mode.name}`, () => {
    it("replays missed packets and restores id, rooms and data", T, async () => {
      const h = await startServer({ connectionStateRecovery: {} }, mode);
      const sockets: Socket[] = [];
      h.io.on("connection", (s) => {
        sockets.push(s);
        if (!s.recovered) {
          s.join("room1");
          s.data.user = "ada";
        }
      });
      const client = h.client("/", RECONNECT);
      await waitFor(client, "connect");
      assert.equal(client.recovered, false);
      const first = sockets[0];
      const events: unknown[][] = [];
      client.on("news", (...args: unknown[]) => events.push(args));
      h.io.emit("news", "before");
      await waitFor(client, "news");
      assert.equal(typeof events[0][1], "string", "broadcast carries an offset last");

      const gone = waitFor(first, "disconnect");
      first.conn.close();
      assert.equal((await gone)[0], "forced close");
      h.io.to("room1").emit("news", "missed-room");
      h.io.emit("news", "missed-all");
      h.io.to("elsewhere").emit("news", "not-for-me");
      first.emit("news", "missed-direct");
      h.io.volatile.emit("news", "volatile-not-kept");

      await waitFor(client, "connect");
      assert.equal(client.recovered, true);
      await sleep(100);
      const second = sockets[1];
      assert.equal(second.recovered, true);
      assert.equal(second.id, first.id);
      assert.equal(client.id, first.id);
      assert.deepEqual([...second.rooms].sort(), [first.id, "room1"].sort());
      assert.deepEqual(second.data, { user: "ada" });
      assert.deepEqual(
        events.map((e) => e[0]),
        ["before", "missed-room", "missed-all", "missed-direct"],
      );
      h.io.emit("news", "after");
      await waitFor(client, "news");
      assert.equal(events.at(-1)?.[0], "after");
      client.disconnect();
      await h.close();
    });
  });
}

describe("connection state recovery limits", () => {
  it(
    "does not recover an unknown session, an expired one, or after a client disconnect",
    T,
    async () => {
      const h = await startServer({ connectionStateRecovery: { maxDisconnectionDuration: 100 } });
      const sockets: Socket[] = [];
      h.io.on("connection", (s) => sockets.push(s));
      const client = h.client("/", RECONNECT);
      await waitFor(client, "connect");
      h.io.emit("tick");
      await waitFor(client, "tick");

      // Expired: away longer than maxDisconnectionDuration.
      client.io.reconnectionDelay(300);
      client.io.reconnectionDelayMax(300);
      sockets[0].conn.close();
      await waitFor(client, "connect");
      assert.equal(client.recovered, false);
      assert.notEqual(sockets[1].id, sockets[0].id);

      // Unknown pid.
      h.io.emit("tick");
      await waitFor(client, "tick");
      (client as unknown as { _pid: string })._pid = "forged";
      client.io.reconnectionDelay(20);
      client.io.reconnectionDelayMax(20);
      sockets[1].conn.close();
      await waitFor(client, "connect");
      assert.equal(client.recovered, false);
      assert.equal(sockets[2].recovered, false);
      client.disconnect();
      await h.close();
    },
  );

  it("runs middlewares for a recovered socket when skipMiddlewares is false", T, async () => {
    const h = await startServer({ connectionStateRecovery: { skipMiddlewares: false } });
    let runs = 0;
    h.io.use((_s, next) => {
      runs++;
      next();
    });
    const sockets: Socket[] = [];
    h.io.on("connection", (s) => sockets.push(s));
    const client = h.client("/", RECONNECT);
    await waitFor(client, "connect");
    h.io.emit("tick");
    await waitFor(client, "tick");
    sockets[0].conn.close();
    await waitFor(client, "connect");
    assert.equal(client.recovered, true);
    assert.equal(runs, 2);
    client.disconnect();
    await h.close();
  });

  it("keeps at most maxBufferedPackets packets: older offsets cannot recover", T, async () => {
    const h = await startServer({ connectionStateRecovery: { maxBufferedPackets: 3 } });
    const sockets: Socket[] = [];
    h.io.on("connection", (s) => sockets.push(s));
    const client = h.client("/", RECONNECT);
    await waitFor(client, "connect");
    h.io.emit("tick");
    await waitFor(client, "tick");
    const gone = waitFor(sockets[0], "disconnect");
    sockets[0].conn.close();
    await gone;
    for (let i = 0; i < 5; i++) h.io.emit("tick", i);
    await waitFor(client, "connect");
    assert.equal(client.recovered, false);
    client.disconnect();
    await h.close();
  });
});
