/**
 * The dashboard's parts without a network: what a list page costs at 100k
 * sockets and sessions (entries touched, counted), that a stats poll never
 * walks the connections, the history ring, the cluster sum, the list query
 * parser and the loopback rules.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BayeuxServer } from "../../src/bayeux/index.js";
import type { Server } from "../../src/index.js";
import { isLoopback, isLoopbackHost } from "../../src/ops/dashboard/access.js";
import { Dashboard } from "../../src/ops/dashboard/dashboard.js";
import { History, type Sample } from "../../src/ops/dashboard/history.js";
import { listSessions, listSockets, parseListQuery } from "../../src/ops/dashboard/lists.js";
import { MERGED_LIST, sumStats } from "../../src/ops/dashboard/sum.js";
import type { NodeStats, StatsSource, TopicRow } from "../../src/ops/stats.js";

const N = 100_000;

/** A Map whose iteration counts the entries it hands out. */
class CountingMap<K, V> extends Map<K, V> {
  touched = 0;
  override values(): MapIterator<V> {
    const inner = super.values();
    const self = this;
    return Object.assign(
      (function* () {
        for (const v of inner) {
          self.touched++;
          yield v;
        }
      })(),
      {},
    ) as MapIterator<V>;
  }
  override keys(): MapIterator<K> {
    const inner = super.keys();
    const self = this;
    return (function* () {
      for (const k of inner) {
        self.touched++;
        yield k;
      }
    })() as MapIterator<K>;
  }
}

interface FakeSocket {
  id: string;
  nsp: { name: string; adapter: unknown };
  conn: { transport: { name: string } };
  handshake: { address: string; issued: number };
}

/** A Socket.IO server shape with `n` sockets in each of the given namespaces. */
function fakeIo(namespaces: Record<string, number>) {
  const nsps = new Map<string, { name: string; sockets: CountingMap<string, FakeSocket> }>();
  for (const [name, n] of Object.entries(namespaces)) {
    const subscriptions = new Map<string, string | Set<string>>();
    const adapter = { router: { subscriptions } };
    const sockets = new CountingMap<string, FakeSocket>();
    for (let i = 0; i < n; i++) {
      const id = `${name}-s${i}`;
      sockets.set(id, {
        id,
        nsp: { name, adapter },
        conn: { transport: { name: i % 2 ? "websocket" : "polling" } },
        handshake: { address: "127.0.0.1", issued: 1 },
      });
      subscriptions.set(id, i % 1000 === 0 ? new Set([id, "vip", `room-${i % 7}`]) : id);
    }
    nsps.set(name, { name, sockets });
  }
  const io = {
    _nsps: nsps,
    hub: { nodeId: "local", clustered: false },
    engine: { clientsCount: 0 },
  } as unknown as Server;
  return { io, nsps };
}

function touched(nsps: Map<string, { sockets: CountingMap<string, FakeSocket> }>): number {
  let total = 0;
  for (const nsp of nsps.values()) total += nsp.sockets.touched;
  return total;
}

function reset(nsps: Map<string, { sockets: CountingMap<string, FakeSocket> }>): void {
  for (const nsp of nsps.values()) nsp.sockets.touched = 0;
}

