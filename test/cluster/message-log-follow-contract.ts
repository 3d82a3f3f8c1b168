/**
 * The message log contract, live side: `follow`, `appendOnce` and `compare`,
 * which every backend passes; run by message-log-contract.ts.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import {
  type LogEntry,
  type LogFollower,
  type MessageLog,
  MessageLogArgumentError,
  type MessageLogLimits,
} from "../../src/cluster/index.js";
import { eventually } from "../helpers/redis-server.js";
import { until } from "../socketio/raw-clients.js";
import type { MessageLogBackend } from "./message-log-contract.js";

/** A follower with what it was handed: entries, and "gap" where a gap was reported. */
export interface Followed {
  follower: LogFollower;
  events: Array<LogEntry | "gap">;
  entries(): LogEntry[];
  texts(): string[];
}

/** Follows `stream` on `log` and waits until its position is fixed. */
export async function followed(log: MessageLog, stream: string): Promise<Followed> {
  const events: Array<LogEntry | "gap"> = [];
  const follower = log.follow(stream, {
    entries: (batch) => {
      assert.ok(batch.length > 0, "never an empty batch");
      events.push(...batch);
    },
    gap: () => events.push("gap"),
  });
  await follower.ready;
  const entries = () => events.filter((e): e is LogEntry => e !== "gap");
  return {
    follower,
    events,
    entries,
    texts: () => entries().map((e) => e.payload.toString()),
  };
}

const offsets = (entries: LogEntry[]) => entries.map((e) => e.offset);

