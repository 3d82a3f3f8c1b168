/**
 * The Redis session store. One hash per session, `<prefix>session:{<id>}`:
 * field `o` holds the owner node, each data field `d:<name>` its JSON. The
 * record's ttl is the hash's PEXPIRE, so Redis removes an abandoned session
 * entirely (nothing else refers to it). Create, read and update are Lua
 * scripts, each atomic: two nodes creating one id cannot both win, and an
 * update never resurrects an expired record.
 */
import { createDebug } from "../shared/debug.js";
import {
  DEFAULT_KEY_PREFIX,
  hashTag,
  type RedisConnection,
  RedisScript,
  redisCommand,
} from "./redis-keys.js";
import {
  type ClaimSessionOptions,
  type CreateSessionOptions,
  checkSessionArgs,
  type DeleteSessionOptions,
  type SessionRecord,
  type SessionStore,
  SessionStoreCorruptError,
  type SessionValue,
} from "./session-store.js";

const debug = createDebug("cluster:redis-session");

export interface RedisSessionStoreOptions {
  /** Prefix of every key. Default `"sb:"`. */
  prefix?: string;
}

// KEYS[1] record; ARGV: owner, ttl, then field/value pairs.
const CREATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`);

// KEYS[1] record → { pttl, field, value, ... } or nil.
const GET = new RedisScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return nil end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, ttl)
return out`);

// KEYS[1] record; ARGV: count of pairs to set, the pairs, then fields to remove.
const UPDATE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[1])
for i = 2, 2 * n, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 2 * n + 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return 1`);

// KEYS[1] record; ARGV: from, to, ttl, then field/value pairs. Compare and set of the owner.
const CLAIM = new RedisScript(`
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'o', ARGV[2])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`);

// KEYS[1] record; ARGV: the owner it must still have.
const DELETE_OWNED = new RedisScript(`
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`);

/**
 * @example
 * const redis = await connectRedis({ url: "redis://127.0.0.1:6379" });
 * const store = new RedisSessionStore(redis, { prefix: "app:" });
 * await store.create("abc", { owner: "node-1", ttl: 30000 });
 */
export class RedisSessionStore implements SessionStore {
  readonly #redis: RedisConnection;
  readonly #prefix: string;

  constructor(redis: RedisConnection, options: RedisSessionStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  }

  /** The Redis client this store writes to (other seams on the same backend share it). */
  get connection(): RedisConnection {
    return this.#redis;
  }

  /** The prefix of this store's keys. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The key of `id`'s record. */
  keyOf(id: string): string {
    return `${this.#prefix}session:${hashTag(id)}`;
  }

  async create(id: string, options: CreateSessionOptions): Promise<boolean> {
    checkSessionArgs(id, options.ttl);
    const args = [options.owner, String(Math.ceil(options.ttl))];
    if (options.data) {
      for (const [name, value] of Object.entries(options.data)) {
        if (value !== undefined) args.push(`d:${name}`, JSON.stringify(value));
      }
    }
    return (await CREATE.run<number>(this.#redis, [this.keyOf(id)], args)) === 1;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    checkSessionArgs(id);
    const reply = await GET.run<(string | number)[] | null>(this.#redis, [this.keyOf(id)], []);
    if (reply === null) return undefined;
    const [ttl, ...pairs] = reply;
    const record: SessionRecord = {
      id,
      owner: "",
      data: {},
      expiresAt: Date.now() + Number(ttl),
    };
    try {
      for (let i = 0; i < pairs.length; i += 2) {
        const field = String(pairs[i]);
        if (field === "o") record.owner = String(pairs[i + 1]);
        else if (field.startsWith("d:"))
          record.data[field.slice(2)] = JSON.parse(String(pairs[i + 1]));
      }
    } catch (err) {
      debug("record %s does not decode: %s", id, err);
      throw new SessionStoreCorruptError(id, { cause: err });
    }
    return record;
  }

  async owner(id: string): Promise<string | undefined> {
    checkSessionArgs(id);
    const owner = await redisCommand<string | null>(this.#redis, this.keyOf(id), [
      "HGET",
      this.keyOf(id),
      "o",
    ]);
    return owner ?? undefined;
  }

  async touch(id: string, ttl: number): Promise<boolean> {
    checkSessionArgs(id, ttl);
    const key = this.keyOf(id);
    const done = await redisCommand<number>(this.#redis, key, [
      "PEXPIRE",
      key,
      String(Math.ceil(ttl)),
    ]);
    return done === 1;
  }

  async update(id: string, patch: Record<string, SessionValue | undefined>): Promise<boolean> {
    checkSessionArgs(id);
    const set: string[] = [];
    const unset: string[] = [];
    for (const [name, value] of Object.entries(patch)) {
      if (value === undefined) unset.push(`d:${name}`);
      else set.push(`d:${name}`, JSON.stringify(value));
    }
    const args = [String(set.length / 2), ...set, ...unset];
    return (await UPDATE.run<number>(this.#redis, [this.keyOf(id)], args)) === 1;
  }

  async claim(id: string, options: ClaimSessionOptions): Promise<boolean> {
    checkSessionArgs(id, options.ttl);
    const args = [options.from, options.owner, String(Math.ceil(options.ttl))];
    if (options.data) {
      for (const [name, value] of Object.entries(options.data)) {
        if (value !== undefined) args.push(`d:${name}`, JSON.stringify(value));
      }
    }
    return (await CLAIM.run<number>(this.#redis, [this.keyOf(id)], args)) === 1;
  }

  async delete(id: string, options: DeleteSessionOptions = {}): Promise<boolean> {
    checkSessionArgs(id);
    const key = this.keyOf(id);
    if (options.owner !== undefined) {
      return (await DELETE_OWNED.run<number>(this.#redis, [key], [options.owner])) === 1;
    }
    return (await redisCommand<number>(this.#redis, key, ["DEL", key])) === 1;
  }

  /** The Redis client belongs to the caller, who closes it. */
  async close(): Promise<void> {}
}
