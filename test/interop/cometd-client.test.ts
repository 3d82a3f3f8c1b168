/**
 * The real CometD 9 JavaScript client (run in Node through
 * cometd-nodejs-client 2) against Switchboard's Bayeux server, over
 * long-polling and websocket, plus Faye <-> CometD cross-client delivery.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { AckExtension, CometD, type Message } from "cometd";
import { adapt } from "cometd-nodejs-client";
import { delay, type Running, startServer } from "../bayeux/helpers.js";
import { call } from "../helpers/cometd.js";

adapt();
const require = createRequire(import.meta.url);

interface FayeClient {
  subscribe(channel: string, callback: (message: unknown) => void): PromiseLike<unknown>;
  publish(channel: string, data: unknown): PromiseLike<unknown>;
  disable(feature: string): void;
  disconnect(): PromiseLike<unknown> | undefined;
  _dispatcher: { clientId?: string; close(): void };
  /** Faye's client state; 3 is CONNECTED, the only state disconnect() acts in. */
  _state: number;
}
/**
 * Faye ignores disconnect() unless connected, and only closes its transports
 * once the reply arrives; a client left retrying would keep the process up.
 * So: let it settle, disconnect, wait for the reply, then close transports.
 */
async function shutdown(client: FayeClient): Promise<void> {
  await until(
    () => client._state === 3 /* CONNECTED */ || client._state === 4 /* DISCONNECTED */,
  ).catch(() => {});
  const done = client.disconnect();
  if (done) {
    await Promise.race([Promise.resolve(done).catch(() => {}), delay(3000)]);
  }
  client._dispatcher.close();
}

const faye = require("faye") as { Client: new (url: string, options?: object) => FayeClient };

