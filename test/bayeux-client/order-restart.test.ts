/**
 * Per-publisher order end to end, with Switchboard's client against
 * Switchboard's server: publishers send every 20 ms for some seconds while
 * the server's HTTP listener is closed (every connection destroyed) and
 * opened again on the same port, and connections are cut at random. Each
 * subscriber (clients over websocket and long-polling, and an in-process
 * listener) must receive each publisher's messages in order, none lost, none
 * twice.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe as suite, test } from "node:test";
import type { BayeuxClient } from "../../src/bayeux/client/index.js";
import { BayeuxServer, bayeuxMount } from "../../src/bayeux/index.js";
import { MountRouter } from "../../src/mount/router.js";
import { testClient, waitFor } from "./helpers.js";

const CHANNEL = "/order/feed";

interface Listener {
  http: Server;
  sockets: Set<Socket>;
}

/** Serves `bayeux` on 127.0.0.1:`port` (0: any), tracking connections so they can be cut. */
async function listen(bayeux: BayeuxServer, port: number): Promise<Listener> {
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  const sockets = new Set<Socket>();
  http.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  new MountRouter().add(bayeuxMount(bayeux)).attach(http);
  http.listen(port, "127.0.0.1");
  await once(http, "listening");
  return { http, sockets };
}

/** Closes the listener and destroys every connection, as a crashed front end would. */
async function kill(listener: Listener): Promise<void> {
  const closed = once(listener.http, "close");
  listener.http.close();
  for (const socket of listener.sockets) socket.destroy();
  await closed;
}

/** What is wrong with a received sequence: duplicates, inversions, missing numbers. */
function describe(who: string, from: string, got: number[], total: number): string {
  const seen = new Set<number>();
  let twice = 0;
  let inverted = 0;
  for (let i = 0; i < got.length; i++) {
    if (seen.has(got[i])) twice++;
    seen.add(got[i]);
    if (i > 0 && got[i] < got[i - 1]) inverted++;
  }
  const missing: number[] = [];
  for (let n = 0; n < total; n++) if (!seen.has(n)) missing.push(n);
  return `${who} from ${from}: ${got.length}/${total} received, ${twice} twice, ${inverted} out of order, missing [${missing.slice(0, 20).join(",")}${missing.length > 20 ? ",..." : ""}]`;
}

interface Payload {
  from: string;
  n: number;
}

suite("per-publisher order through a restart and cut connections", { timeout: 90_000 }, () => {
  test("every subscriber gets each publisher's messages in order, none lost, none twice", async () => {
    const bayeux = new BayeuxServer({ timeout: 1000, sessionGrace: 20_000 });
    let listener = await listen(bayeux, 0);
    const { port } = listener.http.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/bayeux`;
    const clients: BayeuxClient[] = [];
    const make = (transport: "websocket" | "long-polling") => {
      const client = testClient(url, transport, {
        maxNetworkDelay: 2000,
        backoff: { initialDelay: 20, maxDelay: 200 },
      });
      clients.push(client);
      return client;
    };
    try {
      // Subscribers: what each received, per publisher.
      const received = new Map<string, Map<string, number[]>>();
      const record = (who: string) => {
        const perPublisher = new Map<string, number[]>();
        received.set(who, perPublisher);
        return (data: unknown) => {
          const { from, n } = data as Payload;
          let list = perPublisher.get(from);
          if (!list) perPublisher.set(from, (list = []));
          list.push(n);
        };
      };
      bayeux.subscribe(CHANNEL, record("in-process"));
      const subscribers = [
        ["sub-ws-1", make("websocket")],
        ["sub-ws-2", make("websocket")],
        ["sub-lp", make("long-polling")],
      ] as const;
      for (const [name, client] of subscribers) {
        await client.init();
        const deliver = record(name);
        await client.subscribe(CHANNEL, (message) => deliver(message.data));
      }
      const publishers = [
        ["pub-ws", make("websocket")],
        ["pub-lp", make("long-polling")],
      ] as const;
      for (const [, client] of publishers) await client.init();

      // Publish every 20 ms for 4 s; restart at 1.2 s; cut connections at random meanwhile.
      const sent = new Map<string, number>();
      const failures: string[] = [];
      const replies: Promise<unknown>[] = [];
      let stop = false;
      const loops = publishers.map(async ([name, client]) => {
        let n = 0;
        while (!stop) {
          const data: Payload = { from: name, n: n++ };
          replies.push(
            client.publish(CHANNEL, data).catch((err: Error) => {
              failures.push(`${name} #${data.n}: ${err.message}`);
            }),
          );
          sent.set(name, n);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      const chaos = (async () => {
        const started = Date.now();
        let restarted = false;
        while (Date.now() - started < 4000) {
          await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 200));
          if (!restarted && Date.now() - started > 1200) {
            restarted = true;
            await kill(listener);
            await new Promise((resolve) => setTimeout(resolve, 300));
            listener = await listen(bayeux, port);
            continue;
          }
          const open = [...listener.sockets];
          if (open.length > 0) open[Math.floor(Math.random() * open.length)].destroy();
        }
        stop = true;
      })();
      await chaos;
      await Promise.all(loops);
      await Promise.all(replies);
      assert.deepEqual(failures, [], "every publish was answered successfully");

      const expected = (name: string) => Array.from({ length: sent.get(name) ?? 0 }, (_, i) => i);
      const complete = () =>
        [...received.values()].every((perPublisher) =>
          publishers.every(([name]) => (perPublisher.get(name)?.length ?? 0) >= sent.get(name)!),
        );
      await waitFor(complete, 20_000, "every subscriber to receive every message").catch(() => {});
      const problems: string[] = [];
      for (const [who, perPublisher] of received) {
        for (const [name] of publishers) {
          const got = perPublisher.get(name) ?? [];
          const want = expected(name);
          if (JSON.stringify(got) !== JSON.stringify(want))
            problems.push(describe(who, name, got, want.length));
        }
      }
      assert.deepEqual(problems, []);
    } finally {
      await Promise.all(clients.map((client) => client.disconnect().catch(() => {})));
      await bayeux.close();
      await kill(listener).catch(() => {});
    }
  });
});
