/** Per-tick corking of websocket writes (src/transport/tick-cork.ts), over loopback. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { corkForTick, isCorkedForTick } from "../../src/transport/tick-cork.js";

describe("corkForTick", { timeout: 10000 }, () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  let server: WebSocket;
  let client: WebSocket;

  before(async () => {
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const accepted = once(wss, "connection");
    client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    await once(client, "open");
    [server] = (await accepted) as [WebSocket];
  });

  after(async () => {
    client.terminate();
    wss.close();
    http.close();
    await once(http, "close");
  });

  it("sends a tick's first frame at once, holds the rest until the end of the tick, then tells the watcher", async () => {
    const got: string[] = [];
    const all = new Promise<void>((resolve) => {
      client.on("message", (data) => {
        got.push(data.toString());
        if (got.length === 3) resolve();
      });
    });
    const seen: number[] = [];
    const watcher = {
      uncorked() {
        seen.push(server.bufferedAmount);
      },
    };
    // A fresh tick: the first write goes straight to the kernel, uncorked.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(isCorkedForTick(server), false);
    assert.equal(corkForTick(server, watcher), false, "first write of the tick: no cork");
    server.send("one");
    assert.equal(server.bufferedAmount, 0, "the first frame went out as it was made");
    assert.equal(corkForTick(server, watcher), true, "second write of the tick corks");
    server.send("two");
    assert.equal(corkForTick(server, watcher), true, "still corked, no second cork");
    server.send("three");
    assert.equal(isCorkedForTick(server), true);
    assert.ok(server.bufferedAmount > 0, "the tick's later bytes wait in this process");
    await new Promise<void>((resolve) => process.nextTick(resolve));
    assert.equal(isCorkedForTick(server), false);
    assert.deepEqual(seen, [0], "told once, after the kernel took the bytes");
    await all;
    assert.deepEqual(got, ["one", "two", "three"]);
  });

  it("leaves a socket without a TCP stream alone", () => {
    const stand = {} as WebSocket;
    assert.equal(corkForTick(stand), false);
    assert.equal(isCorkedForTick(stand), false);
  });
});
