/**
 * The Redis backend of the idempotency seam (idempotency.ts): one key per
 * claim, set with `NX PX <window>`, so Redis decides the race between nodes
 * and forgets the claim by itself.
 */
import { checkClaim, type Idempotency } from "./idempotency.js";
import { DEFAULT_KEY_PREFIX, hashTag, type RedisConnection, redisCommand } from "./redis-keys.js";

export interface RedisIdempotencyOptions {
  /** Prefix of every key. Default `"sb:"`. */
  prefix?: string;
}

/**
 * Claims in Redis: one key per claim, `<prefix>pub:{<scope>}:<id>`, set with
 * `NX PX <window>` so Redis both decides the race and forgets the claim.
 *
 * @example
 * const claims = new RedisIdempotency(redis, { prefix: "app:" });
 * await claims.claim(clientId, "7", 120000); // true once across every node
 */
export class RedisIdempotency implements Idempotency {
  readonly #redis: RedisConnection;
  readonly #prefix: string;

  constructor(redis: RedisConnection, options: RedisIdempotencyOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
  }

  /** The key of a claim. */
  keyOf(scope: string, id: string): string {
    return `${this.#prefix}pub:${hashTag(scope)}:${id}`;
  }

  async claim(scope: string, id: string, window: number): Promise<boolean> {
    checkClaim(scope, id, window);
    const key = this.keyOf(scope, id);
    const set = await redisCommand<string | null>(this.#redis, key, [
      "SET",
      key,
      "1",
      "NX",
      "PX",
      String(Math.ceil(window)),
    ]);
    return set !== null;
  }

  async release(scope: string, id: string): Promise<void> {
    checkClaim(scope, id);
    const key = this.keyOf(scope, id);
    await redisCommand<number>(this.#redis, key, ["DEL", key]);
  }

  /** The Redis client belongs to the caller, who closes it. */
  async close(): Promise<void> {}
}