describe("list cost at 100k", () => {
  it("a page without a search walks only up to its end", () => {
    const { io, nsps } = fakeIo({ "/": N });
    const first = listSockets(io, { q: "", offset: 0, limit: 100 }, "local");
    assert.equal(first.total, N);
    assert.equal(first.items.length, 100);
    assert.equal(first.scanned, 100);
    assert.equal(touched(nsps), 100);
    assert.equal(first.items[0].id, "/-s0");
    assert.equal(first.items[1].transport, "websocket");
    reset(nsps);
    const deep = listSockets(io, { q: "", offset: 500, limit: 25 }, "local");
    assert.equal(deep.items[0].id, "/-s500");
    assert.equal(deep.scanned, 525);
    assert.ok(touched(nsps) <= 525);
  });

  it("skips whole namespaces before the page by their size", () => {
    const { io, nsps } = fakeIo({ "/": N / 2, "/admin": N / 2 });
    const page = listSockets(io, { q: "", offset: N / 2 + 10, limit: 25 }, "local");
    assert.equal(page.total, N);
    assert.equal(page.items[0].id, "/admin-s10");
    assert.equal(page.items[0].nsp, "/admin");
    assert.equal(page.scanned, 35);
    assert.equal(nsps.get("/")?.sockets.touched, 0);
  });

  it("a search tests every entry once, and counts exactly", () => {
    const { io, nsps } = fakeIo({ "/": N });
    const started = performance.now();
    const vip = listSockets(io, { q: "vip", offset: 0, limit: 10 }, "local");
    const took = performance.now() - started;
    assert.equal(vip.total, N / 1000);
    assert.equal(vip.items.length, 10);
    assert.deepEqual(vip.items[0].rooms, ["vip", "room-0"]);
    assert.equal(vip.scanned, N);
    assert.equal(touched(nsps), N);
    // One pass of substring tests: far below a poll interval even on a loaded machine.
    assert.ok(took < 2000, `search took ${took} ms`);
  });

  it("a session page walks only up to its end", () => {
    const ids = new CountingMap<string, unknown>();
    for (let i = 0; i < N; i++)
      ids.set(`c${i}`, {
        connectionType: "long-polling",
        subscriptions: new Set(["/a"]),
        queued: 0,
      });
    const bayeux = {
      sessionCount: N,
      clientIds: () => ids.keys(),
      getSession: (id: string) => ids.get(id),
    } as unknown as BayeuxServer;
    const page = listSessions(bayeux, { q: "", offset: 100, limit: 50 }, "n1");
    assert.equal(page.total, N);
    assert.equal(page.items[0].clientId, "c100");
    assert.equal(page.items[0].node, "n1");
    assert.equal(ids.touched, 150);
  });

  it("stats polls share one snapshot a second and walk no socket", async () => {
    const { io, nsps } = fakeIo({ "/": N });
    let snapshots = 0;
    const stats: StatsSource = {
      snapshot: () => {
        snapshots++;
        return snapshot("local");
      },
    };
    const started = Date.now();
    const dashboard = new Dashboard({ io, stats, sampleEvery: 3_600_000 });
    try {
      const answers = await Promise.all([dashboard.stats("cluster"), dashboard.stats("node")]);
      await dashboard.stats("node");
      assert.equal(answers[0].nodes.length, 1);
      // The history's first sample and the three polls, all within the second: one read.
      if (Date.now() - started < 900) assert.equal(snapshots, 1);
      assert.ok(snapshots <= 2);
      assert.equal(touched(nsps), 0);
    } finally {
      dashboard.close();
    }
  });
});

describe("list query", () => {
  it("clamps offset and limit and cuts a long search", () => {
    const parse = (s: string) => parseListQuery(new URLSearchParams(s));
    assert.deepEqual(parse(""), { q: "", offset: 0, limit: 25 });
    assert.deepEqual(parse("limit=0&offset=7"), { q: "", offset: 7, limit: 1 });
    assert.equal(parse("limit=101").limit, 100);
    assert.equal(parse("limit=1e3").limit, 25);
    assert.equal(parse("offset=-1").offset, 0);
    assert.equal(parse(`q=${"x".repeat(500)}`).q.length, 200);
  });
});

describe("history ring", () => {
  it("keeps the last samples, oldest first", () => {
    let n = 0;
    const source: StatsSource = { snapshot: () => snapshot("x", { time: ++n, messagesIn: n }) };
    const history = new History(source, 3);
    assert.deepEqual(history.samples(), []);
    for (let i = 0; i < 5; i++) history.sample();
    assert.deepEqual(
      history.samples().map((s: Sample) => s.time),
      [3, 4, 5],
    );
    assert.equal(history.samples()[2].messagesIn, 10, "both protocols summed");
  });

  it("records nothing when the source throws", () => {
    const history = new History({
      snapshot: () => {
        throw new Error("down");
      },
    });
    history.sample();
    assert.deepEqual(history.samples(), []);
  });
});

