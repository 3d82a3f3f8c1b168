/**
 * Two engine servers in one process, each with its own websocket writer:
 * a burst on one server corks only its own connection, and both bursts
 * arrive whole and in order.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import type { Socket } from "../../src/engine/index.js";
import type { WebSocketTransport } from "../../src/transport/websocket.js";
import { startEngine, type TestEngine } from "../engine/helpers.js";
import { until } from "../socketio/raw-clients.js";

interface Connected {
  socket: Socket;
  client: WebSocket;
  got: string[];
}

async function connect(t: TestEngine): Promise<Connected> {
  const accepted = once(t.engine, "connection");
  const client = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
  const got: string[] = [];
  client.on("message", (data) => got.push(data.toString()));
  const [socket] = (await accepted) as [Socket];
  await until(() => got.length === 1, 5000, "the open packet");
  return { socket, client, got };
}

describe("one websocket writer per engine server", { timeout: 15000 }, () => {
  let a: TestEngine;
  let b: TestEngine;

  before(async () => {
    a = await startEngine({ transports: ["websocket"] });
    b = await startEngine({ transports: ["websocket"] });
  });

  after(async () => {
    await a.close();
    await b.close();
  });

  it("keeps each server's coalescing to its own connections", async () => {
    const ca = await connect(a);
    const cb = await connect(b);
    const ta = ca.socket.transport as WebSocketTransport;
    const tb = cb.socket.transport as WebSocketTransport;
    const writerA = ta.config.writer;
    const writerB = tb.config.writer;
    assert.notEqual(writerA, writerB, "a writer per server");
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = 0; i < 5; i++) ca.socket.send(`a${i}`);
    cb.socket.send("b0");
    assert.equal(writerA.corked(ta.socket), true, "A's burst corks A's connection");
    assert.equal(writerB.corked(tb.socket), false, "B's single write is not held");
    assert.equal(ta.writing, true);
    cb.socket.send("b1");
    assert.equal(writerB.corked(tb.socket), true, "B's second write corks B's connection");
    await new Promise<void>((resolve) => process.nextTick(resolve));
    assert.equal(writerA.corked(ta.socket), false);
    assert.equal(writerB.corked(tb.socket), false);
    await until(() => ca.got.length === 6 && cb.got.length === 3, 5000, "both bursts");
    assert.deepEqual(ca.got.slice(1), ["4a0", "4a1", "4a2", "4a3", "4a4"]);
    assert.deepEqual(cb.got.slice(1), ["4b0", "4b1"]);
    ca.client.terminate();
    cb.client.terminate();
  });
});
