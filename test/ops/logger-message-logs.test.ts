/**
 * What the servers log when a message log they rely on fails or loses
 * entries (the README's logging table): a Bayeux publish the channel log
 * cannot store is an error, and a log that lost entries under a follow (the
 * stream dropped: a new epoch) is a warning, for the Bayeux channel log and
 * for the Socket.IO recovery log of a clustered server alike.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BayeuxServer } from "../../src/bayeux/index.js";
import { CHANNEL_STREAM } from "../../src/bayeux/server/channel-log.js";
import { MemoryBrokerHub, MemoryMessageLog, Server } from "../../src/index.js";
import { type LogRecord, recordingLogger } from "../helpers/recording-logger.js";
import { until } from "../socketio/raw-clients.js";

/** A log whose appends fail while `failing` is set. */
class FlakyLog extends MemoryMessageLog {
  failing = false;
  override async append(stream: string, payload: Uint8Array): Promise<string> {
    if (this.failing) throw new Error("log unreachable");
    return super.append(stream, payload);
  }
  override async appendOnce(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): ReturnType<MemoryMessageLog["appendOnce"]> {
    if (this.failing) throw new Error("log unreachable");
    return super.appendOnce(stream, payload, key, window);
  }
}

function recordOf(records: LogRecord[], msg: string): LogRecord | undefined {
  return records.find((r) => r.msg === msg);
}

async function bayeuxClient(bayeux: BayeuxServer): Promise<string> {
  const hs = await bayeux.process([
    { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
  ]);
  return hs.replies[0].clientId as string;
}

describe("logs of failing and gapped message logs", () => {
  it("a publish the channel log cannot store is an error; the publisher is told", async () => {
    const { records, logger } = recordingLogger();
    const log = new FlakyLog();
    const bayeux = new BayeuxServer({ logger, channelLog: log });
    try {
      const clientId = await bayeuxClient(bayeux);
      const stored = await bayeux.process([{ channel: "/c", clientId, data: 1 }]);
      assert.equal(stored.replies[0].successful, true);
      log.failing = true;
      const lost = await bayeux.process([{ channel: "/c", clientId, data: 2 }]);
      assert.equal(lost.replies[0].successful, false);
      const failed = recordOf(records, "publish not stored in the channel log");
      assert.ok(failed, JSON.stringify(records.map((r) => r.msg)));
      assert.equal(failed.level, "error");
      assert.equal(failed.bindings.component, "bayeux");
      assert.equal(failed.obj.channel, "/c");
      assert.equal(failed.obj.suppressed, 0);
      const err = failed.obj.err as Error;
      assert.equal((err as Error & { code?: string }).code, "ERR_BAYEUX_CHANNEL_LOG");
      assert.equal((err.cause as Error).message, "log unreachable");
    } finally {
      await bayeux.close();
    }
  });

  it("the channel log losing entries under this node's follow is a warning", async () => {
    const { records, logger } = recordingLogger();
    const log = new MemoryMessageLog();
    const bayeux = new BayeuxServer({ logger, channelLog: log });
    try {
      const clientId = await bayeuxClient(bayeux);
      await bayeux.process([{ channel: "/c", clientId, data: 1 }]);
      log.dropNow(CHANNEL_STREAM);
      await bayeux.process([{ channel: "/c", clientId, data: 2 }]);
      const msg = "log gap: the channel log lost entries to this node's follow";
      await until(() => recordOf(records, msg) !== undefined, 5000, "the gap record");
      const gap = recordOf(records, msg) as LogRecord;
      assert.equal(gap.level, "warn");
      assert.equal(gap.bindings.component, "bayeux");
      assert.equal(gap.obj.stream, CHANNEL_STREAM);
    } finally {
      await bayeux.close();
    }
  });

  it("the Socket.IO recovery log losing entries under a clustered server's follow is a warning", async () => {
    const { records, logger } = recordingLogger();
    const log = new MemoryMessageLog();
    const broker = new MemoryBrokerHub().connect("node-a");
    const io = new Server({ logger, broker, connectionStateRecovery: { messageLog: log } });
    try {
      const stream = "sio/recovery/";
      io.emit("tick", 1);
      await until(
        () => log.readAfterNow(stream, null).entries.length === 1,
        5000,
        "the first entry",
      );
      log.dropNow(stream);
      io.emit("tick", 2);
      const msg = "log gap: the message log lost entries, replays from before now are refused";
      await until(() => recordOf(records, msg) !== undefined, 5000, "the gap record");
      const gap = recordOf(records, msg) as LogRecord;
      assert.equal(gap.level, "warn");
      assert.equal(gap.bindings.component, "socketio");
      assert.deepEqual(gap.obj, { nsp: "/", stream });
    } finally {
      await io.close();
      await broker.close();
    }
  });
});