function snapshot(node: string, over: { time?: number; messagesIn?: number } = {}): NodeStats {
  const per = (v: number) => ({ socketio: v, bayeux: v });
  return {
    node,
    time: over.time ?? 1,
    uptime: 10,
    connections: { socketio: { websocket: 2, polling: 1 }, bayeux: { "long-polling": 1 } },
    namespaces: 1,
    rooms: 2,
    channels: 1,
    messagesIn: per(over.messagesIn ?? 5),
    messagesOut: per(1),
    bytesIn: per(1),
    bytesOut: per(1),
    deliveries: per(7),
    slowConsumerDrops: per(0),
    errors: { ERR_X: 1 },
    recentErrors: [{ time: over.time ?? 1, protocol: "socketio", code: "ERR_X", message: node }],
    topTopics: [
      { protocol: "socketio", name: "/ lobby", members: 3, messages: 1 },
      { protocol: "bayeux", name: `/only/${node}`, members: 1, messages: 9 },
    ],
    slowConsumers: [{ protocol: "bayeux", id: `c-${node}`, dropped: 4, last: 1 }],
  };
}

describe("cluster sum", () => {
  it("adds connections, counters and topic members, and tags list entries with their node", () => {
    const sum = sumStats([snapshot("a", { time: 2 }), snapshot("b", { time: 1 })]);
    assert.equal(sum.node, "cluster");
    assert.deepEqual(sum.connections.socketio, { websocket: 4, polling: 2 });
    assert.deepEqual(sum.connections.bayeux, { "long-polling": 2 });
    // Without topic tables the sum cannot tell shared rooms: the most one node holds, at least.
    assert.equal(sum.rooms, 2);
    assert.equal(sum.countsExact, false);
    assert.deepEqual(sum.messagesIn, { socketio: 10, bayeux: 10 });
    assert.deepEqual(sum.errors, { ERR_X: 2 });
    assert.deepEqual(
      sum.recentErrors.map((e) => e.node),
      ["b", "a"],
      "newest last",
    );
    const lobby = sum.topTopics.find((t) => t.name === "/ lobby");
    assert.deepEqual(lobby, { protocol: "socketio", name: "/ lobby", members: 6, messages: 2 });
    assert.equal(sum.topTopics.length, 3);
    assert.deepEqual(sum.slowConsumers.map((s) => s.node).sort(), ["a", "b"]);
  });

  it("keeps merged lists bounded", () => {
    const many = Array.from({ length: 30 }, (_, i) => {
      const s = snapshot(`n${i}`);
      s.recentErrors = Array.from({ length: 5 }, (_, j) => ({
        time: i * 10 + j,
        protocol: "bayeux" as const,
        code: "E",
        message: "",
      }));
      return s;
    });
    const sum = sumStats(many);
    assert.equal(sum.recentErrors.length, MERGED_LIST);
    assert.equal(sum.recentErrors[MERGED_LIST - 1].time, 294);
    assert.ok(sum.slowConsumers.length <= MERGED_LIST);
    assert.ok(sum.topTopics.length <= 2 * MERGED_LIST);
  });
});

/** A node's snapshot with a topic table: `rooms` as [name, members, messages] in namespace "/". */
function tabled(
  node: string,
  rooms: TopicRow[],
  channels: TopicRow[],
  namespaces: string[],
  complete = true,
): NodeStats {
  const s = snapshot(node);
  s.namespaces = namespaces.length;
  s.rooms = rooms.filter((r) => r[1] > 0).length;
  s.channels = channels.filter((r) => r[1] > 0).length;
  s.topics = { socketio: rooms, bayeux: channels, namespaces, complete };
  return s;
}

