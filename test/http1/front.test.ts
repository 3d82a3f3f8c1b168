/**
 * The HTTP/1.1 front on a real server, over real sockets: what it serves
 * itself (polls, posts and handshakes of Engine.IO polling, Bayeux
 * long-polling POSTs), what it hands to node:http (anything else, and then
 * the rest of that connection), and what it keeps of node:http's behaviour
 * (timeouts, Connection: close, close(), pipelining, errors).
 */
import assert from "node:assert/strict";
import { createServer, type Server as HttpServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, connect, type Socket as NetSocket } from "node:net";
import { after, describe, it } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { BayeuxServer, bayeuxMount } from "../../src/bayeux/index.js";
import { Http1Front } from "../../src/http1/front.js";
import { Server } from "../../src/index.js";
import { MountRouter } from "../../src/mount/router.js";
import { until } from "../socketio/raw-clients.js";

const T = { timeout: 20_000 };

interface Setup {
  http: HttpServer;
  io: Server;
  port: number;
  front: Http1Front;
  close(): Promise<void>;
}

async function start(
  options: ConstructorParameters<typeof Server>[1] = {},
  app?: (req: IncomingMessage, res: import("node:http").ServerResponse) => void,
): Promise<Setup> {
  const http = createServer(app);
  const io = new Server(http, options);
  io.on("connection", (socket) => {
    socket.on("echo", (data: unknown, ack?: (data: unknown) => void) => ack?.(data));
  });
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  const port = (http.address() as AddressInfo).port;
  const front = Http1Front.of(http);
  assert.ok(front, "a plain http.Server gets a front");
  return {
    http,
    io,
    port,
    front,
    close: () =>
      new Promise<void>((done) => {
        io.close(() => done());
      }),
  };
}

/** A raw connection that collects what the server writes. */
function raw(port: number): Promise<{ socket: NetSocket; text(): string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    const ended = new Promise<void>((done) => socket.on("close", () => done()));
    socket.on("error", () => {});
    socket.once("connect", () => resolve({ socket, text: () => received, ended }));
    socket.once("error", reject);
  });
}

