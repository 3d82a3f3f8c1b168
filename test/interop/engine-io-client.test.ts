/**
 * The real engine.io-client 6 against Switchboard's engine over loopback: an
 * echo server (text back as text, binary back as binary) over polling only,
 * websocket only, and polling upgraded to websocket.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { Socket as ClientSocket, type SocketOptions } from "engine.io-client";
import { WebSocket } from "ws";
import { PreparedMessage, type Socket } from "../../src/engine/index.js";
import { delay, type Emitterish, next, startEngine, type TestEngine } from "../engine/helpers.js";

type ClientTransports = NonNullable<SocketOptions["transports"]>;

const MODES: { name: string; transports: ClientTransports; final: string }[] = [
  { name: "polling", transports: ["polling"], final: "polling" },
  { name: "websocket", transports: ["websocket"], final: "websocket" },
  { name: "upgrade", transports: ["polling", "websocket"], final: "websocket" },
];

function connect(t: TestEngine, transports: ClientTransports, extra: Partial<SocketOptions> = {}) {
  return new ClientSocket(`http://127.0.0.1:${t.port}`, { transports, ...extra });
}

/** engine.io-client's emitter is typed per event; the helpers take any emitter. */
function ev(client: ClientSocket): Emitterish {
  return client as unknown as Emitterish;
}

async function opened(client: ClientSocket): Promise<void> {
  await next(ev(client), "open");
}

