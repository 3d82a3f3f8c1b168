/**
 * Encode once: a PreparedMessage is framed a single time and the same bytes
 * reach every recipient, whatever its transport; sockets where pre-built
 * frames do not apply (permessage-deflate, v3) fall back to normal sends.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as wsModule from "ws";
import { WebSocket } from "ws";
import { PreparedMessage, type Socket } from "../../src/engine/index.js";
import { delay, handshake, next, rawRequest, startEngine } from "./helpers.js";

type FrameFn = (data: Buffer, options: Record<string, unknown>) => Buffer[];
const Sender = (wsModule as unknown as { Sender: { frame: FrameFn } }).Sender;

describe("PreparedMessage", { timeout: 20000 }, () => {
  test("computes its polling packet and websocket frame once, as ws would frame them", () => {
    const text = new PreparedMessage('2["news","€"]');
    assert.equal(text.pollingPacket(), '42["news","€"]');
    const frame = text.websocketFrame();
    assert.equal(text.websocketFrame(), frame, "frame recomputed");
    const expected = Sender.frame(Buffer.from('42["news","€"]'), {
      fin: true,
      opcode: 1,
      mask: false,
      readOnly: true,
      rsv1: false,
    });
    assert.deepEqual(Buffer.concat(frame), Buffer.concat(expected));

    const big = new PreparedMessage(new Uint8Array(70000).fill(7));
    assert.equal(big.pollingPacket().slice(0, 5), "bBwcH");
    const bigFrame = Buffer.concat(big.websocketFrame());
    assert.equal(bigFrame[0], 0x82); // FIN + binary opcode
    assert.equal(bigFrame[1], 127); // 64-bit length
    assert.equal(bigFrame.length, 70000 + 10);
    assert.equal(big.packet(), big.packet(), "packet object not shared");
  });

  test("one message to websocket, polling, deflate and v3 recipients", async () => {
    const plain = await startEngine({ allowEIO3: true });
    const deflate = await startEngine({ perMessageDeflate: { threshold: 0 } });
    try {
      const sockets: Socket[] = [];
      const frames: string[][] = [];
      const clients: WebSocket[] = [];
      for (const [t, query] of [
        [plain, "EIO=4"],
        [plain, "EIO=4"],
        [plain, "EIO=3"],
        [deflate, "EIO=4"],
      ] as const) {
        const connection = next<[Socket]>(t.engine, "connection");
        const ws = new WebSocket(
          `ws://127.0.0.1:${t.port}/engine.io/?${query}&transport=websocket`,
        );
        const got: string[] = [];
        ws.on("message", (d, isBinary) =>
          got.push(isBinary ? `bin:${(d as Buffer).toString("hex")}` : d.toString()),
        );
        frames.push(got);
        clients.push(ws);
        sockets.push((await connection)[0]);
        if (ws.readyState !== WebSocket.OPEN) await next(ws, "open");
      }
      assert.ok(clients[3].extensions.includes("permessage-deflate"));
      const { sid } = await handshake(plain.port);
      const polling = plain.engine.clients[sid];

      const text = new PreparedMessage("hello all");
      const binary = new PreparedMessage(Buffer.from([1, 2, 3]));
      for (const socket of [...sockets, polling]) {
        socket.send(text);
        socket.send(binary);
        socket.send("after");
      }
      await delay(100);
      for (const [i, got] of frames.entries()) {
        const v3 = i === 2;
        assert.deepEqual(
          got.slice(1),
          ["4hello all", v3 ? "bin:04010203" : "bin:010203", "4after"],
          `client ${i}`,
        );
      }
      const poll = await rawRequest(plain.port, `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(poll.text, "4hello all\x1ebAQID\x1e4after");
      for (const ws of clients) ws.close();
    } finally {
      await plain.close();
      await deflate.close();
    }
  });
});