async function until(test: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(20);
  }
}

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`cometd client over ${transport}`, { timeout: 40000 }, () => {
    let s: Running;
    const clients: CometD[] = [];
    const fayes: FayeClient[] = [];

    async function client(options: { ack?: boolean } = {}): Promise<CometD> {
      const c = new CometD();
      if (transport === "long-polling") c.unregisterTransport("websocket");
      if (options.ack) c.registerExtension("ack", new AckExtension());
      c.configure({ url: s.url, logLevel: "warn" });
      clients.push(c);
      const reply = await call((cb) => c.handshake(cb));
      assert.equal(reply.successful, true, JSON.stringify(reply));
      return c;
    }

    before(async () => {
      s = await startServer({ timeout: 2000 });
    });
    after(async () => {
      for (const c of clients)
        if (!c.isDisconnected()) await call((cb) => c.disconnect(cb)).catch(() => {});
      for (const f of fayes) await shutdown(f);
      await delay(100);
      await s.close();
    });

    it("handshakes and connects with the expected transport", async () => {
      const c = await client();
      assert.equal(c.getTransport()?.type, transport);
      await until(() => c.getStatus() === "connected");
      await until(() => s.bayeux.getSession(c.getClientId()!)?.connectionType === transport);
    });

    it("subscribes with wildcards and receives another client's publish", async () => {
      const a = await client();
      const b = await client();
      const one: unknown[] = [];
      const many: unknown[] = [];
      assert.equal(
        (await call((cb) => a.subscribe("/chat/*", (m) => one.push(m.data), cb))).successful,
        true,
      );
      assert.equal(
        (await call((cb) => a.subscribe("/chat/**", (m) => many.push(m.data), cb))).successful,
        true,
      );
      const published = await call((cb) => b.publish("/chat/room", { text: "hi" }, cb));
      assert.equal(published.successful, true);
      await call((cb) => b.publish("/chat/room/deep", { text: "deep" }, cb));
      await until(() => many.length === 2);
      assert.deepEqual(one, [{ text: "hi" }]);
      assert.deepEqual(many, [{ text: "hi" }, { text: "deep" }]);
    });

    it("stops receiving after unsubscribe", async () => {
      const c = await client();
      const got: unknown[] = [];
      const handle = c.subscribe("/news", (m) => got.push(m.data));
      await until(() => {
        const session = s.bayeux.getSession(c.getClientId()!);
        return session !== undefined && s.bayeux.router.isSubscribed(session, "/news");
      });
      s.bayeux.publish("/news", 1);
      await until(() => got.length === 1);
      assert.equal((await call((cb) => c.unsubscribe(handle, cb))).successful, true);
      s.bayeux.publish("/news", 2);
      await delay(200);
      assert.deepEqual(got, [1]);
    });

    it("passes ext from a client extension through to subscribers", async () => {
      const publisher = await client();
      publisher.registerExtension("token", {
        outgoing(message: Message) {
          if (!message.channel.startsWith("/meta/")) message.ext = { ...message.ext, token: "c-1" };
          return message;
        },
      });
      const listener = await client();
      const seen: unknown[] = [];
      await call((cb) => listener.subscribe("/ext", (m) => seen.push(m.ext), cb));
      await call((cb) => publisher.publish("/ext", { n: 1 }, cb));
      await until(() => seen.length === 1);
      assert.deepEqual(seen, [{ token: "c-1" }]);
    });

    it("rehandshakes after a 402 when the server ends its session", async () => {
      const c = await client();
      await until(() => c.getStatus() === "connected");
      const first = c.getClientId()!;
      const handshakes: Message[] = [];
      c.addListener("/meta/handshake", (m) => handshakes.push(m));
      const failures: Message[] = [];
      c.addListener("/meta/connect", (m) => {
        if (!m.successful) failures.push(m);
      });
      assert.equal(s.bayeux.disconnectClient(first), true);
      await until(() => handshakes.some((m) => m.successful) && c.getClientId() !== first, 10000);
      assert.match(String(failures[0]?.error), /^402:/);
      const second = c.getClientId()!;
      await until(() => s.bayeux.getSession(second)?.connected === true, 10000);
      const got: unknown[] = [];
      await call((cb) => c.subscribe("/again", (m) => got.push(m.data), cb));
      s.bayeux.publish("/again", "back");
      await until(() => got.length === 1);
    });

    it("acknowledges deliveries with the ack extension", async () => {
      const c = await client({ ack: true });
      assert.equal(s.bayeux.getSession(c.getClientId()!)?.ackEnabled, true);
      const got: unknown[] = [];
      await call((cb) => c.subscribe("/acked", (m) => got.push(m.data), cb));
      for (let i = 0; i < 3; i++) s.bayeux.publish("/acked", i);
      await until(() => got.length === 3);
      s.bayeux.publish("/acked", 3);
      await until(() => got.length === 4);
      assert.deepEqual(got, [0, 1, 2, 3], "each message exactly once, in order");
    });

    it("hears a Faye client, and Faye hears it", async () => {
      const c = await client();
      const f = new faye.Client(s.url, { timeout: 10 });
      if (transport === "long-polling") f.disable("websocket");
      fayes.push(f);
      const fromFaye: unknown[] = [];
      const fromCometd: unknown[] = [];
      await call((cb) => c.subscribe("/cross/faye", (m) => fromFaye.push(m.data), cb));
      await f.subscribe("/cross/cometd", (m) => fromCometd.push(m));
      await f.publish("/cross/faye", { from: "faye" });
      await call((cb) => c.publish("/cross/cometd", { from: "cometd" }, cb));
      await until(() => fromFaye.length === 1 && fromCometd.length === 1);
      assert.deepEqual(fromFaye, [{ from: "faye" }]);
      assert.deepEqual(fromCometd, [{ from: "cometd" }]);
    });

    it("disconnects, ending the session on the server", async () => {
      const c = await client();
      const clientId = c.getClientId()!;
      const reply = await call((cb) => c.disconnect(cb));
      assert.equal(reply.successful, true);
      assert.equal(s.bayeux.getSession(clientId), undefined);
    });
  });
}
