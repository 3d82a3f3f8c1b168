/** Refusing an upgrade on the raw socket (src/transport/upgrade-refusal.ts), over loopback. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { refuseUpgrade } from "../../src/transport/upgrade-refusal.js";

describe("refuseUpgrade", { timeout: 10000 }, () => {
  const http = createServer();
  let answer: (socket: Duplex) => void = () => {};
  http.on("upgrade", (_req, socket) => answer(socket));

  before(async () => {
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
  });

  after(async () => {
    http.close();
    await once(http, "close");
  });

  /** Sends an upgrade request and reads what comes back until the server closes. */
  async function upgrade(): Promise<string> {
    const client = connect((http.address() as AddressInfo).port, "127.0.0.1");
    await once(client, "connect");
    client.write(
      "GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    let text = "";
    client.setEncoding("utf8");
    client.on("data", (chunk: string) => {
      text += chunk;
    });
    // The server closes: the client does not have to.
    await once(client, "close");
    return text;
  }

  it("answers a bodiless status and closes the socket", async () => {
    answer = (socket) => refuseUpgrade(socket, 404);
    assert.equal(
      await upgrade(),
      "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    );
  });

  it("answers a JSON body with its length", async () => {
    const body = '{"code":3,"message":"Bad request é"}';
    answer = (socket) => refuseUpgrade(socket, 400, body);
    assert.equal(
      await upgrade(),
      "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });

  it("leaves a destroyed socket alone", async () => {
    answer = (socket) => {
      socket.destroy();
      refuseUpgrade(socket, 503);
    };
    assert.equal(await upgrade(), "");
  });
});
