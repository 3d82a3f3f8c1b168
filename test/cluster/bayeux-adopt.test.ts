/**
 * A session whose owner node died is adopted by the node its client reaches
 * next instead of being refused with 402: the record is claimed (one node
 * wins), its subscriptions are restored, and an ack-extension client gets
 * what the dead owner kept for it (sent and unacknowledged, or queued and
 * never sent) first, under a new batch, each message once. Here through
 * `process()` on nodes sharing a memory broker, session store and ack log;
 * the owner "dies" by leaving the broker (the other nodes see it go).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ackStream } from "../../src/bayeux/server/session-records.js";
import { MemoryBrokerHub, type MessageLog } from "../../src/cluster/index.js";
import { MemoryMessageLog } from "../../src/cluster/memory-message-log.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import {
  HANDSHAKE,
  immediateConnect,
  LONG_POLLING,
  pollOnce,
  transportFreeServers,
} from "../bayeux/helpers.js";
import { until } from "../socketio/raw-clients.js";

type Server = ReturnType<ReturnType<typeof transportFreeServers>>;
const make = transportFreeServers({ timerResolution: 10 });

const connect = immediateConnect;
const poll = pollOnce;

/** Three nodes on one memory hub, store and ack log; `kill(i)` makes node i leave. */
function cluster(n = 3) {
  const hub = new MemoryBrokerHub();
  const store = new MemorySessionStore();
  const ackLog = new MemoryMessageLog();
  // The node id is the broker's: the id the broker reports when the node goes.
  const brokers = Array.from({ length: n }, (_, i) => hub.connect(`node-${i}`));
  const nodes = brokers.map((broker) => make({ broker, sessionStore: store, ackLog }));
  return {
    store,
    ackLog,
    nodes,
    /** The owner leaves without its sessions ending (as a crashed process). */
    async kill(i: number) {
      await brokers[i].close();
      await until(
        () => brokers.every((b, j) => j === i || !b.nodes().includes(`node-${i}`)),
        5000,
        "the others to see it go",
      );
    },
  };
}

/**
 * One node's view of a shared memory log as a remote log is: asynchronous
 * only (no `appendNow`), each write applied on a later turn. `dieAfterWrite()`
 * makes the node's writes stop reaching it once one more has landed, as a
 * crash right after that write would.
 */
function remoteView(log: MemoryMessageLog, replace: boolean) {
  let dying = false;
  let dead = false;
  const write = (apply: () => void): Promise<void> =>
    new Promise((resolve) =>
      setImmediate(() => {
        if (!dead) apply();
        if (dying) dead = true;
        resolve();
      }),
    );
  const view: MessageLog = {
    append: async (stream, payload) => {
      let offset = "";
      await write(() => {
        offset = log.appendNow(stream, payload);
      });
      return offset;
    },
    readAfter: (stream, offset, limit) => log.readAfter(stream, offset, limit),
    appendOnce: (stream, payload, key, window) => log.appendOnce(stream, payload, key, window),
    follow: (stream, handlers) => log.follow(stream, handlers),
    compare: (a, b) => log.compare(a, b),
    drop: (stream) => write(() => log.dropNow(stream)),
    close: async () => {},
  };
  if (replace) view.replace = (stream, payloads) => write(() => void log.replace(stream, payloads));
  return {
    view,
    dieAfterWrite() {
      dying = true;
    },
  };
}

async function ackClient(server: Server, channel: string): Promise<string> {
  const [hs] = (await server.process([{ ...HANDSHAKE, ext: { ack: true } }], LONG_POLLING)).replies;
  const clientId = hs.clientId as string;
  await server.process(
    [{ channel: "/meta/subscribe", clientId, subscription: channel }],
    LONG_POLLING,
  );
  await poll(server, clientId, -1);
  await server.hub.settled();
  return clientId;
}

