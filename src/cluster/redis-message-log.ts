/**
 * The Redis message log, on Redis streams (Redis 6.2+: `XTRIM MINID`, `XRANGE (id`).
 *
 * Why streams and not lists: a stream entry id is ordered and stable (a
 * list index shifts as the head is trimmed), `XRANGE (id` reads exactly
 * "after this offset", `XADD MAXLEN` and `XTRIM MINID` bound length and age
 * in the same call, and entry ids may be chosen by the writer: the log writes
 * `<ms>-<n>`, the server time and the entry's ordinal in its stream
 * (from 1; `0-0` is the start of an epoch), so the ordinal of the oldest kept
 * entry answers "was anything after this offset trimmed?" exactly, and two
 * offsets of one epoch order by ordinal (`compare`). Trimming is exact (`MAXLEN n`, not `~ n`) so that
 * `maxLength` holds at its edge.
 *
 * Keys of stream S: `<prefix>log:{S}` (the stream) and `<prefix>log:{S}:meta`
 * (a hash: `e` the random epoch set by the first append after the stream was
 * absent, `n` the last ordinal, `m` the last ms, kept so ids only grow when
 * the server clock steps back); both share the hash tag `{S}`, are touched by
 * one script, and expire together `streamTtl` ms after the last append.
 * Offsets are `<epoch>.<stream entry id>`. Each entry holds its payload
 * (field `p`) and its epoch (field `e`, for followers).
 *
 * `appendOnce` keys are `<prefix>log:{S}:id:<key>` (same hash tag), holding
 * the entry's offset for `window` ms: the append script checks and sets it,
 * so two nodes appending one key at once log it once. Followers are in
 * redis-log-follower.ts.
 */
import { randomBytes } from "node:crypto";
import {
  type AppendOnceResult,
  checkOnceArgs,
  checkReadArgs,
  type FollowHandlers,
  GAP,
  type LogEntry,
  type LogFollower,
  type MessageLog,
  type MessageLogLimits,
  order,
  type ReadResult,
  resolveLimits,
} from "./message-log.js";
import { DEFAULT_KEY_PREFIX, hashTag, type RedisConnection, RedisScript } from "./redis-keys.js";
import { RedisLogFollower } from "./redis-log-follower.js";

export interface RedisMessageLogOptions extends MessageLogLimits {
  /** Prefix of every key. Default `"sb:"`. */
  prefix?: string;
}

/** Server time in ms, inside a script (effects replication makes TIME allowed). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function trim()
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d', now - tonumber(ARGV[3]) + 1))
end`;

// KEYS: stream, meta[, once key]. ARGV: payload, maxLength, maxAge, streamTtl, fresh epoch[, window].
// Returns {epoch, id}, or {'', offset} when the once key is taken.
const APPEND = new RedisScript(`
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {'', seen} end
end
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  redis.call('DEL', KEYS[1])
  epoch = ARGV[5]
  redis.call('HSET', KEYS[2], 'e', epoch, 'n', 0, 'm', 0)
end
${NOW}
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local ms = math.max(now, tonumber(redis.call('HGET', KEYS[2], 'm')))
redis.call('HSET', KEYS[2], 'm', string.format('%d', ms))
local id = string.format('%d-%d', ms, n)
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], id, 'p', ARGV[1], 'e', epoch)
trim()
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if KEYS[3] then redis.call('SET', KEYS[3], epoch .. '.' .. id, 'PX', ARGV[6]) end
return {epoch, id}`);

// KEYS: stream, meta. ARGV: epoch ('' for "from the start"), entry id, maxAge, limit.
// Returns {'gap'} or {status, epoch, id1, payload1, ...}.
const READ = new RedisScript(`
local epoch = redis.call('HGET', KEYS[2], 'e')
if ARGV[1] ~= '' and epoch ~= ARGV[1] then return {'gap'} end
if not epoch then return {'complete', ''} end
${NOW}
trim()
local start = '-'
if ARGV[1] ~= '' then
  local dash = string.find(ARGV[2], '-', 1, true)
  local seq = tonumber(string.sub(ARGV[2], dash + 1))
  local nextSeq = tonumber(redis.call('HGET', KEYS[2], 'n')) + 1
  if seq >= nextSeq then return {'gap'} end
  local firstSeq = nextSeq
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if first then firstSeq = tonumber(string.sub(first[1], string.find(first[1], '-', 1, true) + 1)) end
  if seq + 1 < firstSeq then return {'gap'} end
  start = '(' .. ARGV[2]
end
local limit = tonumber(ARGV[4])
local rows
if limit > 0 then
  rows = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', limit + 1)
else
  rows = redis.call('XRANGE', KEYS[1], start, '+')
end
local out = {'complete', epoch}
for i = 1, #rows do
  if limit > 0 and i > limit then
    out[1] = 'partial'
    break
  end
  table.insert(out, rows[i][1])
  table.insert(out, rows[i][2][2])
end
return out`);

const ENTRY_ID = /^\d{1,16}-\d{1,16}$/;

/**
 * @example
 * const redis = await connectRedis({ url: "redis://127.0.0.1:6379" });
 * const log = new RedisMessageLog(redis, { maxLength: 1000 });
 * const offset = await log.append("news", Buffer.from("a"));
 * await log.readAfter("news", offset); // { status: "complete", entries: [] }
 */
export class RedisMessageLog implements MessageLog {
  readonly #epochBase = randomBytes(6).toString("base64url");
  #epochCount = 0;
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #limits: Required<MessageLogLimits>;

