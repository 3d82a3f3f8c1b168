/**
 * Soak under session churn: rounds of 2000 Bayeux sessions (half over
 * websocket, half over long-polling) handshaked, subscribed, connected and
 * ended with `/meta/disconnect`, against a server in a child process (the
 * websockets stay open across rounds, as a client may handshake again on its
 * connection). After
 * each round the child collects garbage and reports its RSS and heap: a
 * session that ends must leave nothing behind, so round 6 stays within 5 %
 * of round 1 (after two warm-up rounds), and so does the heap.
 */
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { WebSocket } from "ws";
import type { BayeuxMessage } from "../../src/codec/bayeux/index.js";
import { HANDSHAKE, post } from "./helpers.js";

const ROUNDS = 6;
const WARM_UP = 2;
const SESSIONS = 2000;
/** Sessions per websocket and per long-polling request (the server's maxBatchLength is 100). */
const PER_BATCH = 100;

interface Measure {
  rss: number;
  heapUsed: number;
  sessions: number;
  timers: number;
  topics: number;
}

function ask(child: ChildProcess): Promise<Measure> {
  const answer = once(child, "message") as Promise<[Measure]>;
  child.send("measure");
  return answer.then(([m]) => m);
}

/**
 * A websocket that stays open across rounds (a client may handshake again on
 * its connection: the socket must not keep the sessions it carried), with
 * replies matched to requests by id.
 */
class Peer {
  readonly ws: WebSocket;
  readonly #waiting = new Map<string, (m: BayeuxMessage) => void>();
  #batch = 0;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data) => {
      for (const m of JSON.parse(data.toString()) as BayeuxMessage[]) {
        if (m.id !== undefined) this.#waiting.get(String(m.id))?.(m);
      }
    });
  }

  /** Sends `messages` as one frame (each given a fresh id); resolves with their replies. */
  send(messages: Omit<BayeuxMessage, "id">[]): Promise<BayeuxMessage[]> {
    const prefix = `b${this.#batch++}-`;
    const batch = messages.map((m, i) => ({ ...m, id: `${prefix}${i}` }) as BayeuxMessage);
    const replies = Promise.all(
      batch.map(
        (m) => new Promise<BayeuxMessage>((resolve) => this.#waiting.set(String(m.id), resolve)),
      ),
    );
    this.ws.send(JSON.stringify(batch));
    return replies.finally(() => {
      for (const m of batch) this.#waiting.delete(String(m.id));
    });
  }
}

/** `count` sessions over an open websocket, each subscribed and connected, then all disconnected. */
async function churnWebSocket(peer: Peer, count: number): Promise<void> {
  const ids = (await peer.send(Array.from({ length: count }, () => ({ ...HANDSHAKE })))).map(
    (m) => m.clientId as string,
  );
  await peer.send(
    ids.map((clientId, i) => ({
      channel: "/meta/subscribe",
      clientId,
      subscription: `/churn/${i % 10}`,
    })),
  );
  await peer.send(
    ids.map((clientId) => ({ channel: "/meta/connect", clientId, connectionType: "websocket" })),
  );
  const replies = await peer.send(
    ids.map((clientId) => ({ channel: "/meta/disconnect", clientId })),
  );
  assert.ok(replies.every((m) => m.successful === true));
}

/** The same over long-polling: one request per step for `count` sessions. */
async function churnLongPolling(url: string, count: number): Promise<void> {
  const handshakes = Array.from({ length: count }, (_, i) => ({ ...HANDSHAKE, id: `h${i}` }));
  const ids = (await post(url, handshakes)).json().map((m) => m.clientId as string);
  await post(
    url,
    ids.map((clientId, i) => ({
      channel: "/meta/subscribe",
      clientId,
      subscription: `/churn/${i % 10}`,
    })),
  );
  await post(
    url,
    ids.map((clientId) => ({ channel: "/meta/connect", clientId, connectionType: "long-polling" })),
  );
  const replies = (
    await post(
      url,
      ids.map((clientId) => ({ channel: "/meta/disconnect", clientId })),
    )
  ).json();
  assert.ok(replies.every((m) => m.successful === true));
}

describe("bayeux churn soak", { timeout: 120_000 }, () => {
  let child: ChildProcess;
  let port: number;
  before(async () => {
    child = fork(fileURLToPath(new URL("./fixtures/churn-server.ts", import.meta.url)), [], {
      // A 1 MB young generation and single-threaded GC, as in the engine's
      // churn soak: otherwise pages the GC threads free after a measurement
      // swing RSS by several per cent while the heap stays flat.
      execArgv: [
        "--import",
        "tsx",
        "--expose-gc",
        "--max-semi-space-size=1",
        "--single-threaded-gc",
      ],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const [ready] = (await once(child, "message")) as [{ port: number }];
    port = ready.port;
  });
  after(async () => {
    if (child.exitCode === null) {
      const exited = once(child, "exit");
      child.send("exit");
      await exited;
    }
  });

  it(`${ROUNDS} rounds of ${SESSIONS} sessions: RSS of round ${ROUNDS} within 5 % of round 1`, async () => {
    const url = `http://127.0.0.1:${port}/bayeux`;
    const wsUrl = `ws://127.0.0.1:${port}/bayeux`;
    const peers = Array.from({ length: SESSIONS / (2 * PER_BATCH) }, () => new Peer(wsUrl));
    await Promise.all(peers.map((peer) => once(peer.ws, "open")));
    const rounds: Measure[] = [];
    // Two warm-up rounds (V8's young generation and the allocator's arenas
    // grow to their working size in them: a few MiB of RSS, no heap), then
    // rounds 1 to 6 are compared.
    for (let round = 1 - WARM_UP; round <= ROUNDS; round++) {
      const started = Date.now();
      await Promise.all(
        peers.flatMap((peer) => [
          churnWebSocket(peer, PER_BATCH),
          churnLongPolling(url, PER_BATCH),
        ]),
      );
      const m = await ask(child);
      rounds.push(m);
      console.log(
        `round ${round}: rss ${(m.rss / 2 ** 20).toFixed(1)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, ` +
          `${m.sessions} sessions, ${m.timers} timers, ${m.topics} topics (${Date.now() - started} ms)`,
      );
      assert.equal(m.sessions, 0, "every session ended");
      assert.equal(m.timers, 0, "no timer left");
      assert.equal(m.topics, 0, "no subscription left");
    }
    for (const peer of peers) peer.ws.close();
    const first = rounds[WARM_UP];
    const last = rounds[WARM_UP + ROUNDS - 1];
    assert.ok(
      last.rss <= first.rss * 1.05,
      `RSS grew from ${first.rss} to ${last.rss} bytes (more than 5 %)`,
    );
    assert.ok(
      last.heapUsed <= first.heapUsed * 1.05,
      `heap grew from ${first.heapUsed} to ${last.heapUsed} bytes (more than 5 %)`,
    );
  });
});
