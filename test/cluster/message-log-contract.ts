/** The contract every message log backend passes; run by message-log.test.ts per backend. */
import assert from "node:assert/strict";
import { it } from "node:test";
import {
  type MessageLog,
  MessageLogArgumentError,
  type MessageLogLimits,
  type ReadResult,
} from "../../src/cluster/index.js";
import { eventually } from "../helpers/redis-server.js";
import { messageLogFollowContract } from "./message-log-follow-contract.js";

/** Two nodes' views of one backend with the given limits. */
export interface MessageLogBackend {
  logs: [MessageLog, MessageLog];
  /** Keys (or streams) of this run still held by the backend. */
  keyCount(): Promise<number>;
  close(): Promise<void>;
}

const text = (r: ReadResult) => r.entries.map((e) => e.payload.toString());

export function messageLogContract(
  make: (limits: MessageLogLimits) => Promise<MessageLogBackend>,
): void {
  const withBackend =
    (limits: MessageLogLimits, fn: (b: MessageLogBackend) => Promise<void>) => async () => {
      const backend = await make(limits);
      try {
        await fn(backend);
      } finally {
        await backend.close();
      }
    };

  it(
    "appends and reads after any offset, from another node, bytes intact",
    withBackend({}, async ({ logs: [a, b] }) => {
      const offsets: string[] = [];
      for (const word of ["one", "two", "three"])
        offsets.push(await a.append("s", Buffer.from(word)));
      assert.equal(new Set(offsets).size, 3);
      const all = await b.readAfter("s", null);
      assert.equal(all.status, "complete");
      assert.deepEqual(text(all), ["one", "two", "three"]);
      assert.deepEqual(
        all.entries.map((e) => e.offset),
        offsets,
      );
      assert.deepEqual(text(await b.readAfter("s", offsets[0])), ["two", "three"]);
      assert.deepEqual(await b.readAfter("s", offsets[2]), { status: "complete", entries: [] });
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const at = await a.append("bin", bytes);
      await a.append("bin", new Uint8Array(bytes.buffer, bytes.byteOffset + 10, 5));
      const bin = await b.readAfter("bin", null);
      assert.deepEqual(bin.entries[0].payload, bytes);
      assert.deepEqual(bin.entries[1].payload, bytes.subarray(10, 15));
      assert.equal(bin.entries[0].offset, at);
      assert.deepEqual(await b.readAfter("never-written", null), {
        status: "complete",
        entries: [],
      });
      await a.drop("s");
      await a.drop("bin");
    }),
  );

  it(
    "orders concurrent appends of two nodes: every offset resumes right after itself",
    withBackend({}, async ({ logs: [a, b] }) => {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append("c", Buffer.from(String(i)))),
      );
      const all = await a.readAfter("c", null);
      assert.equal(all.entries.length, 40);
      assert.equal(new Set(all.entries.map((e) => e.offset)).size, 40);
      for (let i = 0; i < 40; i += 7) {
        const after = await b.readAfter("c", all.entries[i].offset);
        assert.deepEqual(text(after), text(all).slice(i + 1));
      }
      await a.drop("c");
    }),
  );

  it(
    "reads at most `limit` entries: partial while more remain, complete at the edge",
    withBackend({}, async ({ logs: [a] }) => {
      for (let i = 0; i < 5; i++) await a.append("l", Buffer.from(String(i)));
      const first = await a.readAfter("l", null, 2);
      assert.equal(first.status, "partial");
      assert.deepEqual(text(first), ["0", "1"]);
      const next = await a.readAfter("l", first.entries[1].offset, 3);
      assert.equal(next.status, "complete", "exactly the remaining count is complete");
      assert.deepEqual(text(next), ["2", "3", "4"]);
      await assert.rejects(a.readAfter("l", null, 0), MessageLogArgumentError);
      await assert.rejects(a.append("", Buffer.from("x")), MessageLogArgumentError);
      await a.drop("l");
    }),
  );

  it(
    "keeps maxLength entries: a reader who lost one is told gap, at the edge exactly",
    withBackend({ maxLength: 5 }, async ({ logs: [a, b] }) => {
      const offsets: string[] = [];
      for (let i = 0; i < 5; i++) offsets.push(await a.append("m", Buffer.from(String(i))));
      assert.deepEqual(text(await b.readAfter("m", null)), ["0", "1", "2", "3", "4"]);
      offsets.push(await a.append("m", Buffer.from("5")));
      assert.deepEqual(text(await b.readAfter("m", null)), ["1", "2", "3", "4", "5"]);
      // Entry 0 is gone, but nothing after it: its reader misses nothing.
      assert.deepEqual(text(await b.readAfter("m", offsets[0])), ["1", "2", "3", "4", "5"]);
      offsets.push(await a.append("m", Buffer.from("6")));
      assert.deepEqual(await b.readAfter("m", offsets[0]), { status: "gap", entries: [] });
      assert.deepEqual(text(await b.readAfter("m", offsets[1])), ["2", "3", "4", "5", "6"]);
      await a.drop("m");
    }),
  );

  it(
    "keeps entries maxAge ms: an aged-out entry a reader did not get is a gap",
    withBackend({ maxAge: 300 }, async ({ logs: [a, b] }) => {
      const first = await a.append("age", Buffer.from("old-1"));
      const second = await a.append("age", Buffer.from("old-2"));
      const start = Date.now();
      await eventually(async () => Date.now() - start > 350, "maxAge to pass");
      const third = await a.append("age", Buffer.from("new"));
      assert.deepEqual(text(await b.readAfter("age", null)), ["new"]);
      assert.deepEqual(await b.readAfter("age", first), { status: "gap", entries: [] });
      assert.deepEqual(text(await b.readAfter("age", second)), ["new"]);
      assert.deepEqual(await b.readAfter("age", third), { status: "complete", entries: [] });
      await a.drop("age");
    }),
  );

  it(
    "detects an epoch change: offsets of a dropped stream, another stream or garbage are gaps",
    withBackend({}, async ({ logs: [a, b], keyCount }) => {
      const old = await a.append("e", Buffer.from("before"));
      const other = await a.append("e2", Buffer.from("elsewhere"));
      await b.drop("e");
      assert.deepEqual(await a.readAfter("e", old), { status: "gap", entries: [] });
      const fresh = await a.append("e", Buffer.from("after"));
      assert.notEqual(fresh, old);
      assert.deepEqual(await a.readAfter("e", old), { status: "gap", entries: [] });
      assert.deepEqual(await a.readAfter("e", other), { status: "gap", entries: [] });
      for (const junk of ["", ".", "x", `${old}x`, `${fresh}.1`, "a.b.c"]) {
        assert.equal(
          (await a.readAfter("e", junk)).status,
          "gap",
          `offset ${JSON.stringify(junk)}`,
        );
      }
      assert.deepEqual(text(await b.readAfter("e", null)), ["after"]);
      await a.drop("e");
      await a.drop("e2");
      assert.equal(await keyCount(), 0, "drop leaves nothing behind");
    }),
  );

  it(
    "replaces a stream in one step: the old entries and offsets gone, the new ones read in order",
    withBackend({}, async ({ logs: [a, b], keyCount }) => {
      assert.ok(a.replace, "the backend replaces streams");
      const old = await a.append("r", Buffer.from("acked"));
      await a.append("r", Buffer.from("queued"));
      await a.replace("r", [Buffer.from("queued"), Buffer.from("next")]);
      assert.deepEqual(await b.readAfter("r", old), { status: "gap", entries: [] });
      const now = await b.readAfter("r", null);
      assert.deepEqual(text(now), ["queued", "next"]);
      const later = await b.append("r", Buffer.from("later"));
      assert.deepEqual(text(await a.readAfter("r", now.entries[1].offset)), ["later"]);
      assert.ok((a.compare(now.entries[0].offset, later) ?? 0) < 0, "offsets go on growing");
      await a.replace("r", []);
      assert.deepEqual(await b.readAfter("r", null), { status: "complete", entries: [] });
      assert.equal(await keyCount(), 0, "an empty replace leaves nothing behind");
    }),
  );

  it(
    "forgets a stream idle for streamTtl, keys included: its offsets become gaps",
    withBackend({ streamTtl: 200 }, async ({ logs: [a, b], keyCount }) => {
      const offset = await a.append("idle", Buffer.from("x"));
      await a.append("idle2", Buffer.from("y"));
      assert.equal((await b.readAfter("idle", offset)).status, "complete", "known while fresh");
      await eventually(async () => (await keyCount()) === 0, "idle streams to go", 5000);
      assert.deepEqual(await b.readAfter("idle", offset), { status: "gap", entries: [] });
    }),
  );

  messageLogFollowContract(make);
}
