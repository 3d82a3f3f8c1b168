/**
 * A `/meta/subscribe` whose reply does not come in time while the session
 * stays live is sent again within a moment, not only after the next connect
 * reply: a connect held with nothing subscribed may not come back for the
 * server's whole timeout, and meanwhile the client would miss everything.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { BayeuxServer, bayeuxMount } from "../../src/bayeux/index.js";
import { MountRouter } from "../../src/mount/router.js";
import { until } from "../socketio/raw-clients.js";
import { testClient } from "./helpers.js";

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`a subscribe unanswered in a live session (${transport})`, () => {
    it("is sent again at once, well before the held connect returns", {
      timeout: 10_000,
    }, async () => {
      // Connects are held 20 s: a retry waiting for the next connect reply would miss the deadline.
      const bayeux = new BayeuxServer({ timeout: 20_000, extensionTimeout: 1500 });
      let held = 0;
      // The first subscribe is never answered by the extension: the server's
      // guard answers it after extensionTimeout, long after the client (500 ms)
      // stopped waiting for it.
      bayeux.addExtension({
        incoming(message, _request, callback) {
          if (message.channel !== "/meta/subscribe" || held++ > 0) callback(message);
        },
      });
      const http = createServer();
      new MountRouter().add(bayeuxMount(bayeux)).attach(http);
      http.listen(0, "127.0.0.1");
      await once(http, "listening");
      const { port } = http.address() as AddressInfo;
      const client = testClient(`http://127.0.0.1:${port}/bayeux`, transport, {
        maxNetworkDelay: 500,
      });
      try {
        await client.init();
        const got: unknown[] = [];
        await client.subscribe("/retry/feed", (message) => got.push(message.data));
        assert.ok(held >= 2, "the subscribe was sent again");
        bayeux.publish("/retry/feed", { n: 1 });
        await until(() => got.length === 1, 5000, "the message");
        assert.deepEqual(got, [{ n: 1 }]);
      } finally {
        await client.disconnect().catch(() => {});
        await bayeux.close();
        http.closeAllConnections();
        http.close();
      }
    });
  });
}
