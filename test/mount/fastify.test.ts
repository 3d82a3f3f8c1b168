/**
 * switchboard/fastify with the real Fastify 5 and the real socket.io-client:
 * the plugin decorates `fastify.io`, serves polling and websocket on
 * `fastify.server` ahead of Fastify's router (its text parser and 404 handler
 * never see a Socket.IO request), and closes the Socket.IO server with Fastify,
 * even while a websocket client is still connected. `fastify.bayeux` serves
 * Bayeux at /bayeux beside it, tested with the real Faye client.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { io as connect } from "socket.io-client";
import { BayeuxServer } from "../../src/bayeux/index.js";
import switchboard, { fastifySwitchboard } from "../../src/mount/fastify.js";
import { itAppliesOneCors } from "./cors.js";
import { assertFayeRoundTrip, bayeuxHandshake, fayeClient, fayeClientId, until } from "./faye.js";
import {
  assertBothTransports,
  assertPollingHandshake,
  assertRoundTrip,
  get,
  installEcho,
  itServesSocketIo,
} from "./helpers.js";

async function build(options: Parameters<typeof switchboard>[1] = {}): Promise<FastifyInstance> {
  const fastify = Fastify();
  fastify.get("/hello", async () => ({ hello: "fastify" }));
  fastify.post("/echo-body", async (request) => ({ got: request.body }));
  fastify.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ fastify404: true });
  });
  await fastify.register(switchboard, options);
  installEcho(fastify.io);
  return fastify;
}

describe("switchboard/fastify", () => {
  let fastify: FastifyInstance;
  let url = "";

  before(async () => {
    fastify = await build();
    url = await fastify.listen({ port: 0, host: "127.0.0.1" });
  });

  after(() => fastify.close());

  it("decorates the instance with the Socket.IO server", () => {
    assert.equal(typeof fastify.io.on, "function");
    assert.equal(fastify.io.path(), "/socket.io");
    assert.equal(fastifySwitchboard, switchboard);
  });

  itServesSocketIo(() => url, "answers the polling handshake, not Fastify's 404");

  it("leaves Fastify's own routes, parsers and 404 working", { timeout: 10_000 }, async () => {
    const hello = await get(`${url}/hello`);
    assert.equal(hello.status, 200);
    assert.deepEqual(JSON.parse(hello.body), { hello: "fastify" });
    const posted = await get(`${url}/echo-body`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "abc",
    });
    assert.deepEqual(JSON.parse(posted.body), { got: "abc" });
    const missing = await get(`${url}/nothing-here`);
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { fastify404: true });
  });
});

describe("switchboard/fastify options and shutdown", () => {
  it("takes the Socket.IO path from the plugin options", { timeout: 10_000 }, async () => {
    const fastify = await build({ path: "/rt" });
    const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
    try {
      await assertRoundTrip(url, "websocket", "/rt");
      await assertPollingHandshake(url, "/rt");
      assert.equal((await get(`${url}/socket.io/`)).status, 404);
    } finally {
      await fastify.close();
    }
  });

  it("rejects overlapping mount prefixes at registration", { timeout: 10_000 }, async () => {
    const fastify = Fastify();
    await assert.rejects(
      async () => {
        await fastify.register(switchboard, {
          path: "/a",
          mounts: [{ path: "/a/b", handleRequest() {} }],
        });
      },
      { code: "ERR_MOUNT_CONFLICT" },
    );
    await fastify.close();
  });

  it("refuses a second registration on the paths it serves", { timeout: 10_000 }, async () => {
    const fastify = Fastify();
    await fastify.register(switchboard);
    await assert.rejects(
      async () => {
        await fastify.register(switchboard);
      },
      { code: "ERR_MOUNT_CONFLICT", message: /\/socket\.io is already served/ },
    );
    await fastify.close();
  });

  it("fastify.close() disconnects a connected websocket client", { timeout: 10_000 }, async () => {
    const fastify = await build();
    const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
    const client = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    const disconnected = new Promise<string>((resolve) => client.once("disconnect", resolve));
    await fastify.close();
    assert.equal(await disconnected, "transport close");
    client.close();
  });
});

describe("switchboard/fastify with Bayeux", () => {
  let fastify: FastifyInstance;
  let url = "";

  before(async () => {
    fastify = await build();
    url = await fastify.listen({ port: 0, host: "127.0.0.1" });
  });

  after(() => fastify.close());

  it("decorates the instance with the Bayeux server at /bayeux", () => {
    assert.ok(fastify.bayeux instanceof BayeuxServer);
    assert.equal(fastify.bayeux.options.path, "/bayeux");
  });

  it("round-trips a Faye publish over long-polling", { timeout: 15_000 }, async () => {
    await assertFayeRoundTrip(`${url}/bayeux`, "long-polling", fastify.bayeux!);
  });

  it("round-trips a Faye publish over websocket", { timeout: 15_000 }, async () => {
    await assertFayeRoundTrip(`${url}/bayeux`, "websocket", fastify.bayeux!);
  });

  it("keeps Socket.IO and Fastify's routes working beside Bayeux", {
    timeout: 10_000,
  }, async () => {
    await assertBothTransports(url);
    assert.deepEqual(JSON.parse((await get(`${url}/hello`)).body), { hello: "fastify" });
    assert.deepEqual(JSON.parse((await get(`${url}/bayeuxx`)).body), { fastify404: true });
  });
});

describe("switchboard/fastify Bayeux options and shutdown", () => {
  it("bayeux: false decorates null and leaves /bayeux to Fastify", {
    timeout: 10_000,
  }, async () => {
    const fastify = await build({ bayeux: false });
    const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
    try {
      assert.equal(fastify.bayeux, null);
      const res = await bayeuxHandshake(`${url}/bayeux`);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { fastify404: true });
    } finally {
      await fastify.close();
    }
  });

  it("serves a given BayeuxServer at its path and closes it with Fastify", {
    timeout: 15_000,
  }, async () => {
    const bayeux = new BayeuxServer({ path: "/faye" });
    const fastify = await build({ bayeux });
    const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
    let closed = false;
    try {
      assert.equal(fastify.bayeux, bayeux);
      await assertFayeRoundTrip(`${url}/faye`, "long-polling", bayeux);
      // A websocket Faye client still connected must not hold fastify.close() open.
      const client = fayeClient(`${url}/faye`, "websocket");
      await client.subscribe("/held", () => {});
      const clientId = fayeClientId(client)!;
      await until(() => bayeux.getSession(clientId)?.connectionType === "websocket");
      const ended = new Promise<string>((resolve) =>
        bayeux.once("disconnect", (_id, reason) => resolve(reason)),
      );
      await fastify.close();
      closed = true;
      assert.equal(await ended, "server close");
      assert.equal(bayeux.closed, true);
      // The server is gone: stop Faye's transports rather than let it retry.
      client._dispatcher.close();
    } finally {
      if (!closed) await fastify.close();
    }
  });
});

describe("switchboard/fastify cross-origin", () => {
  itAppliesOneCors(async (options) => {
    const fastify = await build(options);
    const url = await fastify.listen({ port: 0, host: "127.0.0.1" });
    return { url, close: () => fastify.close() };
  });
});