  constructor(redis: RedisConnection, options: RedisMessageLogOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
    this.#limits = resolveLimits(options);
  }

  /** The keys of `stream`: the Redis stream and its meta hash. */
  keysOf(stream: string): [string, string] {
    const key = `${this.#prefix}log:${hashTag(stream)}`;
    return [key, `${key}:meta`];
  }

  async append(stream: string, payload: Uint8Array): Promise<string> {
    checkReadArgs(stream);
    return (await this.#append(this.keysOf(stream), payload, [])).offset;
  }

  async appendOnce(
    stream: string,
    payload: Uint8Array,
    key: string,
    window: number,
  ): Promise<AppendOnceResult> {
    checkOnceArgs(stream, key, window);
    const keys = this.keysOf(stream);
    return this.#append([...keys, `${keys[0]}:id:${key}`], payload, [String(Math.ceil(window))]);
  }

  /**
   * The epoch an append would give a stream that has none: random per log
   * instance, then counted, so no two stream incarnations share one (an old
   * offset must never read as a position in a new stream), and an append
   * draws no random bytes.
   */
  #freshEpoch(): string {
    return `${this.#epochBase}${(this.#epochCount++).toString(36)}`;
  }

  async #append(keys: string[], payload: Uint8Array, extra: string[]): Promise<AppendOnceResult> {
    const { maxLength, maxAge, streamTtl } = this.#limits;
    const [epoch, id] = await APPEND.run<[string, string]>(this.#redis, keys, [
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      String(maxLength),
      String(Math.ceil(maxAge)),
      String(Math.ceil(streamTtl)),
      this.#freshEpoch(),
      ...extra,
    ]);
    if (epoch === "") return { offset: id, duplicate: true };
    return { offset: `${epoch}.${id}`, duplicate: false };
  }

  /**
   * Follows `stream` on a connection of its own (a `duplicate()` of the
   * client given), creating the stream's epoch when it has none.
   */
  follow(stream: string, handlers: FollowHandlers): LogFollower {
    checkReadArgs(stream);
    return new RedisLogFollower(this.#redis, this.keysOf(stream), this.#limits.streamTtl, handlers);
  }

  compare(a: string, b: string): number | undefined {
    const x = parseOffset(a);
    const y = parseOffset(b);
    if (x === undefined || y === undefined || x.epoch !== y.epoch) return undefined;
    return order(x.seq, y.seq);
  }

  async readAfter(stream: string, offset: string | null, limit?: number): Promise<ReadResult> {
    checkReadArgs(stream, limit);
    let epoch = "";
    let id = "";
    if (offset !== null) {
      const parsed = parseOffset(offset);
      if (parsed === undefined) return GAP;
      epoch = parsed.epoch;
      id = parsed.id;
    }
    const reply = await READ.run<Buffer[]>(
      this.#redis,
      this.keysOf(stream),
      [epoch, id, String(Math.ceil(this.#limits.maxAge)), String(limit ?? 0)],
      true,
    );
    const status = reply[0].toString();
    if (status === "gap") return GAP;
    const current = reply[1].toString();
    const entries: LogEntry[] = [];
    for (let i = 2; i < reply.length; i += 2) {
      entries.push({ offset: `${current}.${reply[i].toString()}`, payload: reply[i + 1] });
    }
    return { status: status as "complete" | "partial", entries };
  }

  async drop(stream: string): Promise<void> {
    const keys = this.keysOf(stream);
    await DROP.run(this.#redis, keys, []);
  }

  /** One script: the stream goes and comes back with `payloads` under a fresh epoch. */
  async replace(stream: string, payloads: readonly Uint8Array[]): Promise<void> {
    checkReadArgs(stream);
    const keys = this.keysOf(stream);
    if (payloads.length === 0) {
      await DROP.run(this.#redis, keys, []);
      return;
    }
    const { maxLength, maxAge, streamTtl } = this.#limits;
    await REPLACE.run(this.#redis, keys, [
      String(maxLength),
      String(Math.ceil(maxAge)),
      String(Math.ceil(streamTtl)),
      this.#freshEpoch(),
      ...payloads.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)),
    ]);
  }

  /** The Redis client belongs to the caller, who closes it. */
  async close(): Promise<void> {}
}

const DROP = new RedisScript(`return redis.call('DEL', KEYS[1], KEYS[2])`);

// KEYS: stream, meta. ARGV: maxLength, maxAge, streamTtl, fresh epoch, payload... (as APPEND's ids).
const REPLACE = new RedisScript(`
redis.call('DEL', KEYS[1], KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = ARGV[4]
local ms = string.format('%d', now)
for i = 5, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], string.format('%s-%d', ms, i - 4), 'p', ARGV[i], 'e', epoch)
end
redis.call('HSET', KEYS[2], 'e', epoch, 'n', #ARGV - 4, 'm', ms)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return #ARGV - 4`);

/** The epoch, entry id and ordinal of a Redis log offset, or `undefined` when it is not one. */
function parseOffset(offset: string): { epoch: string; id: string; seq: number } | undefined {
  if (typeof offset !== "string") return undefined;
  const dot = offset.indexOf(".");
  const id = offset.slice(dot + 1);
  if (dot <= 0 || !ENTRY_ID.test(id)) return undefined;
  return { epoch: offset.slice(0, dot), id, seq: Number(id.slice(id.indexOf("-") + 1)) };
}
