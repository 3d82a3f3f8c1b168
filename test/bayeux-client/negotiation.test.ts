/**
 * Connection type negotiation and extensions against Faye: websocket refused
 * by the server falls back to long-polling; client extensions see outgoing
 * and incoming messages (asynchronous hooks included) and a server-side
 * check of what they add.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { BayeuxClient, type BayeuxMessage } from "../../src/bayeux/client/index.js";
import { type FayeAdapter, startFaye, trackSockets, waitFor } from "./helpers.js";

const require = createRequire(import.meta.url);

describe("negotiation and extensions", { timeout: 20_000 }, () => {
  test("a server refusing websocket upgrades: the client falls back to long-polling", async () => {
    const faye = require("faye") as {
      NodeAdapter: new (o: object) => FayeAdapter & { handle(req: unknown, res: unknown): void };
    };
    const adapter = new faye.NodeAdapter({ mount: "/bayeux", timeout: 2 });
    // Requests only: with no "upgrade" listener Node drops upgrade requests.
    const http = createServer((req, res) => adapter.handle(req, res));
    const sockets = trackSockets(http);
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/bayeux`;
    const client = new BayeuxClient(url, { maxNetworkDelay: 3000 });
    const types: string[] = [];
    client.on("transport", (type) => types.push(type));
    try {
      await client.init();
      assert.equal(client.connectionType, "long-polling");
      assert.deepEqual(types, ["websocket", "long-polling"]);
      const got: unknown[] = [];
      await client.subscribe("/fallback", (m) => got.push(m.data));
      await client.publish("/fallback", "ok");
      await waitFor(() => got.length === 1);
    } finally {
      await client.disconnect();
      adapter.close();
      sockets.cut();
      http.close();
      await once(http, "close");
    }
  });

  test("extensions: outgoing adds an auth token the server checks; async incoming sees deliveries in order", async () => {
    const server = await startFaye();
    server.adapter.addExtension({
      incoming(message, callback) {
        const ext = message.ext as { token?: string } | undefined;
        if (message.channel === "/meta/subscribe" && ext?.token !== "secret") {
          message.error = "403::Token required";
        }
        callback(message);
      },
    });
    const client = new BayeuxClient(server.url, {
      transports: ["websocket"],
      maxNetworkDelay: 3000,
    });
    const seen: string[] = [];
    const remove = client.addExtension({
      outgoing(message) {
        if (message.channel === "/meta/subscribe")
          message.ext = { ...message.ext, token: "secret" };
      },
      async incoming(message: BayeuxMessage) {
        if (message.channel === "/ext" && "data" in message) {
          // A slow first message must not let the second overtake it.
          await new Promise((r) => setTimeout(r, message.data === 1 ? 30 : 0));
          seen.push(`in:${String(message.data)}`);
        }
        return message;
      },
    });
    try {
      await client.init();
      const got: unknown[] = [];
      await client.subscribe("/ext", (m) => got.push(m.data));
      await client.publish("/ext", 1);
      await client.publish("/ext", 2);
      await waitFor(() => got.length === 2);
      assert.deepEqual(got, [1, 2]);
      assert.deepEqual(seen, ["in:1", "in:2"]);
      remove();
      await assert.rejects(
        client.subscribe("/ext2", () => {}),
        (err: Error & { bayeuxError?: { code: number } }) => {
          assert.equal(err.bayeuxError?.code, 403);
          return true;
        },
      );
    } finally {
      await client.disconnect();
      await server.close();
    }
  });

  test("errorCallback gets deliveries no subscription handles and callbacks that throw", async () => {
    const server = await startFaye();
    const failures: string[] = [];
    const client = new BayeuxClient(server.url, {
      transports: ["long-polling"],
      errorCallback: (message, error) =>
        failures.push(`${(error as { code?: string }).code}:${message.channel}`),
    });
    try {
      await client.init();
      await client.subscribe("/boom", () => {
        throw new Error("subscriber bug");
      });
      await client.publish("/boom", 1);
      await waitFor(() => failures.length === 1);
      assert.deepEqual(failures, ["ERR_BAYEUX_CALLBACK:/boom"]);
      assert.equal(client.state, "connected");
    } finally {
      await client.disconnect();
      await server.close();
    }
  });

  test("advice: interval spaces connects; reconnect none on a connect ends the client", async () => {
    const server = await startFaye({ timeout: 0.2 });
    const arrivals: number[] = [];
    let refuse = false;
    server.adapter.addExtension({
      incoming(message, callback) {
        if (message.channel === "/meta/connect") arrivals.push(Date.now());
        callback(message);
      },
      outgoing(message, callback) {
        if (message.channel === "/meta/connect") {
          message.advice = { ...(message.advice as object), interval: 300 };
          if (refuse) {
            message.successful = false;
            message.error = "403::Go away";
            message.advice = { reconnect: "none" };
          }
        }
        callback(message);
      },
    });
    const client = new BayeuxClient(server.url, {
      transports: ["long-polling"],
      maxNetworkDelay: 3000,
    });
    try {
      await client.init();
      await waitFor(() => arrivals.length >= 4, 5000, "four connects");
      for (let i = 2; i < 4; i++) {
        // After each reply the client waits the advised 300 ms before connecting again.
        assert.ok(arrivals[i] - arrivals[i - 1] >= 290, `gap ${arrivals[i] - arrivals[i - 1]} ms`);
      }
      const ended = new Promise<Error | null>((resolve) => client.once("disconnected", resolve));
      refuse = true;
      const error = await ended;
      assert.equal((error as { code?: string } | null)?.code, "ERR_BAYEUX_REPLY");
      assert.equal(client.state, "disconnected");
      const count = arrivals.length;
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(arrivals.length, count, "no connect after reconnect none");
    } finally {
      await client.disconnect();
      await server.close();
    }
  });

  test("a handshake refused with reconnect none rejects init()", async () => {
    const server = await startFaye();
    server.adapter.addExtension({
      outgoing(message, callback) {
        if (message.channel === "/meta/handshake") {
          message.successful = false;
          message.error = "403::Handshake denied";
          message.advice = { reconnect: "none" };
          delete message.clientId;
        }
        callback(message);
      },
    });
    const client = new BayeuxClient(server.url, { transports: ["long-polling"] });
    try {
      await assert.rejects(client.init(), (err: Error & { bayeuxError?: { code: number } }) => {
        assert.equal(err.bayeuxError?.code, 403);
        return true;
      });
      assert.equal(client.state, "disconnected");
    } finally {
      await client.disconnect();
      await server.close();
    }
  });
});