/** The sid of a raw Engine.IO v4 polling handshake. */
async function handshake(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
  const body = await res.text();
  return (JSON.parse(body.slice(1)) as { sid: string }).sid;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("HTTP/1.1 front", () => {
  const open: Setup[] = [];
  after(async () => {
    for (const setup of open) await setup.close();
  });
  const setup = async (...args: Parameters<typeof start>): Promise<Setup> => {
    const s = await start(...args);
    open.push(s);
    return s;
  };

  it("serves a polling-only socket.io-client itself: handshake, events, acks", T, async () => {
    const s = await setup();
    const client: ClientSocket = ioc(`http://127.0.0.1:${s.port}`, {
      transports: ["polling"],
      forceNew: true,
    });
    try {
      await new Promise<void>((done) => client.once("connect", () => done()));
      for (let i = 0; i < 20; i++) assert.deepEqual(await client.emitWithAck("echo", { i }), { i });
      assert.ok(s.front.stats.served >= 40, `served ${s.front.stats.served}`);
      assert.equal(s.front.stats.handedOff, 0);
      const [socket] = await s.io.fetchSockets();
      const request = s.io.of("/").sockets.get(socket.id)!.request;
      assert.equal(request.headers.host, `127.0.0.1:${s.port}`);
      assert.equal(socket.handshake.address, "127.0.0.1");
    } finally {
      client.close();
    }
  });

  it(
    "hands a connection whose first request is the app's to node:http, and polls on it still work",
    T,
    async () => {
      const s = await setup({}, (_req, res) => res.end("app"));
      const c = await raw(s.port);
      const sid = await handshake(s.port);
      c.socket.write(`GET /page HTTP/1.1\r\nHost: x\r\n\r\n`);
      await until(() => c.text().includes("app"), 5000, "the app's answer");
      const served = s.front.stats.served;
      c.socket.write(
        `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n\r\n40`,
      );
      await until(() => c.text().endsWith("ok"), 5000, "ok");
      assert.equal(s.front.stats.served, served, "node:http served the rest of that connection");
      assert.equal(s.front.stats.handedOff, 1);
      c.socket.destroy();
    },
  );

  it("answers pipelined requests in order", T, async () => {
    const s = await setup();
    const sid = await handshake(s.port);
    const c = await raw(s.port);
    const post = (body: string) =>
      `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const get = `GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`;
    c.socket.write(`${post("40")}${get}`);
    await until(() => count(c.text(), "HTTP/1.1 200") === 2, 5000, "two answers");
    assert.ok(c.text().indexOf("\r\n\r\nok") < c.text().indexOf('40{"sid"'), "ok, then the poll");
    c.socket.write(`${post('421["echo","a"]')}${post('422["echo","b"]')}${get}`);
    await until(() => count(c.text(), "HTTP/1.1 200") === 5, 5000, "three more answers");
    const text = c.text();
    assert.equal(count(text, "\r\n\r\nok"), 3);
    assert.ok(text.endsWith('431["a"]\x1e432["b"]'), "the poll carries both acks, in order");
    assert.equal(s.front.stats.handedOff, 0);
    c.socket.destroy();
  });

  it("reads a body that arrives in pieces", T, async () => {
    const s = await setup();
    const sid = await handshake(s.port);
    const c = await raw(s.port);
    const body = `40`;
    c.socket.write(
      `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n4`,
    );
    await new Promise((done) => setImmediate(done));
    assert.equal(c.text(), "");
    c.socket.write("0");
    await until(() => c.text().endsWith("ok"), 5000, "ok");
    c.socket.destroy();
  });

  it("leaves what it does not parse to node:http, which answers 400 / 431", T, async () => {
    const s = await setup();
    const bad = await raw(s.port);
    bad.socket.write("GET /socket.io/?EIO=4 HTTP/1.1\r\nHost x\r\n\r\n");
    await until(() => bad.text().startsWith("HTTP/1.1 400"), 5000, "400");
    const big = await raw(s.port);
    big.socket.write(`GET /socket.io/ HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    await until(() => big.text().startsWith("HTTP/1.1 431"), 5000, "431");
    assert.equal(s.front.stats.handedOff, 2);
  });

  it(
    "gives a websocket upgrade, Expect: 100-continue and a too large body to node:http",
    T,
    async () => {
      const s = await setup({ maxHttpBufferSize: 100 });
      const ws = ioc(`http://127.0.0.1:${s.port}`, { transports: ["websocket"], forceNew: true });
      await new Promise<void>((done) => ws.once("connect", () => done()));
      assert.equal(await ws.emitWithAck("echo", 1), 1);
      ws.close();
      const sid = await handshake(s.port);
      const c = await raw(s.port);
      c.socket.write(
        `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n${"4".repeat(200)}`,
      );
      await until(
        () => c.text().startsWith("HTTP/1.1 413"),
        5000,
        "413 from the engine via node:http",
      );
      const e = await raw(s.port);
      e.socket.write(
        `POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n`,
      );
      await until(() => e.text().startsWith("HTTP/1.1 100"), 5000, "100 Continue from node");
      assert.ok(s.front.stats.handedOff >= 3);
      e.socket.destroy();
    },
  );

  it("closes after the answer when the client asks (Connection: close)", T, async () => {
    const s = await setup();
    const sid = await handshake(s.port);
    const c = await raw(s.port);
    c.socket.write(
      `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n40`,
    );
    await c.ended;
    assert.match(c.text(), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(c.text(), /\r\nConnection: close\r\n/i);
    assert.ok(c.text().endsWith("ok"));
  });

  it(
    "closes an idle connection after keepAliveTimeout, a stalled head after headersTimeout",
    T,
    async () => {
      const s = await setup();
      s.http.keepAliveTimeout = 100;
      s.http.headersTimeout = 300;
      const sid = await handshake(s.port);
      const idle = await raw(s.port);
      idle.socket.write(
        `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n40`,
      );
      await until(() => idle.text().endsWith("ok"), 5000, "ok");
      assert.match(idle.text(), /Keep-Alive: timeout=0/);
      const stalled = await raw(s.port);
      stalled.socket.write(`GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHo`);
      await Promise.all([idle.ended, stalled.ended]);
      assert.match(stalled.text(), /^HTTP\/1\.1 408/);
    },
  );

  it(
    "lets close() end: idle connections are closed, a held poll's closes after its answer",
    T,
    async () => {
      const s = await start();
      const sid = await handshake(s.port);
      const idle = await raw(s.port);
      idle.socket.write(
        `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n40`,
      );
      await until(() => idle.text().endsWith("ok"), 5000, "ok");
      const held = await raw(s.port);
      held.socket.write(
        `GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      await until(() => held.text().includes("40{"), 5000, "the CONNECT answer");
      held.socket.write(
        `GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      await until(() => s.front.connections === 2, 5000, "two connections");
      const closed = new Promise<void>((done) => s.io.close(() => done()));
      await Promise.all([idle.ended, held.ended, closed]);
      assert.equal(
        count(held.text(), "HTTP/1.1 200"),
        2,
        "the held poll was answered (the close packet)",
      );
    },
  );

  it("closeAllConnections() destroys the front's connections too", T, async () => {
    const s = await setup();
    const sid = await handshake(s.port);
    const held = await raw(s.port);
    held.socket.write(
      `GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    await until(() => held.text().includes("40{") || s.front.connections === 1, 5000, "held");
    s.http.closeAllConnections();
    await held.ended;
  });

  it("sees a client that goes away during a held poll", T, async () => {
    const s = await setup({ pingInterval: 60_000 });
    const sid = await handshake(s.port);
    const closes: string[] = [];
    s.io.engine.on("connection", () => {});
    const socket = s.io.engine.clients[sid] as unknown as {
      on(e: string, f: (r: string) => void): void;
    };
    socket.on("close", (reason: string) => closes.push(reason));
    const held = await raw(s.port);
    held.socket.write(
      `GET /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    await until(() => s.front.connections === 1, 5000, "held");
    held.socket.destroy();
    await until(() => closes.length === 1, 5000, "the session closes");
    assert.equal(closes[0], "transport error");
  });

  it("is not used with fastPolling: false, nor on an https server", T, async () => {
    const http = createServer();
    const io = new Server(http, { fastPolling: false });
    assert.deepEqual(
      http.listeners("connection").map((l) => l.name),
      ["connectionListener"],
    );
    io.close();
    assert.equal(Http1Front.of(createHttpsServer()), null);
  });

  it("serves Bayeux long-polling POSTs of a mounted Bayeux server", T, async () => {
    const http = createServer();
    const bayeux = new BayeuxServer({ path: "/bayeux", timeout: 5000 });
    const router = new MountRouter().add(bayeuxMount(bayeux)).attach(http);
    await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
    const port = (http.address() as AddressInfo).port;
    try {
      const post = async (body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}/bayeux`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return (await res.json()) as Record<string, unknown>[];
      };
      const [hs] = await post([
        { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
      ]);
      const clientId = hs.clientId as string;
      await post([{ channel: "/meta/subscribe", clientId, subscription: "/a" }]);
      const connect = () =>
        post([{ channel: "/meta/connect", clientId, connectionType: "long-polling" }]);
      await connect();
      const held = connect();
      const front = Http1Front.of(http)!;
      const served = front.stats.served;
      await until(() => front.stats.served > served, 5000, "the connect held");
      bayeux.publish("/a", { x: 1 });
      const answer = await held;
      assert.deepEqual(answer[0], { channel: "/a", data: { x: 1 } });
      assert.ok(front.stats.served >= 4, `served ${front.stats.served}`);
    } finally {
      await router.close();
      await new Promise<void>((done) => http.close(() => done()));
    }
  });
});
