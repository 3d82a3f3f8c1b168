/**
 * What a Bayeux node logs when it adopts the session of a dead owner (as the
 * README's logging table says): the adoption at debug, one refused for
 * `maxSessions` as a warning, and a session store or ack log that fails
 * meanwhile as an error. Nodes share a memory broker, store and ack log and
 * are driven through `process()`; the owner "dies" by leaving the broker.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBrokerHub } from "../../src/cluster/index.js";
import { MemoryMessageLog } from "../../src/cluster/memory-message-log.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import type { ReadResult, SessionRecord } from "../../src/index.js";
import { HANDSHAKE, LONG_POLLING, pollOnce, transportFreeServers } from "../bayeux/helpers.js";
import { type LogRecord, recordingLogger } from "../helpers/recording-logger.js";
import { until } from "../socketio/raw-clients.js";

const make = transportFreeServers({ timerResolution: 10 });

/** A session store whose reads fail while `failing` is set. */
class FlakyStore extends MemorySessionStore {
  failing = false;
  override async get(id: string): Promise<SessionRecord | undefined> {
    if (this.failing) throw new Error("store unreachable");
    return super.get(id);
  }
}

/** An ack log whose reads fail while `failing` is set. */
class FlakyLog extends MemoryMessageLog {
  failing = false;
  override readAfterNow(stream: string, offset: string | null, limit?: number): ReadResult {
    if (this.failing) throw new Error("ack log unreachable");
    return super.readAfterNow(stream, offset, limit);
  }
  override async readAfter(stream: string, offset: string | null, limit?: number) {
    if (this.failing) throw new Error("ack log unreachable");
    return super.readAfter(stream, offset, limit);
  }
}

/** Two nodes, one recording logger; `b` takes `options`; `killA()` makes the owner leave. */
function pair(options: { maxSessions?: number } = {}) {
  const hub = new MemoryBrokerHub();
  const store = new FlakyStore();
  const ackLog = new FlakyLog();
  const { records, logger } = recordingLogger();
  const brokers = [hub.connect("node-0"), hub.connect("node-1")];
  const a = make({ broker: brokers[0], sessionStore: store, ackLog, logger });
  const b = make({ broker: brokers[1], sessionStore: store, ackLog, logger, ...options });
  return {
    a,
    b,
    store,
    ackLog,
    records,
    async killA() {
      await brokers[0].close();
      await until(() => !brokers[1].nodes().includes("node-0"), 5000, "node-1 to see it go");
    },
  };
}

/** A session on `node` subscribed to `/s`, with the ack extension when `ack`. */
async function session(node: ReturnType<typeof make>, ack = false): Promise<string> {
  const [hs] = (
    await node.process([{ ...HANDSHAKE, ...(ack ? { ext: { ack: true } } : {}) }], LONG_POLLING)
  ).replies;
  const clientId = hs.clientId as string;
  await node.process([{ channel: "/meta/subscribe", clientId, subscription: "/s" }], LONG_POLLING);
  if (ack) await pollOnce(node, clientId, -1);
  await node.hub.settled();
  return clientId;
}

function only(records: LogRecord[], msg: string): LogRecord {
  const found = records.filter((r) => r.msg === msg);
  assert.equal(
    found.length,
    1,
    `one "${msg}" record: ${JSON.stringify(records.map((r) => r.msg))}`,
  );
  assert.equal(found[0].bindings.component, "bayeux");
  return found[0];
}

describe("logs of a Bayeux adoption", () => {
  it("an adoption is a debug record naming the dead node", async () => {
    const { a, b, records, killA } = pair();
    const clientId = await session(a);
    await killA();
    const { reply } = await pollOnce(b, clientId);
    assert.equal(reply.successful, true, "adopted");
    const adopted = only(records, "session adopted from a dead node");
    assert.equal(adopted.level, "debug");
    assert.deepEqual(adopted.obj, { clientId, node: "node-0", kept: 0, replayed: 0 });
  });

  it("an adoption refused by maxSessions is a warning", async () => {
    const { a, b, records, killA } = pair({ maxSessions: 1 });
    await session(b);
    const clientId = await session(a);
    await killA();
    const { reply } = await pollOnce(b, clientId);
    assert.match(String(reply.error), /^402:/, "not adopted: the client handshakes again");
    const refused = only(records, "adoption refused: maxSessions reached");
    assert.equal(refused.level, "warn");
    assert.deepEqual(refused.obj, { clientId, node: "node-0", max: 1 });
    assert.equal(b.getSession(clientId), undefined);
  });

  it("a session store failing during an adoption is an error; the client handshakes again", async () => {
    const { a, b, store, records, killA } = pair();
    const clientId = await session(a);
    await killA();
    store.failing = true;
    const { reply } = await pollOnce(b, clientId);
    assert.match(String(reply.error), /^402:/);
    const failed = only(records, "adoption failed");
    assert.equal(failed.level, "error");
    assert.equal(failed.obj.clientId, clientId);
    assert.equal((failed.obj.err as Error).message, "store unreachable");
  });

  it("an ack log failing during an adoption is an error; the session is adopted without what it kept", async () => {
    const { a, b, ackLog, records, killA } = pair();
    const clientId = await session(a, true);
    await killA();
    ackLog.failing = true;
    const { reply } = await pollOnce(b, clientId, 0);
    assert.equal(reply.successful, true, "adopted all the same");
    const failed = only(records, "adoption: cannot read the ack log");
    assert.equal(failed.level, "error");
    assert.equal(failed.obj.clientId, clientId);
    assert.equal((failed.obj.err as Error).message, "ack log unreachable");
  });
});
