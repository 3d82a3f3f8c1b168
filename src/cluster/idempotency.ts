/**
 * The idempotency seam: "has this (client, message id) been seen in the last
 * `window` ms?", answered alike on every node. A Bayeux client that resends
 * a publish after a lost reply (Faye and CometD do, possibly to another node
 * behind a round-robin balancer) claims the same key twice; only the first
 * claim wins, so the message is delivered once.
 *
 * Backends: {@link MemoryIdempotency} (one process, bounded) and
 * `RedisIdempotency` (redis-idempotency.ts: `SET <prefix>pub:{<scope>}:<id>
 * NX PX <window>`, shared by every node on that Redis or Redis Cluster).
 */
import { SwitchboardError } from "../shared/errors.js";
import { ExpiringMap } from "../shared/expiring-map.js";

/**
 * @example
 * if (await claims.claim(clientId, messageId, 120000)) route(message);
 * else answerAsBefore(message); // a resend: already delivered
 */
export interface Idempotency {
  /**
   * Claims (`scope`, `id`) for `window` ms: true when nobody held it (the
   * first time), false when it is held already (a repeat).
   */
  claim(scope: string, id: string, window: number): boolean | Promise<boolean>;
  /** Gives a claim up (the first attempt failed, so a resend must be tried again). */
  release(scope: string, id: string): void | Promise<void>;
  /** Releases what the backend holds (not a caller's Redis client). */
  close(): Promise<void>;
}

/** A claim argument that breaks the contract (an empty scope or id, a window below 1 ms). */
export class IdempotencyArgumentError extends SwitchboardError {
  constructor(message: string) {
    super("ERR_IDEMPOTENCY_ARGUMENT", message);
  }
}

export function checkClaim(scope: string, id: string, window?: number): void {
  if (typeof scope !== "string" || scope === "" || typeof id !== "string" || id === "") {
    throw new IdempotencyArgumentError("claim scope and id must be non-empty strings");
  }
  if (window !== undefined && (!Number.isFinite(window) || window < 1)) {
    throw new IdempotencyArgumentError(`claim window must be at least 1 ms, got ${window}`);
  }
}

export interface MemoryIdempotencyOptions {
  /**
   * Most claims remembered; past it the oldest is forgotten (a resend of it
   * would then be delivered again). Default 100000.
   */
  maxEntries?: number;
  /** The clock (tests inject one). Default `Date.now`. */
  now?: () => number;
}

/**
 * Claims in one process: an {@link ExpiringMap} of key to expiry, bounded by
 * `maxEntries`, the expired and the oldest going first at a constant cost
 * per claim. Answers synchronously.
 *
 * @example
 * const claims = new MemoryIdempotency({ maxEntries: 10000 });
 * claims.claim("client-1", "7", 120000); // true
 * claims.claim("client-1", "7", 120000); // false: a repeat
 */
export class MemoryIdempotency implements Idempotency {
  readonly maxEntries: number;
  readonly #now: () => number;
  readonly #claims = new ExpiringMap<true>();

  constructor(options: MemoryIdempotencyOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new IdempotencyArgumentError(`maxEntries must be a positive integer, got ${max}`);
    }
    this.maxEntries = max;
    this.#now = options.now ?? Date.now;
  }

  /** Claims held, expired ones not yet passed included. */
  get size(): number {
    return this.#claims.size;
  }

  claim(scope: string, id: string, window: number): boolean {
    checkClaim(scope, id, window);
    const now = this.#now();
    const claims = this.#claims;
    claims.expire(now);
    const key = `${scope}\n${id}`;
    if (claims.get(key, now) !== undefined) return false;
    claims.set(key, true, now + window, this.maxEntries);
    return true;
  }

  release(scope: string, id: string): void {
    this.#claims.delete(`${scope}\n${id}`);
  }

  async close(): Promise<void> {
    this.#claims.clear();
  }
}
