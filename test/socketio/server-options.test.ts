/**
 * The Server's port argument and option checks: a port given as a string
 * (`process.env.PORT`) listens as socket.io's `attach` makes it; options of a
 * wrong type throw a TypeError naming the option when the server is built.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import * as socketIoParser from "socket.io-parser";
import { Adapter, InvalidOptionError, Server } from "../../src/index.js";
import { waitFor } from "./helpers.js";

const T = { timeout: 15_000 };

/** A port nobody listens on right now: listen on 0, read it, close. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("Server port argument", () => {
  it(
    "new Server(port as a string) listens on that port and serves socket.io-client",
    T,
    async () => {
      const port = await freePort();
      const io = new Server(String(port));
      try {
        const http = io.httpServer;
        assert.ok(http);
        if (!http.listening) await once(http, "listening");
        assert.equal((http.address() as AddressInfo).port, port);
        io.on("connection", (socket) =>
          socket.on("hi", (ack: (v: string) => void) => ack("hello")),
        );
        const { io: ioc } = await import("socket.io-client");
        const client = ioc(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false });
        await waitFor(client, "connect");
        assert.equal(await client.emitWithAck("hi"), "hello");
        client.disconnect();
      } finally {
        await io.close();
      }
    },
  );

  it('new Server("0") listens on a port the system picks; io.listen(" 0 ") too', T, async () => {
    for (const make of [() => new Server("0"), () => new Server().listen(" 0 ")]) {
      const io = make();
      try {
        const http = io.httpServer;
        assert.ok(http);
        if (!http.listening) await once(http, "listening");
        assert.ok((http.address() as AddressInfo).port > 0);
      } finally {
        await io.close();
      }
    }
  });

  it("a port string that is not a number throws a TypeError naming it", () => {
    assert.throws(() => new Server("abc"), { name: "TypeError", message: /"srv".*"abc"/ });
    assert.throws(() => new Server().attach("80a"), TypeError);
  });
});

describe("Server option checks", () => {
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["cors as a string", { cors: "https://app.example" }, /option "cors" must be/],
    ["cors as a number", { cors: 1 }, /option "cors" must be/],
    ["cors as a delegate function", { cors: () => ({}) }, /option "cors" must be/],
    ["cors.origin as a number", { cors: { origin: 42 } }, /option "cors\.origin" must be/],
    ["cors.methods as an object", { cors: { methods: {} } }, /option "cors\.methods" must be/],
    [
      "cors.optionsSuccessStatus as a string",
      { cors: { optionsSuccessStatus: "204" } },
      /option "cors\.optionsSuccessStatus"/,
    ],
    [
      "path without a leading /",
      { path: "socket.io" },
      /option "path" must be a string starting with "\/"/,
    ],
    ["path not a string", { path: 42 }, /option "path"/],
    ["adapter as an object", { adapter: {} }, /option "adapter" must be an adapter class/],
    ["adapter as an arrow function", { adapter: () => new Object() }, /option "adapter"/],
    ["connectTimeout as a string", { connectTimeout: "5000" }, /option "connectTimeout"/],
    ["connectTimeout negative", { connectTimeout: -1 }, /option "connectTimeout"/],
    ["maxAttachments as a string", { maxAttachments: "10" }, /option "maxAttachments"/],
    ["parser without a Decoder", { parser: { Encoder: class {} } }, /option "parser"/],
    [
      "connectionStateRecovery as a string",
      { connectionStateRecovery: "yes" },
      /option "connectionStateRecovery"/,
    ],
    [
      "connectionStateRecovery.maxDisconnectionDuration as a string",
      { connectionStateRecovery: { maxDisconnectionDuration: "1000" } },
      /option "connectionStateRecovery\.maxDisconnectionDuration"/,
    ],
    ["broker without methods", { broker: {} }, /option "broker"/],
  ];
  for (const [name, opts, message] of refused) {
    it(`refuses ${name} at construction with a TypeError naming the option`, () => {
      assert.throws(
        () => new Server(opts as never),
        (err: unknown) => {
          assert.ok(err instanceof TypeError);
          assert.ok(err instanceof InvalidOptionError);
          assert.equal(err.code, "ERR_SIO_INVALID_OPTION");
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it("checks the same options given to attach() and to the setters", async () => {
    const io = new Server();
    try {
      assert.throws(() => io.path("no-slash"), { name: "TypeError", message: /"path"/ });
      assert.throws(() => io.adapter((() => {}) as never), {
        name: "TypeError",
        message: /"adapter"/,
      });
      assert.throws(() => io.connectTimeout(Number.NaN), {
        name: "TypeError",
        message: /"connectTimeout"/,
      });
      assert.throws(() => io.attach(createServer(), { cors: "*" } as never), {
        name: "TypeError",
        message: /"cors"/,
      });
      assert.equal(io.path(), "/socket.io", "a refused path changes nothing");
    } finally {
      await io.close();
    }
  });

  it("accepts every option value socket.io documents", async () => {
    class CustomAdapter extends Adapter {}
    const servers = [
      new Server({ cors: true as never }),
      new Server({ cors: { origin: ["https://a.example", /\.b\.example$/], credentials: true } }),
      new Server({ cors: { origin: (_o, cb) => cb(null, true), methods: "GET,POST" } }),
      new Server({ path: "/custom/", adapter: CustomAdapter, connectTimeout: 1000 }),
      new Server({ parser: socketIoParser as never, connectionStateRecovery: {} }),
      new Server({
        connectionStateRecovery: { maxDisconnectionDuration: 1000, skipMiddlewares: false },
      }),
    ];
    assert.equal(servers[3].path(), "/custom");
    assert.ok(servers[3].of("/").adapter instanceof CustomAdapter);
    await Promise.all(servers.map((io) => io.close()));
  });
});
