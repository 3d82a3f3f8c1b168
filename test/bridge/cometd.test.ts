/**
 * The bridge with the real CometD JavaScript client (through
 * cometd-nodejs-client) on the Bayeux side and socket.io-client on the
 * other, over long-polling and websocket.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CometD } from "cometd";
import { adapt } from "cometd-nodejs-client";
import { type Bridge, bridge } from "../../src/index.js";
import { call } from "../helpers/cometd.js";
import { until } from "../socketio/raw-clients.js";
import { type BridgeNode, Clients, startNode } from "./helpers.js";

adapt();

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`bridge with a CometD client (${transport})`, () => {
    let node: BridgeNode;
    let link: Bridge;
    const clients = new Clients();
    let cometd: CometD;

    before(async () => {
      node = await startNode();
      link = bridge({
        io: node.io,
        bayeux: node.bayeux,
        routes: [{ room: "*", event: "message", channel: "/chat/*" }],
      });
      cometd = new CometD();
      if (transport === "long-polling") cometd.unregisterTransport("websocket");
      cometd.configure({ url: `http://127.0.0.1:${node.port}/bayeux`, logLevel: "warn" });
      const reply = await call((cb) => cometd.handshake(cb));
      assert.equal(reply.successful, true);
    });
    after(async () => {
      if (!cometd.isDisconnected()) await call((cb) => cometd.disconnect(cb)).catch(() => {});
      link.close();
      await clients.close();
      await node.close();
    });

    it("talks with a socket.io client both ways, once each", { timeout: 15_000 }, async () => {
      const member = await clients.member(node, "lobby", "message");
      const got: unknown[] = [];
      const subscribed = await call((cb) =>
        cometd.subscribe("/chat/lobby", (m) => got.push(m.data), cb),
      );
      assert.equal(subscribed.successful, true);

      node.io.to("lobby").emit("message", { from: "socket.io" });
      await until(() => got.length === 1, 5000, "the broadcast on the CometD client");
      const published = await call((cb) => cometd.publish("/chat/lobby", { from: "cometd" }, cb));
      assert.equal(published.successful, true);
      node.io.to("lobby").emit("message", "fence");
      await until(() => got.length >= 3 && member.got.length >= 3, 5000, "the fence");
      assert.deepEqual(got, [{ from: "socket.io" }, { from: "cometd" }, "fence"]);
      assert.deepEqual(member.got, [[{ from: "socket.io" }], [{ from: "cometd" }], ["fence"]]);
      assert.deepEqual(link.stats, { toBayeux: 2, toSocketIO: 1, refused: 0 });
    });
  });
}
