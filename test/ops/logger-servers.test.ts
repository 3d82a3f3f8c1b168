/**
 * The `logger` option on real servers: a capture logger (every record kept)
 * on a Socket.IO server with socket.io-client over loopback sees the engine's
 * handshake and close, connect, disconnect with its reason, a middleware's
 * refusal, an unknown namespace, a bad transport with its code and an ack
 * timeout, each at debug with its fields; at info level none of them is
 * written (nor built). The upgrade, recovery succeeded and failed (debug),
 * a recovery log that fails (error) and a socket error nobody listens to
 * (warn); the engine's maxConnections warning and a request that failed
 * inside it (error). A pino-shaped logger gets one
 * child per component through a mount; the Bayeux server logs refused
 * handshakes and connects, failing extensions and service handlers (error),
 * a stalled extension (warn), an expired session (debug) and its closing
 * (info).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { BayeuxServer } from "../../src/bayeux/index.js";
import { Server as EngineServer } from "../../src/engine/index.js";
import { MemoryMessageLog, type ReadResult, Server } from "../../src/index.js";
import { createSocketIoRouter } from "../../src/mount/socketio.js";
import { createJsonLogger } from "../../src/ops/json-logger.js";
import type { Logger } from "../../src/shared/logger.js";
import { type LogRecord, recordingLogger } from "../helpers/recording-logger.js";
import { until } from "../socketio/raw-clients.js";

const clients: ClientSocket[] = [];
after(() => {
  for (const client of clients) client.disconnect();
});

async function listen(io: Server): Promise<string> {
  const http = createServer();
  io.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

/** `engine` on a node http server of its own, listening on loopback; `close` ends both. */
async function listenEngine(engine: EngineServer): Promise<{ base: string; close(): void }> {
  const http = createServer();
  engine.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => {
      engine.close();
      http.close();
    },
  };
}

function client(url: string, nsp = "/"): ClientSocket {
  const socket = ioc(`${url}${nsp}`, {
    forceNew: true,
    reconnection: false,
    transports: ["websocket"],
  });
  clients.push(socket);
  return socket;
}

function settle(socket: ClientSocket): Promise<"connect" | string> {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve("connect"));
    socket.once("connect_error", (err) => resolve(`connect_error: ${err.message}`));
  });
}

function find(records: LogRecord[], msg: string, component?: string): LogRecord | undefined {
  return records.find(
    (r) => r.msg === msg && (component === undefined || r.bindings.component === component),
  );
}

async function recorded(records: LogRecord[], msg: string, component?: string) {
  await until(() => find(records, msg, component) !== undefined, 5000, `a "${msg}" record`);
  return find(records, msg, component) as LogRecord;
}

/** What the server does per connection in these tests. */
async function exercise(io: Server, url: string): Promise<void> {
  io.of("/guarded").use((_socket, next) => next(new Error("no entry")));
  // The client never answers "question": its acknowledgement times out.
  const timedOut = new Promise<unknown>((resolve) => {
    io.on("connection", (socket) => {
      socket.on("ask-me", () => socket.timeout(50).emit("question", resolve));
    });
  });
  const good = client(url);
  assert.equal(await settle(good), "connect");
  good.emit("ask-me");
  assert.match(String(await timedOut), /timed out/);
  assert.equal(await settle(client(url, "/guarded")), "connect_error: no entry");
  assert.equal(await settle(client(url, "/nowhere")), "connect_error: Invalid namespace");
  const refused = await fetch(`${url}/socket.io/?EIO=4&transport=bogus`);
  assert.equal(refused.status, 400);
  await refused.text();
  const gone = new Promise((resolve) => good.once("disconnect", resolve));
  good.disconnect();
  await gone;
}

