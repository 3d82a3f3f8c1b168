/**
 * A follower of one stream of the Redis message log: a loop of `XREAD BLOCK`
 * on a connection of its own.
 *
 * Why XREAD: a stream entry is the log entry itself, so reading the stream
 * after the last id handed over yields every entry exactly once and in log
 * order, whichever node appended it, with no second channel (a pub/sub
 * notice could overtake or miss the entry it announces). `BLOCK` makes the
 * server answer the moment an entry is added, so an append on another node
 * reaches the follower within a round trip.
 *
 * Why a connection per follower: a blocked XREAD holds its connection until
 * it answers, so it cannot share the caller's command connection. The
 * follower `duplicate()`s the caller's client (on a Redis Cluster, the
 * cluster client, which sends the XREAD to the master of the stream's hash
 * tag), and `close()` destroys that connection, which ends a pending BLOCK at
 * once instead of after its timeout.
 *
 * Epochs: every entry carries its epoch (field `e`). An entry of another
 * epoch, or an ordinal that skips (entries trimmed before they were read),
 * is a gap. After any error (Redis restarted, connection lost) and after
 * each idle BLOCK timeout the follower re-reads the stream's meta: the same
 * epoch continues from the last id handed over (a Redis that persisted the
 * stream loses nothing); another epoch, or none (recreated here), is a gap,
 * and the follower resumes with the oldest entry the new epoch holds.
 *
 * `position` is `<epoch>.<entry id>`: the last entry handed over, or at the
 * start the stream's last entry (`0-0`: none yet), or after a gap the id just
 * before the entry the follower resumes with.
 */
import { randomBytes } from "node:crypto";
import {
  type FollowHandlers,
  handOver,
  type LogEntry,
  type LogFollower,
  MessageLogArgumentError,
} from "./message-log.js";
import { closeConnection } from "./redis-compat.js";
import { type RedisConnection, RedisScript, redisCommand } from "./redis-keys.js";

// KEYS: stream, meta. ARGV: streamTtl, fresh epoch.
// The stream's epoch (set when absent), its last id and its oldest kept id ('' if none).
const OPEN = new RedisScript(`
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  redis.call('DEL', KEYS[1])
  epoch = ARGV[2]
  redis.call('HSET', KEYS[2], 'e', epoch, 'n', 0, 'm', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
local last = redis.call('HGET', KEYS[2], 'm') .. '-' .. redis.call('HGET', KEYS[2], 'n')
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
return {epoch, last, first and first[1] or ''}`);

/** Milliseconds an XREAD blocks before the follower re-checks the epoch. */
const BLOCK_MS = 2000;
/** Entries read per XREAD at most. */
const BATCH = 1000;

/** The ordinal of an entry id `<ms>-<n>`. */
const ordinal = (id: string): number => Number(id.slice(id.indexOf("-") + 1));
/** An id just before `<ms>-<n>`: after every entry before it. */
const before = (id: string): string => {
  const dash = id.indexOf("-");
  return `${id.slice(0, dash)}-${Number(id.slice(dash + 1)) - 1}`;
};

/** A connection that can make another like itself, as every `@redis/client` line's can. */
interface Duplicable extends RedisConnection {
  duplicate(): Duplicable & {
    on(event: string, listener: () => void): unknown;
    connect(): Promise<unknown>;
  };
}

/** Follows one stream of a RedisMessageLog; made by `RedisMessageLog.follow`. */
export class RedisLogFollower implements LogFollower {
  readonly ready: Promise<void>;
  position = "";
  readonly #source: Duplicable;
  readonly #keys: [string, string];
  readonly #streamTtl: number;
  readonly #handlers: FollowHandlers;
  #resolveReady!: () => void;
  #connection: RedisConnection | undefined;
  #closed = false;
  #epoch = "";
  #id = "0-0";
  #seq = 0;
  #wake: (() => void) | undefined;

  constructor(
    source: RedisConnection,
    keys: [string, string],
    streamTtl: number,
    handlers: FollowHandlers,
  ) {
    if (typeof (source as Partial<Duplicable>).duplicate !== "function") {
      throw new MessageLogArgumentError("follow needs a Redis client that can duplicate()");
    }
    this.#source = source as Duplicable;
    this.#keys = keys;
    this.#streamTtl = streamTtl;
    this.#handlers = handlers;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    void this.#run();
  }

