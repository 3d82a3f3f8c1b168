/**
 * Node deaths: three Switchboard nodes (test/fixtures/kill-node.ts, each its
 * own process) on one Redis behind a round-robin proxy without stickiness;
 * two publishers (socket.io-client, Switchboard's Bayeux client) send one
 * message every 10 ms each for `KILL_TEST_SECONDS` (default 60) while a node
 * is killed with SIGKILL and restarted at 1/4, 1/2 and 3/4 of the run, Redis
 * (append-only, fsync always) is killed and restarted once at ~0.37 of it,
 * and one random client's connections are cut in the proxy every 2-4 s.
 *
 * The proxy sends a request or upgrade that a dead node refuses to the next
 * node, as a balancer retries a failed connect on the next upstream (nginx's
 * default); what a node had accepted when it died is reset, and the clients
 * ride that out. KILL_TEST_PROXY=reset resets refused ones too.
 *
 * Every recovery-enabled subscriber (socket.io-client with connection state
 * recovery over polling, websocket and upgrade; CometD with its
 * AckExtension; Switchboard's Bayeux client) must end with every message its
 * publisher had acknowledged exactly once, in publish order. Faye (no ack
 * extension) is counted but not asserted. The counts are printed per client
 * kind. Needs the redis-server binary (fails under CI=true without it).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  countDeliveries,
  type DeliveryCounts,
  formatCounts,
  lostRuns,
} from "../helpers/delivery-tally.js";
import {
  bayeuxPublisher,
  bayeuxSubscriber,
  cometdSubscriber,
  fayeSubscriber,
  type PublishStream,
  type Subscriber,
  socketIoPublisher,
  socketIoSubscriber,
  TAG_PARAM,
} from "../helpers/kill-clients.js";
import { NodeProcess } from "../helpers/node-process.js";
import { freePort, RedisProcess, redisSkip, uniquePrefix } from "../helpers/redis-server.js";
import { type RoundRobinProxy, startRoundRobinProxy } from "../helpers/round-robin-proxy.js";

const skip = await redisSkip("cluster");

/** Seconds of publishing; CI always runs the full minute. */
const SECONDS = process.env.CI === "true" ? 60 : Number(process.env.KILL_TEST_SECONDS ?? 60) || 60;
const RUN_MS = SECONDS * 1000;
/** One message per publisher every this many ms. */
const PUBLISH_EVERY = 10;
/** Longest wait after publishing for backlogs to drain and deliveries to arrive. */
const SETTLE_MS = 20_000;
/** A killed node is started again this long after its death. */
const RESTART_AFTER = 1000;

/**
 * The proxy sends a request or upgrade refused by a dead node to the next
 * one (a balancer's retry of a failed connect); KILL_TEST_PROXY=reset resets
 * it instead, as a balancer with no health check at all.
 */
const SKIP_REFUSED = process.env.KILL_TEST_PROXY !== "reset";
/** KILL_TEST_VERBOSE=1 prints each losing client's connection history under its losses. */
const VERBOSE = process.env.KILL_TEST_VERBOSE === "1";
/** Kinds whose counts are asserted; the others are printed as best effort. */
const BEST_EFFORT = new Set(["faye"]);