describe("cluster sum from topic tables", () => {
  it("counts a room or channel held by several nodes once and sums its members", () => {
    // Each node's ten biggest rooms are its own; the shared one is only the 11th on each.
    const own = (node: string): TopicRow[] =>
      Array.from({ length: 10 }, (_, i) => [`/ ${node}-${i}`, 13 + i, 0] as TopicRow);
    const a = tabled(
      "a",
      [...own("a"), ["/ shared", 12, 4]],
      [
        ["/news", 2, 1],
        ["/a-only", 1, 0],
      ],
      ["/", "/chat"],
    );
    const b = tabled(
      "b",
      // B published to "/ shared" too, and to a room with no member on B.
      [...own("b"), ["/ shared", 12, 3], ["/ elsewhere", 0, 2]],
      [["/news", 5, 0]],
      ["/", "/admin"],
    );
    const sum = sumStats([a, b]);
    assert.equal(sum.countsExact, true);
    assert.equal(sum.rooms, 21, "ten of A's, ten of B's, the shared one once");
    assert.equal(sum.channels, 2);
    assert.equal(sum.namespaces, 3);
    const shared = sum.topTopics.find((t) => t.name === "/ shared");
    assert.deepEqual(shared, { protocol: "socketio", name: "/ shared", members: 24, messages: 7 });
    const byMembers = [...sum.topTopics].sort((x, y) => y.members - x.members);
    assert.equal(byMembers[0].name, "/ shared", "24 members in all: the biggest room");
    assert.deepEqual(
      sum.topTopics.find((t) => t.name === "/news"),
      { protocol: "bayeux", name: "/news", members: 7, messages: 1 },
    );
    assert.equal(sum.topTopics.find((t) => t.name === "/ elsewhere")?.messages, 2);
  });

  it("gives lower bounds, marked inexact, when a node's table was cut", () => {
    const a = tabled(
      "a",
      [
        ["/ x", 1, 0],
        ["/ y", 1, 0],
      ],
      [],
      ["/"],
    );
    const b = tabled("b", [["/ x", 9, 0]], [], ["/"], false);
    b.rooms = 5;
    const sum = sumStats([a, b]);
    assert.equal(sum.countsExact, false);
    assert.equal(sum.rooms, 5, "B alone holds five");
    assert.equal(sum.topTopics.find((t) => t.name === "/ x")?.members, 10);
  });

  it("takes a cut table's busiest topics from the node's top list, and trusts one node alone", () => {
    const b = tabled("b", [["/ big", 9, 0]], [], ["/"], false);
    b.rooms = 2;
    b.topTopics = [
      { protocol: "socketio", name: "/ big", members: 9, messages: 0 },
      { protocol: "socketio", name: "/ busy", members: 1, messages: 50 },
    ];
    const alone = sumStats([b]);
    assert.equal(alone.countsExact, true, "one node's counts are its own");
    assert.equal(alone.rooms, 2);
    assert.deepEqual(
      alone.topTopics.map((t) => [t.name, t.members, t.messages]),
      [
        ["/ big", 9, 0],
        ["/ busy", 1, 50],
      ],
    );
    const a = tabled("a", [["/ busy", 2, 5]], [], ["/"]);
    const both = sumStats([a, b]);
    assert.equal(both.countsExact, false);
    assert.deepEqual(
      both.topTopics.find((t) => t.name === "/ busy"),
      { protocol: "socketio", name: "/ busy", members: 3, messages: 55 },
    );
  });
});

describe("loopback rules", () => {
  it("knows local peers and local Host names", () => {
    for (const peer of ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.1.2.3"]) {
      assert.ok(isLoopback(peer), peer);
    }
    for (const peer of ["10.0.0.1", "::ffff:10.0.0.1", "", undefined, "1127.0.0.1"]) {
      assert.ok(!isLoopback(peer), String(peer));
    }
    for (const host of [
      "localhost",
      "localhost:3000",
      "127.0.0.1:80",
      "[::1]:3000",
      "app.localhost",
    ]) {
      assert.ok(isLoopbackHost(host), host);
    }
    for (const host of [
      "evil.example",
      "127.0.0.1.evil.example",
      "[::2]",
      undefined,
      "localhost.evil",
    ]) {
      assert.ok(!isLoopbackHost(host), String(host));
    }
  });
});