export function messageLogFollowContract(
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
    "follows: appends of both nodes after the start, in log order, position at the last one",
    withBackend({}, async ({ logs: [a, b] }) => {
      const before = await a.append("f", Buffer.from("before"));
      const f = await followed(b, "f");
      try {
        assert.equal(a.compare(f.follower.position, before), 0, "starts at the stream's end");
        const start = f.follower.position;
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append("f", Buffer.from(`${i}`))),
        );
        await until(() => f.entries().length === 20, 5000, "20 entries followed");
        const logged = await a.readAfter("f", start);
        assert.deepEqual(offsets(f.entries()), offsets(logged.entries), "log order, each once");
        assert.equal(f.follower.position, logged.entries[19].offset);
        assert.ok(!f.events.includes("gap"));
      } finally {
        f.follower.close();
      }
      const empty = await followed(a, "f-empty");
      try {
        const start = empty.follower.position;
        assert.deepEqual(await b.readAfter("f-empty", start), { status: "complete", entries: [] });
        const first = await b.append("f-empty", Buffer.from("first"));
        assert.ok((a.compare(start, first) ?? 0) < 0, "before the first entry");
        assert.deepEqual(
          (await b.readAfter("f-empty", start)).entries.map((e) => e.offset),
          [first],
        );
        await until(() => empty.entries().length === 1, 5000, "first entry followed");
        assert.deepEqual(empty.texts(), ["first"]);
        assert.equal(empty.follower.position, first);
      } finally {
        empty.follower.close();
      }
      await b.append("f", Buffer.from("after close"));
      await a.drop("f");
      await a.drop("f-empty");
    }),
  );

  it(
    "follow + readAfter(position) hands every entry over exactly once under concurrent appends",
    withBackend({}, async ({ logs: [a, b] }) => {
      const writes: Promise<string>[] = [];
      const write = (n: number) => {
        for (let i = 0; i < n; i++)
          writes.push((i % 2 ? a : b).append("x", Buffer.from(String(writes.length))));
      };
      write(1);
      const client = await writes[0];
      write(30);
      const f = await followed(a, "x");
      write(30);
      // A reconnecting client's replay: (its offset, the follower's position], then live.
      await until(() => f.entries().length >= 5, 5000, "some entries followed");
      const snapshot = f.follower.position;
      const liveFrom = f.entries().length;
      write(40);
      const all = await Promise.all(writes);
      const last = all.reduce((x, y) => ((a.compare(x, y) ?? 0) > 0 ? x : y));
      await until(() => f.follower.position === last, 5000, "the follower to reach the end");
      const everything = await b.readAfter("x", client);
      assert.equal(everything.entries.length, 100);
      const replay = everything.entries.filter((e) => (a.compare(e.offset, snapshot) ?? 1) <= 0);
      const handed = [...replay, ...f.entries().slice(liveFrom)];
      assert.deepEqual(offsets(handed), offsets(everything.entries), "none twice, none missed");
      const fromStart = await b.readAfter("x", offsets(f.entries())[0]);
      assert.deepEqual(offsets(f.entries()).slice(1), offsets(fromStart.entries));
      f.follower.close();
      await a.drop("x");
    }),
  );

  it(
    "tells a follower of a dropped stream: gap, then the new epoch's entries",
    withBackend({}, async ({ logs: [a, b] }) => {
      const f = await followed(a, "g");
      try {
        const old = await b.append("g", Buffer.from("old"));
        await until(() => f.entries().length === 1, 5000, "old entry followed");
        await b.drop("g");
        const fresh = await b.append("g", Buffer.from("new"));
        await until(() => f.entries().length === 2, 5000, "new entry followed");
        assert.deepEqual(
          f.events.map((e) => (e === "gap" ? e : e.payload.toString())),
          ["old", "gap", "new"],
        );
        assert.equal(f.follower.position, fresh);
        assert.equal(a.compare(old, fresh), undefined, "another epoch");
      } finally {
        f.follower.close();
      }
      await a.drop("g");
    }),
  );

  it(
    "appendOnce logs a key once within its window, again after it",
    withBackend({}, async ({ logs: [a, b] }) => {
      const first = await a.appendOnce("o", Buffer.from("a"), "k1", 400);
      const start = Date.now();
      assert.equal(first.duplicate, false);
      const again = await b.appendOnce("o", Buffer.from("a again"), "k1", 400);
      assert.deepEqual(again, { offset: first.offset, duplicate: true });
      const other = await b.appendOnce("o", Buffer.from("b"), "k2", 400);
      assert.equal(other.duplicate, false);
      const racing = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).appendOnce("o", Buffer.from("c"), "k3", 400),
        ),
      );
      assert.equal(racing.filter((r) => !r.duplicate).length, 1, "one of ten racing appends");
      assert.equal(new Set(racing.map((r) => r.offset)).size, 1);
      assert.deepEqual(
        (await a.readAfter("o", null)).entries.map((e) => e.payload.toString()),
        ["a", "b", "c"],
      );
      await eventually(async () => Date.now() - start > 450, "the window to pass");
      const later = await b.appendOnce("o", Buffer.from("a later"), "k1", 400);
      assert.equal(later.duplicate, false);
      assert.notEqual(later.offset, first.offset);
      await assert.rejects(a.appendOnce("o", Buffer.from("x"), "", 100), MessageLogArgumentError);
      await assert.rejects(a.appendOnce("o", Buffer.from("x"), "k", 0), MessageLogArgumentError);
      await a.drop("o");
    }),
  );

  it(
    "compares offsets of one epoch; another epoch or garbage is undefined",
    withBackend({}, async ({ logs: [a, b] }) => {
      const x = await a.append("cmp", Buffer.from("1"));
      const y = await b.append("cmp", Buffer.from("2"));
      assert.ok((a.compare(x, y) ?? 0) < 0);
      assert.ok((b.compare(y, x) ?? 0) > 0);
      assert.equal(a.compare(x, x), 0);
      const other = await a.append("cmp2", Buffer.from("3"));
      assert.equal(a.compare(x, other), undefined);
      for (const junk of ["", ".", "x", `${x}.1`, "a.b.c", `${x}-`]) {
        assert.equal(a.compare(x, junk), undefined, JSON.stringify(junk));
        assert.equal(a.compare(junk, x), undefined, JSON.stringify(junk));
      }
      await a.drop("cmp");
      const z = await a.append("cmp", Buffer.from("again"));
      assert.equal(a.compare(x, z), undefined, "a dropped stream's offsets are of another epoch");
      await a.drop("cmp");
      await a.drop("cmp2");
    }),
  );
}
