/**
 * The real Faye 1.4 client against Switchboard's Bayeux server over loopback,
 * over long-polling (websocket disabled) and over websocket.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { delay, type Running, startServer } from "../bayeux/helpers.js";

const require = createRequire(import.meta.url);

interface FayeSubscription extends PromiseLike<unknown> {
  cancel(): void;
}
interface FayeClient {
  subscribe(channel: string, callback: (message: unknown) => void): FayeSubscription;
  publish(channel: string, data: unknown): PromiseLike<unknown>;
  disable(feature: string): void;
  disconnect(): PromiseLike<unknown> | undefined;
  _dispatcher: { clientId?: string; close(): void };
  addExtension(extension: object): void;
  connect(callback?: () => void): void;
  _state: number;
  bind(event: string, callback: () => void): void;
  getState(): string;
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

function clientIdOf(c: FayeClient): string | undefined {
  return c._dispatcher.clientId;
}

/** Resolves with the first value `register` hands to its callback, or rejects after `ms`. */
function waitFor<T>(register: (done: (value: T) => void) => void, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out")), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function until(test: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(20);
  }
}

for (const transport of ["long-polling", "websocket"] as const) {
  describe(`faye client over ${transport}`, { timeout: 30000 }, () => {
    let s: Running;
    const clients: FayeClient[] = [];
    function client(): FayeClient {
      const c = new faye.Client(s.url, { timeout: 10, retry: 1 });
      if (transport === "long-polling") c.disable("websocket");
      clients.push(c);
      return c;
    }
    before(async () => {
      s = await startServer({ timeout: 2000 });
    });
    after(async () => {
      // Faye ignores disconnect() unless connected, and a client left
      // rehandshaking would retry forever: let each settle first.
      for (const c of clients) await shutdown(c);
      await delay(100);
      await s.close();
    });

    it("handshakes and connects with the expected connection type", async () => {
      const c = client();
      await waitFor<void>((done) => c.connect(() => done()));
      const clientId = clientIdOf(c)!;
      assert.ok(s.bayeux.getSession(clientId));
      await until(() => s.bayeux.getSession(clientId)?.connectionType === transport);
    });

    it("subscribes with wildcards and receives publishes from another client", async () => {
      const a = client();
      const b = client();
      const one: unknown[] = [];
      const many: unknown[] = [];
      await a.subscribe("/chat/*", (m) => one.push(m));
      await a.subscribe("/chat/**", (m) => many.push(m));
      await b.publish("/chat/room", { text: "hi" });
      await b.publish("/chat/room/deep", { text: "deep" });
      await until(() => many.length === 2);
      assert.deepEqual(one, [{ text: "hi" }]);
      assert.deepEqual(many, [{ text: "hi" }, { text: "deep" }]);
    });

    it("receives server-side publishes and stops after unsubscribe", async () => {
      const c = client();
      const got: unknown[] = [];
      const subscription = c.subscribe("/news", (m) => got.push(m));
      await subscription;
      s.bayeux.publish("/news", 1);
      await until(() => got.length === 1);
      subscription.cancel();
      const session = s.bayeux.getSession(clientIdOf(c)!)!;
      await until(() => !s.bayeux.router.isSubscribed(session, "/news"));
      s.bayeux.publish("/news", 2);
      await delay(200);
      assert.deepEqual(got, [1]);
    });

    it("passes ext from a client extension through to subscribers", async () => {
      const publisher = client();
      publisher.addExtension({
        outgoing(message: { channel: string; ext?: object }, callback: (m: object) => void) {
          if (!message.channel.startsWith("/meta/")) message.ext = { token: "t-1" };
          callback(message);
        },
      });
      const listener = client();
      const seen: unknown[] = [];
      listener.addExtension({
        incoming(message: { channel: string; ext?: unknown }, callback: (m: object) => void) {
          if (message.channel === "/ext") seen.push(message.ext);
          callback(message);
        },
      });
      await listener.subscribe("/ext", () => {});
      await publisher.publish("/ext", { n: 1 });
      await until(() => seen.length === 1);
      assert.deepEqual(seen, [{ token: "t-1" }]);
    });

    it("rehandshakes after a 402 when the server ends its session, and resubscribes", async () => {
      const c = client();
      const got: unknown[] = [];
      await c.subscribe("/again", (m) => got.push(m));
      const first = clientIdOf(c)!;
      const handshakes: string[] = [];
      s.bayeux.on("handshake", (id) => handshakes.push(id));
      assert.equal(s.bayeux.disconnectClient(first), true);
      // The client clears its id while it rehandshakes, so read it afresh.
      await until(() => {
        const current = clientIdOf(c);
        const session = current ? s.bayeux.getSession(current) : undefined;
        return session !== undefined && s.bayeux.router.isSubscribed(session, "/again");
      }, 10000);
      assert.notEqual(clientIdOf(c), first);
      assert.ok(handshakes.includes(clientIdOf(c)!));
      s.bayeux.publish("/again", "back");
      await until(() => got.length === 1);
      assert.deepEqual(got, ["back"]);
    });

    it("disconnects, ending the session on the server", async () => {
      const c = client();
      await waitFor<void>((done) => c.connect(() => done()));
      const clientId = clientIdOf(c)!;
      const ended = waitFor<string>((done) =>
        s.bayeux.on("disconnect", (id, reason) => {
          if (id === clientId) done(reason);
        }),
      );
      c.disconnect();
      assert.equal(await ended, "client disconnect");
      assert.equal(s.bayeux.getSession(clientId), undefined);
    });
  });
}