  /** Stops the loop: the dedicated connection is destroyed, ending a pending BLOCK. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    if (this.#connection !== undefined) void closeConnection(this.#connection, false);
  }

  async #run(): Promise<void> {
    const key = this.#keys[0];
    let failures = 0;
    let synced = false;
    try {
      const connection = this.#source.duplicate();
      connection.on("error", ignore);
      this.#connection = connection;
      await connection.connect();
      while (!this.#closed) {
        try {
          if (!synced) {
            await this.#sync(connection);
            synced = true;
          }
          const reply = await redisCommand<unknown>(
            connection,
            key,
            ["XREAD", "COUNT", String(BATCH), "BLOCK", String(BLOCK_MS), "STREAMS", key, this.#id],
            true,
          );
          failures = 0;
          if (this.#closed) break;
          const rows = streamRows(reply);
          if (rows.length === 0) synced = false;
          else if (!this.#take(rows)) synced = false;
        } catch {
          if (this.#closed) break;
          synced = false;
          await this.#pause(Math.min(50 * 2 ** failures++, 1000));
        }
      }
    } catch {
      // Connecting failed or was cut short by close(): nothing more to follow.
    } finally {
      this.#closed = true;
      this.#resolveReady();
      if (this.#connection !== undefined) await closeConnection(this.#connection, false);
    }
  }

  /** Re-reads the stream's epoch: the first time it fixes the start, later a changed one is a gap. */
  async #sync(connection: RedisConnection): Promise<void> {
    const [epoch, last, first] = (
      await OPEN.run<Buffer[]>(
        connection,
        this.#keys,
        [String(Math.ceil(this.#streamTtl)), randomBytes(6).toString("base64url")],
        true,
      )
    ).map(String);
    if (this.#closed) return;
    if (this.#epoch === "") {
      this.#moveTo(epoch, last);
      this.#resolveReady();
      return;
    }
    if (epoch === this.#epoch) return;
    this.#moveTo(epoch, first === "" ? last : before(first));
    handOver(this.#handlers, null);
  }

  #moveTo(epoch: string, id: string): void {
    this.#epoch = epoch;
    this.#id = id;
    this.#seq = ordinal(id);
    this.position = `${epoch}.${id}`;
  }

  /**
   * Hands over the rows read; an ordinal that skips is a gap. Returns false
   * at a row of another epoch (the rest is read again after a re-sync).
   */
  #take(rows: Row[]): boolean {
    let batch: LogEntry[] = [];
    const flush = (): void => {
      if (batch.length > 0 && !this.#closed) handOver(this.#handlers, batch);
      batch = [];
    };
    for (const [rawId, fields] of rows) {
      const id = String(rawId);
      let payload: Buffer | undefined;
      let epoch: string | undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const name = String(fields[i]);
        if (name === "p") payload = fields[i + 1];
        else if (name === "e") epoch = String(fields[i + 1]);
      }
      if (epoch !== undefined && epoch !== this.#epoch) {
        flush();
        return false;
      }
      const seq = ordinal(id);
      if (seq !== this.#seq + 1) {
        flush();
        this.#moveTo(this.#epoch, before(id));
        if (!this.#closed) handOver(this.#handlers, null);
      }
      this.#id = id;
      this.#seq = seq;
      this.position = `${this.#epoch}.${id}`;
      batch.push({ offset: this.position, payload: payload ?? Buffer.alloc(0) });
    }
    flush();
    return true;
  }

  /** Waits `ms`, or less when closed meanwhile. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/** One stream entry of an XREAD reply: its id and its field/value pairs. */
type Row = [Buffer, Buffer[]];

/**
 * The entries of a one-stream XREAD reply: `null` on timeout, an array of
 * `[key, entries]` under RESP2, a map (an object or a `Map`) under RESP3.
 */
function streamRows(reply: unknown): Row[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return (reply[0]?.[1] as Row[] | undefined) ?? [];
  if (reply instanceof Map) return ([...reply.values()][0] as Row[] | undefined) ?? [];
  return (Object.values(reply as object)[0] as Row[] | undefined) ?? [];
}

function ignore(): void {}
