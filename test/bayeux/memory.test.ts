/**
 * A session ended by `/meta/disconnect` is released at once: the session
 * table, the timer wheel, the channel router and the websocket it pushed
 * through hold nothing of it, and the session object itself is collected
 * while its websocket stays open (Faye frees a disconnected client at once
 * too; nothing waits for the expiry deadline).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { HANDSHAKE, post, type Running, startServer, WsPeer } from "./helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Collects garbage until `ref` is cleared, or gives up after a few rounds. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let round = 0; round < 20 && ref.deref() !== undefined; round++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

describe("bayeux memory: /meta/disconnect releases the session at once", {
  timeout: 30_000,
}, () => {
  let s: Running;
  before(async () => {
    // A long expiry: only the disconnect itself can release the sessions.
    s = await startServer({ timeout: 30_000, sessionGrace: 60_000 });
  });
  after(() => s.close());

  it("over websocket: tables, timers and the socket forget it; the object is collected", async () => {
    const peer = await new WsPeer(s.wsUrl).open();
    try {
      const refs: WeakRef<object>[] = [];
      for (let i = 0; i < 3; i++) {
        peer.send([{ ...HANDSHAKE, id: `h${i}` }]);
        const hs = await peer.next((m) => m.id === `h${i}`);
        const clientId = hs.clientId!;
        peer.send([
          { channel: "/meta/subscribe", clientId, subscription: ["/m/a", "/m/**"], id: `s${i}` },
          { channel: "/meta/connect", clientId, connectionType: "websocket", id: `c${i}` },
        ]);
        await peer.next((m) => m.id === `s${i}`);
        await peer.next((m) => m.id === `c${i}`);
        // A second connect is held: it must be answered and let go too.
        peer.send([
          { channel: "/meta/connect", clientId, connectionType: "websocket", id: `d${i}` },
        ]);
        refs.push(await heldSession(s, clientId));
        peer.send([{ channel: "/meta/disconnect", clientId, id: `x${i}` }]);
        assert.equal((await peer.next((m) => m.id === `x${i}`)).successful, true);
        await peer.next((m) => m.id === `d${i}`);
      }
      assert.equal(s.bayeux.sessionCount, 0, "session table");
      assert.equal(s.bayeux.wheel.size, 0, "no timer left in the wheel");
      assert.equal(s.bayeux.router.topics.topics.size, 0, "no subscription left");
      // The websocket is still open and still usable: it must not keep the sessions.
      for (const ref of refs) assert.ok(await collected(ref), "session object collected");
      peer.send([{ ...HANDSHAKE, id: "again" }]);
      const again = await peer.next((m) => m.id === "again");
      assert.equal(again.successful, true);
      peer.send([{ channel: "/meta/disconnect", clientId: again.clientId, id: "bye" }]);
      await peer.next((m) => m.id === "bye");
    } finally {
      await peer.close();
    }
  });

  it("over long-polling: the same, with a held connect answered by the disconnect", async () => {
    const [hs] = (await post(s.url, [HANDSHAKE])).json();
    const clientId = hs.clientId!;
    await post(s.url, [
      { channel: "/meta/subscribe", clientId, subscription: "/m/lp" },
      { channel: "/meta/connect", clientId, connectionType: "long-polling" },
    ]);
    const held = post(s.url, [
      { channel: "/meta/connect", clientId, connectionType: "long-polling" },
    ]);
    const ref = await heldSession(s, clientId);
    const [bye] = (await post(s.url, [{ channel: "/meta/disconnect", clientId }])).json();
    assert.equal(bye.successful, true);
    await held;
    assert.equal(s.bayeux.sessionCount, 0);
    assert.equal(s.bayeux.wheel.size, 0);
    assert.equal(s.bayeux.router.topics.topics.size, 0);
    assert.ok(await collected(ref), "session object collected");
  });
});

/**
 * Waits until the session of `clientId` holds a connect; returns a weak
 * reference to it (no strong one stays in the test's scope).
 */
async function heldSession(s: Running, clientId: string): Promise<WeakRef<object>> {
  const deadline = Date.now() + 10_000;
  while (s.bayeux.getSession(clientId)?.held == null) {
    if (Date.now() > deadline) throw new Error("the connect was never held");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return new WeakRef(s.bayeux.getSession(clientId)!);
}