/** A small seeded generator (mulberry32): a failing run can be replayed with KILL_TEST_SEED. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

describe("node deaths behind round robin", { skip }, () => {
  it(`delivers every message once, in order, through ${SECONDS} s of SIGKILLs, cuts and a Redis restart`, {
    timeout: RUN_MS + 90_000,
  }, async () => {
    const seed = Number(process.env.KILL_TEST_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    /** When publishing began: the origin of every time printed. */
    let t0 = Date.now();
    const events: string[] = [];
    const note = (what: string): void => {
      events.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);
    };

    const redis = new RedisProcess(await freePort(), [
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
    ]);
    const prefix = uniquePrefix("kill");
    const nodes: NodeProcess[] = [];
    const subscribers: Subscriber[] = [];
    const publishers: PublishStream[] = [];
    let proxy: RoundRobinProxy | undefined;
    try {
      await redis.start();
      for (const nodeId of ["k1", "k2", "k3"]) {
        nodes.push(
          new NodeProcess({ port: await freePort(), redisUrl: redis.url, prefix, nodeId }),
        );
      }
      await Promise.all(nodes.map((node) => node.start()));
      proxy = await startRoundRobinProxy(
        nodes.map((node) => node.settings.port),
        undefined,
        {
          tag: (req) =>
            new URL(req.url ?? "/", "http://proxy").searchParams.get(TAG_PARAM) ?? undefined,
          skipRefused: SKIP_REFUSED,
        },
      );
      const base = proxy.url;

      for (let i = 1; i <= 3; i++) {
        subscribers.push(
          socketIoSubscriber(base, "socket.io polling", `sio-polling-${i}`, ["polling"]),
          socketIoSubscriber(base, "socket.io websocket", `sio-websocket-${i}`, ["websocket"]),
          socketIoSubscriber(base, "socket.io upgrade", `sio-upgrade-${i}`),
        );
      }
      for (let i = 1; i <= 2; i++) {
        subscribers.push(
          cometdSubscriber(base, "cometd ack long-polling", `cometd-${i}`),
          bayeuxSubscriber(base, "bayeux-client websocket", `bx-websocket-${i}`, ["websocket"]),
          bayeuxSubscriber(base, "bayeux-client long-polling", `bx-polling-${i}`, ["long-polling"]),
          fayeSubscriber(base, "faye", `faye-${i}`),
        );
      }
      await withDeadline(
        Promise.all(subscribers.map((s) => s.ready)),
        30_000,
        "every subscriber joined or subscribed",
      );
      const sio = await socketIoPublisher(base, "sio-pub");
      publishers.push(sio);
      const bayeux = await bayeuxPublisher(base, "bx-pub");
      publishers.push(bayeux);
      const streamOf = (kind: string): PublishStream =>
        kind.startsWith("socket.io") ? sio : bayeux;

      // Publishing: one message per publisher per 10 ms of elapsed time,
      // caught up when timers run late.
      t0 = Date.now();
      note(`clients ready (seed ${seed}); publishing for ${SECONDS} s`);
      const ticker = setInterval(() => {
        const due = Math.min(RUN_MS, Date.now() - t0) / PUBLISH_EVERY;
        for (const stream of publishers) while (stream.added < due) stream.add();
      }, PUBLISH_EVERY);

      // The faults, on their schedule.
      const targets = [...subscribers.map((s) => s.tag), ...publishers.map((p) => p.tag)];
      const cuts = new Map<string, number>();
      const faults = (async () => {
        const plan: { at: number; run: () => Promise<void> }[] = [];
        for (const [i, fraction] of [0.25, 0.5, 0.75].entries()) {
          const node = nodes[i % nodes.length];
          plan.push({
            at: RUN_MS * fraction,
            run: async () => {
              await node.kill();
              note(`SIGKILL ${node.settings.nodeId}`);
              await sleep(RESTART_AFTER);
              try {
                await node.start();
                note(`${node.settings.nodeId} restarted`);
              } catch (err) {
                note(`${node.settings.nodeId} did not restart: ${(err as Error).message}`);
              }
            },
          });
        }
        plan.push({
          at: RUN_MS * 0.37,
          run: async () => {
            await redis.kill();
            note("SIGKILL redis");
            await redis.start();
            note("redis restarted");
          },
        });
        for (let at = 2000 + random() * 2000; at < RUN_MS; at += 2000 + random() * 2000) {
          const tag = targets[Math.floor(random() * targets.length)];
          plan.push({
            at,
            run: async () => {
              const n = proxy?.cut(tag) ?? 0;
              cuts.set(tag, (cuts.get(tag) ?? 0) + 1);
              note(`cut ${tag} (${n} connection${n === 1 ? "" : "s"})`);
            },
          });
        }
        plan.sort((a, b) => a.at - b.at);
        // Faults of one kind never overlap; cuts run beside node and Redis faults.
        const running: Promise<void>[] = [];
        for (const step of plan) {
          await sleep(t0 + step.at - Date.now());
          running.push(step.run());
        }
        await Promise.all(running);
      })();

      await sleep(t0 + RUN_MS - Date.now());
      clearInterval(ticker);
      note("publishing stopped");
      await faults;

      const asserted = subscribers.filter((s) => !BEST_EFFORT.has(s.kind));
      // Checked every 100 ms: each check walks every acknowledged message.
      const settleBy = Date.now() + SETTLE_MS;
      const settled = () =>
        publishers.every((p) => p.pending === 0) &&
        asserted.every((s) => s.receipts.hasAll(streamOf(s.kind).acked));
      while (!settled() && Date.now() < settleBy) await sleep(100);
      note(settled() ? "settled" : `not settled after ${SETTLE_MS / 1000} s`);
      await Promise.all(publishers.map((p) => p.stop()));

      const kinds = [...new Set(subscribers.map((s) => s.kind))];
      const rows: DeliveryCounts[] = kinds.map((kind) =>
        countDeliveries(
          kind,
          subscribers.filter((s) => s.kind === kind).map((s) => s.receipts),
          streamOf(kind).acked,
        ),
      );
      const notes: Record<string, string> = {};
      for (const kind of BEST_EFFORT) notes[kind] = "best effort";
      const sessions = kinds.map((kind) => {
        const of = subscribers.filter((s) => s.kind === kind);
        const sum = (f: (s: Subscriber) => number) => of.reduce((n, s) => n + f(s), 0);
        const cut = sum((s) => cuts.get(s.tag) ?? 0);
        return `  ${kind}: ${sum((s) => s.sessions)} sessions, ${sum((s) => s.recovered)} recovered reconnects, ${cut} cuts`;
      });
      // Where each client lost messages: when their publisher had them acknowledged.
      const losses = subscribers.flatMap((s) => {
        const stream = streamOf(s.kind);
        const at = (seq: number) => (((stream.ackedAt.get(seq) ?? t0) - t0) / 1000).toFixed(2);
        const runs = lostRuns(s.receipts, stream.acked);
        if (runs.length === 0) return [];
        const shown = runs
          .slice(0, 6)
          .map(([a, b]) => `${at(a)}-${at(b)} s (${b - a + 1})`)
          .join(", ");
        const history = s.history
          .filter(([when]) => when >= t0)
          .map(([when, what]) => `${((when - t0) / 1000).toFixed(2)} ${what}`);
        return [
          `  ${s.tag}: ${shown}${runs.length > 6 ? `, … ${runs.length - 6} more` : ""}`,
          ...(VERBOSE ? history.map((line) => `      ${line}`) : []),
        ];
      });
      console.log(
        [
          `node deaths (${SECONDS} s, seed ${seed}, proxy ${SKIP_REFUSED ? "skips refusing nodes" : "resets refused requests"}): counts per client kind`,
          "(sent = messages its publisher had acknowledged; received, lost, dup and",
          "out of order summed over the kind's clients)",
          formatCounts(rows, notes),
          "publishers:",
          ...publishers.map(
            (p) =>
              `  ${p.name}: ${p.added} published, ${p.acked.size} acknowledged, ` +
              `${p.added - p.acked.size} unacknowledged, ${p.retries} retries, ${cuts.get(p.tag) ?? 0} cuts`,
          ),
          "sessions:",
          ...sessions,
          `proxy: ${proxy.sent.join(" / ")} requests and upgrades sent per node, ` +
            `${proxy.resets.join(" / ")} reset by the node; answers by status: ` +
            [...proxy.statuses].map(([status, n]) => `${status} ×${n}`).join(", "),
          "events (seconds since publishing began):",
          ...events,
          "lost messages (when acknowledged, seconds since publishing began; count):",
          ...losses,
          ...nodes.flatMap((n) => n.crashes.map((c) => `crash: ${c}`)),
        ].join("\n"),
      );

      assert.deepEqual(
        nodes.flatMap((n) => n.crashes),
        [],
        "no node died but by the test's hand",
      );
      for (const stream of publishers) {
        assert.ok(stream.acked.size > 0, `${stream.name} had publishes acknowledged`);
      }
      const failures = rows
        .filter((r) => !BEST_EFFORT.has(r.kind))
        .filter((r) => r.lost + r.duplicated + r.outOfOrder > 0)
        .map((r) => `${r.kind}: ${r.lost} lost, ${r.duplicated} dup, ${r.outOfOrder} out of order`);
      assert.deepEqual(failures, [], "every message exactly once, in order");
    } finally {
      await Promise.all(publishers.map((p) => p.stop().catch(() => {})));
      await Promise.all(subscribers.map((s) => s.close().catch(() => {})));
      await proxy?.close();
      await Promise.all(nodes.map((node) => node.stop()));
      await redis.stop();
    }
  });
});

/** `promise`, or a rejection naming `what` after `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
