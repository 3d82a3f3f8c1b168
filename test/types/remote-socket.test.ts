/**
 * `RemoteSocket.timeout(ms)` at runtime, for a socket of this node as `fetchSockets()` returns
 * it: `emitWithAck` resolves with the client's single answer (as `socket.emitWithAck` does, not
 * an array) and rejects once the delay passes; the callback form gets `(err, answer)`.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { io as connect } from "socket.io-client";
import { type RemoteSocket, Server } from "../../src/index.js";

interface ServerToClient {
  status: (cb: (state: string) => void) => void;
  silent: (cb: (state: string) => void) => void;
}
interface SocketData {
  user: string;
}

it("RemoteSocket.timeout(ms).emitWithAck resolves with a local socket's answer and rejects after the delay", async () => {
  const http = createServer();
  const io = new Server<Record<string, never>, ServerToClient, Record<string, never>, SocketData>(
    http,
  );
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as AddressInfo;
  io.use((socket, next) => {
    socket.data.user = "ada";
    next();
  });
  const client = connect(`http://127.0.0.1:${port}`, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
  });
  try {
    client.on("status", (cb: (state: string) => void) => cb("ready"));
    client.on("silent", () => {}); // never acknowledges
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });

    const sockets = await io.fetchSockets();
    assert.equal(sockets.length, 1);
    const remote: RemoteSocket<ServerToClient, SocketData> = sockets[0];
    assert.equal(remote.id, client.id);
    assert.equal(remote.data.user, "ada");

    // Generous: a loaded machine must still answer in time.
    const answer: string = await remote.timeout(10_000).emitWithAck("status");
    assert.equal(answer, "ready");

    const viaCallback = await new Promise<[Error | null, string]>((resolve) => {
      remote.timeout(10_000).emit("status", (err, state) => resolve([err, state]));
    });
    assert.deepEqual(viaCallback, [null, "ready"]);

    // The client never answers "silent": the delay decides, however short.
    await assert.rejects(remote.timeout(50).emitWithAck("silent"), /timed out/);

    // timeout() applied to one emit only: the next one waits for its answer.
    assert.equal(await remote.emitWithAck("status"), "ready");
  } finally {
    client.close();
    await io.close();
  }
});