describe("logger option, Socket.IO server", () => {
  it("logs per-connection events at debug with their fields", { timeout: 20_000 }, async () => {
    const { records, logger } = recordingLogger();
    const io = new Server({ logger });
    const url = await listen(io);
    try {
      await exercise(io, url);

      const handshake = await recorded(records, "handshake", "engine");
      assert.equal(handshake.level, "debug");
      assert.equal(typeof handshake.obj.sid, "string");
      assert.equal(handshake.obj.transport, "websocket");

      const connect = await recorded(records, "connect", "socketio");
      assert.equal(connect.level, "debug");
      assert.equal(connect.obj.sid, handshake.obj.sid);
      assert.equal(connect.obj.nsp, "/");
      assert.equal(typeof connect.obj.socketId, "string");
      assert.equal(connect.obj.recovered, false);

      const refusedByMiddleware = await recorded(records, "connect_error: refused by a middleware");
      assert.equal(refusedByMiddleware.level, "debug");
      assert.equal(refusedByMiddleware.obj.nsp, "/guarded");
      assert.equal((refusedByMiddleware.obj.err as Error).message, "no entry");

      const invalid = await recorded(records, "connect_error: invalid namespace");
      assert.equal(invalid.obj.nsp, "/nowhere");

      const bad = await recorded(records, "connection refused: Transport unknown", "engine");
      assert.equal(bad.level, "debug");
      assert.equal(bad.obj.code, "ERR_EIO_UNKNOWN_TRANSPORT");
      assert.equal(bad.obj.status, 400);
      assert.deepEqual(bad.obj.context, { transport: "bogus" });

      const ack = await recorded(records, "ack timed out", "socketio");
      assert.equal(ack.level, "debug");
      assert.equal(ack.obj.socketId, connect.obj.socketId);
      assert.equal(ack.obj.timeout, 50);

      const disconnect = await recorded(records, "disconnect", "socketio");
      assert.equal(disconnect.obj.socketId, connect.obj.socketId);
      assert.equal(disconnect.obj.reason, "client namespace disconnect");
      const closed = await recorded(records, "session closed", "engine");
      assert.equal(typeof closed.obj.reason, "string");

      // Every record is (object, message), never printf arguments.
      for (const r of records) {
        assert.equal(typeof r.msg, "string");
        assert.ok(r.msg.length > 0);
        assert.equal(typeof r.obj, "object");
      }
    } finally {
      await io.close();
    }
  });

  it("writes and builds nothing per connection at info level", { timeout: 20_000 }, async () => {
    const lines: string[] = [];
    const json = createJsonLogger({ level: "info", write: (line) => lines.push(line) });
    let debugCalls = 0;
    // The JSON logger, counting what reaches its debug method at all.
    const counting = (inner: Logger): Logger => ({
      debug: (obj, msg) => {
        debugCalls++;
        inner.debug(obj, msg);
      },
      info: (obj, msg) => inner.info(obj, msg),
      warn: (obj, msg) => inner.warn(obj, msg),
      error: (obj, msg) => inner.error(obj, msg),
      isLevelEnabled: (level) => inner.isLevelEnabled?.(level) ?? true,
      child: (bindings) => counting(inner.child?.(bindings) ?? inner),
    });
    const io = new Server({ logger: counting(json) });
    const url = await listen(io);
    await exercise(io, url);
    await io.close();
    assert.equal(debugCalls, 0);
    const records = lines.map((line) => JSON.parse(line));
    assert.deepEqual(
      records.map((r) => [r.level, r.component, r.msg]),
      [[30, "socketio", "closing"]],
    );
  });

  it("refuses a logger that is not one", () => {
    assert.throws(() => new Server({ logger: {} as Logger }), /option "logger" must be a logger/);
    assert.throws(() => new BayeuxServer({ logger: "x" as unknown as Logger }), RangeError);
  });
});

/** A recovery log whose reads fail while `failing` is set (a store that went down). */
class FlakyLog extends MemoryMessageLog {
  failing = false;
  override readAfterNow(stream: string, offset: string | null, limit?: number): ReadResult {
    if (this.failing) throw new Error("log unreachable");
    return super.readAfterNow(stream, offset, limit);
  }
}