describe("adopting the session of a dead owner (memory backends)", () => {
  it("the client acked the last batch: only what was queued and never sent comes", async () => {
    const { nodes, store, kill } = cluster();
    const [a, b] = nodes;
    const clientId = await ackClient(a, "/q");
    a.publish("/q", "m1");
    a.publish("/q", "m2");
    const first = await poll(a, clientId, 0);
    assert.deepEqual(first.data, ["m1", "m2"]);
    a.publish("/q", "m3");
    await kill(0);
    const adopted: string[] = [];
    b.on("adopt", (id, from) => adopted.push(`${id} from ${from}`));
    const next = await poll(b, clientId, first.batch as number);
    assert.equal(next.reply.successful, true, JSON.stringify(next.reply));
    assert.deepEqual(next.data, ["m3"], "m1 and m2 were received: not sent again");
    assert.ok((next.batch as number) > (first.batch as number), "under a new batch");
    assert.deepEqual(adopted, [`${clientId} from node-0`]);
    assert.equal(store.getNow(clientId)?.owner, "node-1");
    // Restored subscriptions: a publish from any live node reaches the client.
    await b.hub.settled();
    nodes[2].publish("/q", "m4");
    await until(() => b.getSession(clientId)?.hasPending === true, 5000, "m4");
    const later = await poll(b, clientId, next.batch as number);
    assert.deepEqual(later.data, ["m4"]);
  });

  it("the last batch was lost with the owner: it comes again, then what was queued", async () => {
    const { nodes, kill } = cluster();
    const [a, b] = nodes;
    const clientId = await ackClient(a, "/q");
    a.publish("/q", "m1");
    const first = await poll(a, clientId, 0);
    assert.deepEqual(first.data, ["m1"]);
    const acked = await poll(a, clientId, first.batch as number);
    assert.deepEqual(acked.data, []);
    a.publish("/q", "m2");
    a.publish("/q", "m3");
    const lost = await poll(a, clientId, first.batch as number);
    assert.deepEqual(lost.data, ["m2", "m3"], "sent, never received");
    a.publish("/q", "m4");
    await kill(0);
    const next = await poll(b, clientId, first.batch as number);
    assert.deepEqual(next.data, ["m2", "m3", "m4"], "in order, m1 not again");
    assert.ok((next.batch as number) > (lost.batch as number));
    const after = await poll(b, clientId, next.batch as number);
    assert.deepEqual(after.data, []);
  });

  it("the owner's last record write was lost: the client's ack still says what it holds", async () => {
    const { nodes, store, kill } = cluster();
    const [a, b] = nodes;
    const clientId = await ackClient(a, "/q");
    const stale = structuredClone(store.getNow(clientId)?.data.ack);
    a.publish("/q", "m1");
    a.publish("/q", "m2");
    const first = await poll(a, clientId, 0);
    assert.deepEqual(first.data, ["m1", "m2"]);
    a.publish("/q", "m3");
    // As if the write of the batch never reached the store before the crash.
    store.updateNow(clientId, { ack: stale });
    await kill(0);
    const next = await poll(b, clientId, first.batch as number);
    assert.deepEqual(next.data, ["m3"]);
  });

  it("an ack leaves in the log only what the client still needs", async () => {
    const { nodes, ackLog, kill } = cluster();
    const [a, b] = nodes;
    const clientId = await ackClient(a, "/q");
    const kept = () =>
      ackLog
        .readAfterNow(ackStream(clientId), null)
        .entries.map((e) => String(e.payload).slice(0, String(e.payload).indexOf(" ")));
    a.publish("/q", "m1");
    a.publish("/q", "m2");
    const first = await poll(a, clientId, 0);
    a.publish("/q", "m3");
    assert.deepEqual(kept(), ["1", "2", "3"]);
    // The ack of m1, m2 comes while m3 waits: m3 alone stays (and goes out).
    const second = await poll(a, clientId, first.batch as number);
    assert.deepEqual(second.data, ["m3"]);
    assert.deepEqual(kept(), ["3"]);
    await kill(0);
    // The reply carrying m3 was lost: the client still acks m2.
    const next = await poll(b, clientId, first.batch as number);
    assert.deepEqual(next.data, ["m3"]);
  });

  it("an ack's rewrite of the log is one step: a crash right after it loses nothing queued", async () => {
    const hub = new MemoryBrokerHub();
    const store = new MemorySessionStore();
    const shared = new MemoryMessageLog();
    const owner = remoteView(shared, true);
    const brokers = [hub.connect("node-0"), hub.connect("node-1")];
    const a = make({ broker: brokers[0], sessionStore: store, ackLog: owner.view });
    const b = make({
      broker: brokers[1],
      sessionStore: store,
      ackLog: remoteView(shared, true).view,
    });
    const clientId = await ackClient(a, "/q");
    a.publish("/q", "m1");
    const first = await poll(a, clientId, 0);
    assert.deepEqual(first.data, ["m1"]);
    a.publish("/q", "m2");
    a.publish("/q", "m3");
    const kept = () => shared.readAfterNow(ackStream(clientId), null).entries.length;
    await until(() => kept() === 3, 5000, "m1, m2 and m3 kept");
    // The ack of m1 comes while m2 and m3 wait; the owner dies once its next write lands.
    owner.dieAfterWrite();
    const held = poll(a, clientId, first.batch as number);
    await until(() => kept() !== 3, 5000, "the ack's write");
    await brokers[0].close();
    await until(() => !brokers[1].nodes().includes("node-0"), 5000, "node-1 to see it go");
    const next = await poll(b, clientId, first.batch as number);
    assert.deepEqual(next.data, ["m2", "m3"], "what was queued survived the ack");
    await held.catch(() => {});
  });

  it("adopts a session without acks: its subscriptions are restored", async () => {
    const { nodes, kill } = cluster();
    const [a, b, c] = nodes;
    const [hs] = (await a.process([HANDSHAKE], LONG_POLLING)).replies;
    const clientId = hs.clientId as string;
    await a.process(
      [{ channel: "/meta/subscribe", clientId, subscription: ["/r/*", "/s"] }],
      LONG_POLLING,
    );
    await kill(0);
    const result = await b.process(
      [{ channel: "/s", clientId, data: "hello", id: "1" }],
      LONG_POLLING,
    );
    const [published] = result.replies;
    assert.deepEqual(
      result.deliveries.map((d) => d.message.data),
      ["hello"],
      "its own publish, on /s",
    );
    assert.equal(published.successful, true, "a publish is the first message: adopted");
    assert.deepEqual([...(b.getSession(clientId)?.subscriptions ?? [])].sort(), ["/r/*", "/s"]);
    await b.hub.settled();
    c.publish("/r/x", "from c");
    await until(() => b.getSession(clientId)?.hasPending === true, 5000, "delivery");
    const next = await poll(b, clientId);
    assert.deepEqual(next.data, ["from c"]);
  });

  it("of two nodes reached at once one adopts, and a live owner's session is never taken", async () => {
    const { nodes, store, kill } = cluster();
    const [a, b, c] = nodes;
    const clientId = await ackClient(a, "/q");
    const [refused] = (await b.process([connect(clientId, 0)], LONG_POLLING)).replies;
    assert.match(String(refused.error), /^402:/, "the owner is alive: no adoption");
    assert.equal(store.getNow(clientId)?.owner, "node-0");
    await kill(0);
    const [fromB, fromC] = await Promise.all([poll(b, clientId, 0), poll(c, clientId, 0)]);
    const won = [fromB, fromC].filter((r) => r.reply.successful === true);
    assert.equal(won.length, 1, "one adopter");
    assert.equal(store.getNow(clientId)?.owner, fromB.reply.successful ? "node-1" : "node-2");
  });

  it("a node alone (no broker, no forwarding) never adopts", async () => {
    const store = new MemorySessionStore();
    const a = make({ sessionStore: store, nodeId: "node-a" });
    const b = make({ sessionStore: store, nodeId: "node-b" });
    const [hs] = (await a.process([HANDSHAKE], LONG_POLLING)).replies;
    await a.close();
    const [reply] = (await b.process([connect(hs.clientId as string)], LONG_POLLING)).replies;
    assert.match(String(reply.error), /^402:/);
  });
});
