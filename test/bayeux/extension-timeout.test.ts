/** Extension hooks that never answer: the message fails after `extensionTimeout`. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BayeuxExtension, BayeuxServer } from "../../src/bayeux/index.js";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { HANDSHAKE, LONG_POLLING, post, startServer, transportFreeServers } from "./helpers.js";

const LP = LONG_POLLING;
const make = transportFreeServers({ timerResolution: 10, extensionTimeout: 150 });

async function clientOf(server: BayeuxServer): Promise<string> {
  const { replies } = await server.process([HANDSHAKE], LP);
  return replies[0].clientId!;
}

type Cb = (m: BayeuxMessage | null) => void;

describe("bayeux extensions: timeout", { timeout: 10000 }, () => {
  it("fails a message whose callback-style incoming hook never calls back", async () => {
    const server = make();
    const clientId = await clientOf(server);
    server.addExtension({
      incoming(message: BayeuxMessage, _req: unknown, callback: Cb) {
        if (message.channel !== "/stuck") callback(message);
      },
    } as unknown as BayeuxExtension);
    const started = Date.now();
    const { replies } = await server.process(
      [
        { channel: "/stuck", clientId, data: 1, id: "a" },
        { channel: "/fine", clientId, data: 2, id: "b" },
      ],
      LP,
    );
    const took = Date.now() - started;
    assert.ok(took >= 150, `waited the timeout (${took} ms)`);
    assert.ok(took < 2000, `but not forever (${took} ms)`);
    assert.deepEqual(replies[0], {
      channel: "/stuck",
      id: "a",
      clientId,
      successful: false,
      error: "500::Extension timed out",
    });
    assert.equal(replies[1].successful, true, "the rest of the batch goes on");
  });

  it("fails a message whose promise-returning hook never settles", async () => {
    const server = make();
    const clientId = await clientOf(server);
    server.addExtension({
      incoming: (message: BayeuxMessage) =>
        message.channel === "/meta/subscribe" ? new Promise(() => {}) : message,
    });
    const { replies } = await server.process(
      [{ channel: "/meta/subscribe", clientId, subscription: "/a", id: "s" }],
      LP,
    );
    assert.equal(replies[0].error, "500::Extension timed out");
    assert.equal(replies[0].id, "s");
    assert.equal(server.router.isSubscribed(server.getSession(clientId)!, "/a"), false);
  });

  it("turns a reply whose outgoing hook never answers into an error reply with advice", async () => {
    const server = make();
    server.addExtension({
      outgoing(message: BayeuxMessage, callback: Cb) {
        if (message.channel !== "/meta/handshake") callback(message);
      },
    } as unknown as BayeuxExtension);
    const { replies } = await server.process([{ ...HANDSHAKE, id: "h" }], LP);
    assert.equal(replies[0].channel, "/meta/handshake");
    assert.equal(replies[0].id, "h");
    assert.equal(replies[0].successful, false);
    assert.equal(replies[0].error, "500::Extension timed out");
    assert.equal(replies[0].advice?.reconnect, "retry");
  });

  it("lets a hook that answers just inside the deadline through, and leaves no timer behind", async () => {
    const server = make({ extensionTimeout: 400 });
    const clientId = await clientOf(server);
    const base = server.wheel.size;
    server.addExtension({
      incoming(message: BayeuxMessage, callback: Cb) {
        setTimeout(() => callback(message), 100);
      },
    } as unknown as BayeuxExtension);
    const { replies } = await server.process([{ channel: "/late", clientId, data: 1 }], LP);
    assert.equal(replies[0].successful, true);
    assert.equal(server.wheel.size, base, "the deadline entry is cancelled");
  });

  it("ignores a callback that comes after the timeout", async () => {
    const server = make({ extensionTimeout: 50 });
    const clientId = await clientOf(server);
    let late: (() => void) | null = null;
    server.addExtension({
      incoming(message: BayeuxMessage, callback: Cb) {
        late = () => callback(message);
      },
    } as unknown as BayeuxExtension);
    const { replies } = await server.process([{ channel: "/x", clientId, data: 1 }], LP);
    assert.equal(replies[0].error, "500::Extension timed out");
    assert.doesNotThrow(() => late?.());
  });

  it("answers a stuck request over HTTP instead of leaving it open", async () => {
    const s = await startServer({ extensionTimeout: 200, timerResolution: 10 });
    try {
      s.bayeux.addExtension({
        incoming(message: BayeuxMessage, callback: Cb) {
          if (message.channel !== "/meta/handshake") callback(message);
        },
      } as unknown as BayeuxExtension);
      const res = await post(s.url, [{ ...HANDSHAKE, id: "h" }]);
      assert.equal(res.status, 200);
      const [reply] = res.json();
      assert.equal(reply.id, "h");
      assert.equal(reply.error, "500::Extension timed out");
      assert.equal(s.bayeux.sessionCount, 0);
    } finally {
      await s.close();
    }
  });

  it("defaults to 10 s", () => {
    const server = make({ extensionTimeout: undefined });
    assert.equal(server.options.extensionTimeout, 10000);
  });
});
