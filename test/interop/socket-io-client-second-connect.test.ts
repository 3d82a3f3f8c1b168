/**
 * What socket.io-client 4.8 sees when it sends a second CONNECT for a
 * namespace its connection already joined (a second `Socket` on the same
 * `Manager`): socket.io 4.8 treats it as an "invalid state" and closes the
 * connection, without a CONNECT_ERROR, so every socket of that Manager gets
 * "transport close" (and the server's socket "forced close"). Switchboard
 * does the same over each transport.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Socket as ClientSocket, Manager } from "socket.io-client";
import type { Socket } from "../../src/index.js";
import { MODES, startServer, waitFor } from "../socketio/helpers.js";
import { until } from "../socketio/raw-clients.js";

const T = { timeout: 15_000 };

describe("a second CONNECT from socket.io-client", () => {
  for (const mode of MODES) {
    it(
      `over ${mode.name}: the server closes the connection, no CONNECT_ERROR; every socket of the Manager gets "transport close"`,
      T,
      async () => {
        const h = await startServer({}, mode);
        try {
          const reasons: string[] = [];
          h.io.on("connection", (socket: Socket) => {
            socket.on("disconnect", (reason) => reasons.push(reason));
          });
          const manager = new Manager(h.url, {
            forceNew: true,
            reconnection: false,
            ...(mode.transports ? { transports: mode.transports } : {}),
          });
          const main = manager.socket("/");
          await waitFor(main, "connect");
          const seen: string[] = [];
          main.on("disconnect", (reason) => seen.push(`main ${reason}`));
          const second = new ClientSocket(manager, "/", {});
          second.on("connect", () => seen.push("second connect"));
          second.on("connect_error", (err) => seen.push(`second connect_error ${err.message}`));
          second.on("disconnect", (reason) => seen.push(`second ${reason}`));
          second.connect();
          await until(() => seen.length === 2, 5000, "both client sockets to disconnect");
          assert.deepEqual(seen.sort(), ["main transport close", "second transport close"]);
          await until(() => reasons.length === 1, 5000, "the server socket to disconnect");
          // A close that falls while socket.io-client has paused polling for
          // its upgrade waits for the upgrade (as engine.io's does): the server
          // socket then learns "forced server close" first, as with socket.io.
          if (mode.name === "upgrade") assert.match(reasons[0], /^forced (server )?close$/);
          else assert.equal(reasons[0], "forced close");
          assert.equal(h.io.of("/").sockets.size, 0);
        } finally {
          await h.close();
        }
      },
    );
  }
});