/** Resolves with the next `count` messages received by `client`. */
function messages(client: ClientSocket, count: number, ms = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length}/${count} messages`)), ms);
    const onMessage = (data: unknown) => {
      got.push(data);
      if (got.length === count) {
        clearTimeout(timer);
        client.off("message", onMessage);
        resolve(got);
      }
    };
    client.on("message", onMessage);
  });
}

function bytesOf(data: unknown): number[] {
  if (Buffer.isBuffer(data)) return [...data];
  if (data instanceof ArrayBuffer) return [...new Uint8Array(data)];
  if (ArrayBuffer.isView(data))
    return [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  throw new Error(`not binary: ${typeof data}`);
}

for (const mode of MODES) {
  describe(`engine.io-client over ${mode.name}`, { timeout: 20000 }, () => {
    let t: TestEngine;
    const serverSockets: Socket[] = [];

    before(async () => {
      t = await startEngine({ pingInterval: 300, pingTimeout: 400 });
      t.engine.on("connection", (socket: Socket) => {
        serverSockets.push(socket);
        socket.on("message", (data) => socket.send(data));
      });
    });

    after(async () => {
      await t.close();
    });

    test("echoes text and binary (Buffer and ArrayBuffer)", async () => {
      const client = connect(t, mode.transports);
      await opened(client);
      const got = messages(client, 4);
      client.send("hello");
      client.send("€ unicode 😀");
      client.send(Buffer.from([1, 2, 3]));
      client.send(new Uint8Array([250, 0, 7]).buffer);
      const [a, b, c, d] = await got;
      assert.equal(a, "hello");
      assert.equal(b, "€ unicode 😀");
      assert.deepEqual(bytesOf(c), [1, 2, 3]);
      assert.deepEqual(bytesOf(d), [250, 0, 7]);
      client.close();
    });

    test("keeps the order of many messages in a row", async () => {
      const client = connect(t, mode.transports);
      await opened(client);
      const got = messages(client, 300, 10000);
      for (let i = 0; i < 300; i++) client.send(`m${i}`);
      assert.deepEqual(
        await got,
        Array.from({ length: 300 }, (_, i) => `m${i}`),
      );
      if (mode.name === "upgrade") {
        if (client.transport.name !== "websocket") await next(ev(client), "upgrade");
        assert.equal(client.transport.name, "websocket");
      }
      client.close();
    });

    test("a close from the client closes the server socket", async () => {
      const client = connect(t, mode.transports, { upgrade: mode.name === "upgrade" });
      await opened(client);
      const socket = serverSockets.at(-1)!;
      if (mode.name === "upgrade" && !socket.upgraded) await next(socket, "upgrade");
      const closed = next<[string]>(socket, "close");
      client.close();
      const [reason] = await closed;
      assert.equal(reason, "transport close");
      assert.equal(socket.readyState, "closed");
      assert.equal(t.engine.clients[socket.id], undefined);
    });

    test("a close from the server closes the client", async () => {
      const client = connect(t, mode.transports);
      await opened(client);
      const socket = serverSockets.at(-1)!;
      const serverClosed = next<[string]>(socket, "close");
      const clientClosed = next<[string]>(ev(client), "close");
      socket.close();
      assert.equal((await serverClosed)[0], "forced close");
      const [reason] = await clientClosed;
      assert.match(reason, /transport close|forced close/);
    });

    test("heartbeats keep an idle connection open", async () => {
      const client = connect(t, mode.transports);
      await opened(client);
      const socket = serverSockets.at(-1)!;
      let beats = 0;
      socket.on("heartbeat", () => beats++);
      await delay(1200);
      assert.ok(beats >= 2, `only ${beats} heartbeats`);
      assert.equal(socket.readyState, "open");
      assert.equal(socket.transport.name, mode.final);
      client.close();
    });

    test("send callbacks run once written, and drain is emitted", async () => {
      const client = connect(t, mode.transports);
      await opened(client);
      const socket = serverSockets.at(-1)!;
      const drained = next(socket, "drain");
      const written = new Promise<void>((resolve) => socket.send("with callback", () => resolve()));
      await drained;
      await written;
      client.close();
    });

    test("a prepared message reaches the client intact", async () => {
      const client = connect(t, mode.transports);
      await opened(client);
      const socket = serverSockets.at(-1)!;
      const got = messages(client, 2);
      socket.send(new PreparedMessage("prepared text"));
      socket.send(new PreparedMessage(Buffer.from([4, 5, 6])));
      const [text, bytes] = await got;
      assert.equal(text, "prepared text");
      assert.deepEqual(bytesOf(bytes), [4, 5, 6]);
      client.close();
    });
  });
}

describe("upgrade", { timeout: 20000 }, () => {
  test("emits upgrading and upgrade, then carries messages over websocket", async () => {
    const t = await startEngine();
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const client = connect(t, ["polling", "websocket"]);
      const [socket] = await connection;
      assert.equal(socket.transport.name, "polling");
      const upgrading = next(socket, "upgrading");
      const upgraded = next(socket, "upgrade");
      await upgrading;
      await upgraded;
      assert.equal(socket.upgraded, true);
      assert.equal(socket.upgrading, false);
      assert.equal(socket.transport.name, "websocket");
      const got = messages(client, 1);
      socket.send("over ws");
      assert.deepEqual(await got, ["over ws"]);
      client.close();
    } finally {
      await t.close();
    }
  });

  test("messages sent while the upgrade runs all arrive, in order", async () => {
    const t = await startEngine();
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const client = connect(t, ["polling", "websocket"]);
      const [socket] = await connection;
      const got = messages(client, 100);
      let i = 0;
      const pump = setInterval(() => {
        for (let k = 0; k < 10 && i < 100; k++) socket.send(String(i++));
        if (i === 100) clearInterval(pump);
      }, 1);
      assert.deepEqual(
        await got,
        Array.from({ length: 100 }, (_, k) => String(k)),
      );
      client.close();
    } finally {
      await t.close();
    }
  });

  test("upgradeTimeout cancels an upgrade the client never completes", async () => {
    const t = await startEngine({ upgradeTimeout: 200, pingInterval: 5000 });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const client = connect(t, ["polling"]);
      const [socket] = await connection;
      // Probe like a client, then never send the upgrade packet.
      const ws = new WebSocket(
        `ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket&sid=${socket.id}`,
      );
      await next(ws, "open");
      ws.send("2probe");
      const [reply] = await next<[Buffer]>(ws, "message");
      assert.equal(reply.toString(), "3probe");
      assert.equal(socket.upgrading, true);
      await next(ws, "close", 2000);
      assert.equal(socket.upgrading, false);
      assert.equal(socket.upgraded, false);
      assert.equal(socket.readyState, "open");
      client.close();
    } finally {
      await t.close();
    }
  });
});

describe("heartbeat", { timeout: 20000 }, () => {
  test("a client that stops answering pings is closed with ping timeout", async () => {
    const t = await startEngine({ pingInterval: 100, pingTimeout: 150 });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      const [socket] = await connection;
      const pings: string[] = [];
      ws.on("message", (data) => pings.push(data.toString()));
      const started = Date.now();
      const [reason] = await next<[string]>(socket, "close");
      assert.equal(reason, "ping timeout");
      assert.ok(Date.now() - started >= 200, "closed before pingInterval + pingTimeout");
      assert.ok(pings.includes("2"), "no ping was sent");
      await next(ws, "close");
    } finally {
      await t.close();
    }
  });

  test("answered pings keep a raw websocket client connected", async () => {
    const t = await startEngine({ pingInterval: 80, pingTimeout: 80 });
    try {
      const connection = next<[Socket]>(t.engine, "connection");
      const ws = new WebSocket(`ws://127.0.0.1:${t.port}/engine.io/?EIO=4&transport=websocket`);
      ws.on("message", (data) => {
        if (data.toString() === "2") ws.send("3");
      });
      const [socket] = await connection;
      let beats = 0;
      socket.on("heartbeat", () => beats++);
      await delay(600);
      assert.equal(socket.readyState, "open");
      assert.ok(beats >= 3, `only ${beats} heartbeats`);
      ws.close();
      await next(socket, "close");
    } finally {
      await t.close();
    }
  });
});