describe("logger option, Socket.IO recovery, upgrades and socket errors", () => {
  it("logs the upgrade, recovery succeeded and failed (debug), a failing log (error), an unheard socket error (warn)", {
    timeout: 20_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const log = new FlakyLog();
    const io = new Server({ logger, connectionStateRecovery: { messageLog: log } });
    const sockets: import("../../src/index.js").Socket[] = [];
    io.on("connection", (socket) => sockets.push(socket));
    const url = await listen(io);
    // Polling first, then the upgrade to websocket; reconnects come at once.
    const client = ioc(url, { forceNew: true, reconnectionDelay: 20, reconnectionDelayMax: 20 });
    clients.push(client);
    /** Cuts the current connection from the server side and waits for the client's next one. */
    const reconnect = async (): Promise<void> => {
      const count = sockets.length;
      sockets[count - 1].conn.close();
      await until(() => sockets.length === count + 1 && client.connected, 5000, "a reconnect");
    };
    /** Delivers one broadcast, so the client holds an offset to resume from. */
    const tick = async (): Promise<void> => {
      const got = new Promise((resolve) => client.once("tick", resolve));
      io.emit("tick");
      await got;
    };
    try {
      assert.equal(await settle(client), "connect");
      const upgraded = await recorded(records, "upgraded", "engine");
      assert.equal(upgraded.level, "debug");
      assert.equal(upgraded.obj.sid, sockets[0].conn.id);
      assert.equal(upgraded.obj.transport, "websocket");

      await tick();
      await reconnect();
      assert.equal(client.recovered, true);
      const succeeded = await recorded(records, "recovery succeeded", "socketio");
      assert.equal(succeeded.level, "debug");
      assert.equal(succeeded.obj.nsp, "/");
      assert.equal(succeeded.obj.sid, sockets[1].conn.id);
      assert.equal(succeeded.obj.missed, 0);
      assert.equal(typeof succeeded.obj.pid, "string");

      await tick();
      (client as unknown as { _pid: string })._pid = "forged";
      await reconnect();
      assert.equal(client.recovered, false);
      const unknown = await recorded(records, "recovery failed: no such session", "socketio");
      assert.equal(unknown.level, "debug");
      assert.equal(unknown.obj.pid, "forged");
      assert.equal(unknown.obj.sid, sockets[2].conn.id);

      await tick();
      log.failing = true;
      await reconnect();
      assert.equal(client.recovered, false);
      const lookup = await recorded(records, "recovery failed: session lookup", "socketio");
      assert.equal(lookup.level, "error");
      assert.equal(lookup.obj.nsp, "/");
      assert.equal((lookup.obj.err as Error).message, "log unreachable");
      log.failing = false;

      // An event middleware's error with no `error` listener on the socket.
      sockets[3].use((_event, next) => next(new Error("not allowed")));
      client.emit("anything");
      const unheard = await recorded(records, "socket error, no error listener", "socketio");
      assert.equal(unheard.level, "warn");
      assert.equal(unheard.obj.socketId, sockets[3].id);
      assert.equal(unheard.obj.nsp, "/");
      assert.equal((unheard.obj.err as Error).message, "not allowed");
    } finally {
      client.disconnect();
      await io.close();
    }
  });
});

describe("logger option, engine", () => {
  it("warns of a dropped slow consumer once per 10 s, with its fields", {
    timeout: 10_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const engine = new EngineServer({ logger, maxBufferedBytes: 1000, transports: ["polling"] });
    const closed: string[] = [];
    engine.on("connection", (socket) => {
      socket.on("close", (reason: string) => closed.push(reason));
    });
    const { base, close } = await listenEngine(engine);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${base}/engine.io/?EIO=4&transport=polling`);
        assert.equal(res.status, 200);
        const { sid } = JSON.parse((await res.text()).slice(1)) as { sid: string };
        // No poll is held after the handshake: 2000 bytes wait, past the 1000 allowed.
        engine.clients[sid].send("x".repeat(2000));
      }
      await until(() => closed.length === 2, 5000, "both sessions closed");
      const warnings = records.filter((r) => r.level === "warn");
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.equal(warnings[0].msg, "slow consumer dropped: outgoing buffer full");
      assert.equal(warnings[0].bindings.component, "engine");
      assert.equal(warnings[0].obj.transport, "polling");
      assert.equal(warnings[0].obj.maxBufferedBytes, 1000);
      assert.equal(warnings[0].obj.suppressed, 0);
      assert.equal(typeof warnings[0].obj.sid, "string");
    } finally {
      close();
    }
  });
  it("warns when maxConnections refuses a handshake, with the limit", {
    timeout: 10_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const engine = new EngineServer({ logger, maxConnections: 1, transports: ["polling"] });
    const { base, close } = await listenEngine(engine);
    try {
      const first = await fetch(`${base}/engine.io/?EIO=4&transport=polling`);
      assert.equal(first.status, 200);
      await first.text();
      const second = await fetch(`${base}/engine.io/?EIO=4&transport=polling`);
      assert.notEqual(second.status, 200);
      await second.text();
      assert.equal(engine.clientsCount, 1);
      const limit = await recorded(records, "connection refused: maxConnections reached", "engine");
      assert.equal(limit.level, "warn");
      assert.equal(limit.obj.max, 1);
      assert.equal(limit.obj.suppressed, 0);
      assert.equal(typeof limit.obj.code, "string");
    } finally {
      close();
    }
  });
  it("logs a request that failed inside the server as an error, and answers it", {
    timeout: 10_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const engine = new EngineServer({ logger, transports: ["polling"] });
    // A listener that throws while the handshake's answer is being written.
    engine.on("initial_headers", () => {
      throw new Error("listener broke");
    });
    const { base, close } = await listenEngine(engine);
    try {
      const res = await fetch(`${base}/engine.io/?EIO=4&transport=polling`);
      assert.equal(res.status, 400);
      await res.text();
      const failed = await recorded(records, "engine request failed", "engine");
      assert.equal(failed.level, "error");
      assert.equal(failed.obj.url, "/engine.io/?EIO=4&transport=polling");
      assert.equal((failed.obj.err as Error).message, "listener broke");
    } finally {
      close();
    }
  });
});

describe("a pino-shaped logger", () => {
  type LogFn = (obj: unknown, msg?: unknown) => void;
  interface FakePino {
    level: string;
    calls: unknown[][];
    trace: LogFn;
    debug: LogFn;
    info: LogFn;
    warn: LogFn;
    error: LogFn;
    fatal: LogFn;
    isLevelEnabled(name: string): boolean;
    child(bindings: Record<string, unknown>): FakePino;
  }

  /** The part of pino a server uses: levels, isLevelEnabled, child, all recorded. */
  function fakePino(
    level: string,
    bindings: Record<string, unknown> = {},
    calls: unknown[][] = [],
  ): FakePino {
    const order = ["trace", "debug", "info", "warn", "error", "fatal"];
    const at = (name: string) => (obj: unknown, msg?: unknown) => {
      if (order.indexOf(name) >= order.indexOf(level)) calls.push([name, bindings, obj, msg]);
    };
    const logger: FakePino = {
      level,
      calls,
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      fatal: at("fatal"),
      isLevelEnabled: (name: string) => order.indexOf(name) >= order.indexOf(level),
      child: (more) => fakePino(level, { ...bindings, ...more }, calls),
    };
    return logger;
  }

  it("gets one child per component through a mount, and (obj, msg) calls", {
    timeout: 20_000,
  }, async () => {
    const pino = fakePino("debug");
    const { io, bayeux, router } = createSocketIoRouter({ logger: pino });
    const http = createServer();
    router.attach(http);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      assert.ok(bayeux);
      const socket = client(url);
      assert.equal(await settle(socket), "connect");
      const reply = await fetch(`${url}/bayeux`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ channel: "/meta/handshake" }]),
      });
      await reply.text();
      const components = () =>
        new Set(pino.calls.map((c) => (c[1] as { component?: string }).component));
      await until(
        () =>
          components().has("engine") && components().has("socketio") && components().has("bayeux"),
        5000,
        "records of the three components",
      );
      for (const [, , obj, msg] of pino.calls) {
        assert.equal(typeof obj, "object");
        assert.equal(typeof msg, "string");
      }
      const refused = pino.calls.find((c) => c[3] === "handshake refused");
      assert.ok(refused);
      assert.equal((refused[1] as { component: string }).component, "bayeux");
      assert.equal(io.logger.isLevelEnabled?.("debug"), true);
    } finally {
      await router.close();
      http.close();
    }
  });
});

describe("logger option, Bayeux server", () => {
  it("logs a session that stopped connecting as ended with reason expired", {
    timeout: 10_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const bayeux = new BayeuxServer({
      logger,
      timeout: 100,
      interval: 0,
      sessionGrace: 100,
      timerResolution: 10,
    });
    try {
      const ok = await bayeux.process([
        { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
      ]);
      const clientId = ok.replies[0].clientId as string;
      const ended = await recorded(records, "session ended", "bayeux");
      assert.equal(ended.level, "debug");
      assert.deepEqual(ended.obj, { clientId, reason: "expired" });
      assert.equal(bayeux.sessionCount, 0);
    } finally {
      await bayeux.close();
    }
  });
  it("logs failing extensions and service handlers (error), a stalled extension (warn), and closing (info)", {
    timeout: 10_000,
  }, async () => {
    const { records, logger } = recordingLogger();
    const bayeux = new BayeuxServer({ logger, extensionTimeout: 100 });
    bayeux.addExtension({
      incoming(message, _request, callback) {
        if (message.channel === "/in/throws") throw new Error("incoming broke");
        if (message.channel === "/in/stalls") return; // never calls back
        callback(message);
      },
      outgoing(message, _request, callback) {
        // Replies only (the publish itself passes outgoing once on its way to subscribers).
        if (message.channel === "/out/throws" && "successful" in message) {
          throw new Error("outgoing broke");
        }
        callback(message);
      },
    });
    bayeux.service("/service/fails", () => {
      throw new Error("service broke");
    });
    try {
      const ok = await bayeux.process([
        { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
      ]);
      const clientId = ok.replies[0].clientId as string;
      const publish = async (channel: string) =>
        (await bayeux.process([{ channel, clientId, data: { n: 1 } }])).replies[0];

      const incoming = await publish("/in/throws");
      assert.equal(incoming.successful, false);
      assert.match(String(incoming.error), /^500:/);
      const handling = find(records, "message handling failed", "bayeux");
      assert.ok(handling);
      assert.equal(handling.level, "error");
      assert.equal(handling.obj.channel, "/in/throws");
      assert.equal(handling.obj.clientId, clientId);
      assert.equal((handling.obj.err as Error).message, "incoming broke");

      // The reply goes out as it was, the failure logged.
      const outgoing = await publish("/out/throws");
      assert.equal(outgoing.successful, true);
      const out = find(records, "outgoing extension failed", "bayeux");
      assert.ok(out);
      assert.equal(out.level, "error");
      assert.equal(out.obj.channel, "/out/throws");
      assert.equal((out.obj.err as Error).message, "outgoing broke");

      // The server's timer wheel does not hold the process open; until's polling does meanwhile.
      let stalled: Awaited<ReturnType<typeof publish>> | undefined;
      void publish("/in/stalls").then((reply) => {
        stalled = reply;
      });
      await until(() => stalled !== undefined, 5000, "a reply past extensionTimeout");
      assert.ok(stalled);
      assert.equal(stalled.successful, false);
      const timedOut = find(records, "extension timed out", "bayeux");
      assert.ok(timedOut);
      assert.equal(timedOut.level, "warn");
      assert.equal(timedOut.obj.channel, "/in/stalls");

      const service = await publish("/service/fails");
      assert.equal(service.successful, false);
      const failed = find(records, "service handler failed", "bayeux");
      assert.ok(failed);
      assert.equal(failed.level, "error");
      assert.equal(failed.obj.channel, "/service/fails");
      assert.equal(failed.obj.clientId, clientId);
      assert.equal((failed.obj.err as Error).message, "service broke");
      assert.equal(find(records, "closing"), undefined, "not before close()");
    } finally {
      await bayeux.close();
    }
    const closing = find(records, "closing", "bayeux");
    assert.ok(closing);
    assert.equal(closing.level, "info");
    assert.equal(closing.obj.sessions, 1);
    await bayeux.close();
    assert.equal(records.filter((r) => r.msg === "closing").length, 1, "logged once");
  });
  it("logs refused handshakes and connects at debug, session ends with their reason", async () => {
    const { records, logger } = recordingLogger();
    const bayeux = new BayeuxServer({ logger });
    try {
      const bad = await bayeux.process([{ channel: "/meta/handshake", version: "1.0" }]);
      assert.equal(bad.replies[0].successful, false);
      const handshake = find(records, "handshake refused", "bayeux");
      assert.ok(handshake);
      assert.equal(handshake.level, "debug");
      assert.match(String(handshake.obj.error), /supportedConnectionTypes/);

      const unknown = await bayeux.process([
        { channel: "/meta/connect", clientId: "nobody", connectionType: "long-polling" },
      ]);
      assert.equal(unknown.replies[0].successful, false);
      const connect = find(records, "connect refused", "bayeux");
      assert.ok(connect);
      assert.match(String(connect.obj.error), /^402/);

      const ok = await bayeux.process([
        { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
      ]);
      const clientId = ok.replies[0].clientId as string;
      assert.equal(find(records, "session opened")?.obj.clientId, clientId);
      await bayeux.process([{ channel: "/meta/disconnect", clientId }]);
      const ended = find(records, "session ended");
      assert.equal(ended?.obj.clientId, clientId);
      assert.equal(typeof ended?.obj.reason, "string");
    } finally {
      await bayeux.close();
    }
  });
});