describe("engine.io-client 3 (Engine.IO v3, via socket.io-client v2) with allowEIO3", {
  timeout: 20000,
}, () => {
  // socket.io-client-v2 ships engine.io-client 3.5 as its own dependency.
  const require = createRequire(import.meta.resolve("socket.io-client-v2/package.json"));
  const EioV3Client = require("engine.io-client") as new (
    uri: string,
    opts: { transports: string[] },
  ) => Emitterish & {
    send(data: unknown): void;
    close(): void;
    on(event: string, fn: (...args: unknown[]) => void): void;
    transport: { name: string };
  };

  for (const mode of MODES) {
    test(`echo and heartbeat over ${mode.name}`, async () => {
      const t = await startEngine({ allowEIO3: true, pingInterval: 200, pingTimeout: 200 });
      try {
        const connection = next<[Socket]>(t.engine, "connection");
        const client = new EioV3Client(`http://127.0.0.1:${t.port}`, {
          transports: mode.transports.map(String),
        });
        const [socket] = await connection;
        assert.equal(socket.protocol, 3);
        socket.on("message", (data) => socket.send(data));
        const got: unknown[] = [];
        const both = new Promise<void>((resolve) => {
          client.on("message", (d) => {
            got.push(d);
            if (got.length === 2) resolve();
          });
        });
        await next(client, "open");
        client.send("hi €");
        client.send(Buffer.from([1, 2, 3]));
        await both;
        assert.equal(got[0], "hi €");
        assert.deepEqual(bytesOf(got[1]), [1, 2, 3]);
        // Several client ping periods later the session is still up.
        await delay(800);
        assert.equal(socket.readyState, "open");
        assert.equal(socket.transport.name, mode.final);
        const closed = next<[string]>(socket, "close");
        client.close();
        assert.match((await closed)[0], /transport close|forced close/);
      } finally {
        await t.close();
      }
    });
  }
});
