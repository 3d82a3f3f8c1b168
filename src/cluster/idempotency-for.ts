/**
 * Which idempotency backend goes with a session store: claims live where the
 * sessions do, so every node that can find a session also sees its claims.
 * A Redis session store gets {@link RedisIdempotency} on its client and
 * prefix; any other store a bounded {@link MemoryIdempotency} of this node.
 */
import { type Idempotency, MemoryIdempotency } from "./idempotency.js";
import { RedisIdempotency } from "./redis-idempotency.js";
import { RedisSessionStore } from "./redis-session-store.js";
import type { SessionStore } from "./session-store.js";

/**
 * @example
 * const claims = idempotencyFor(sessionStore, { maxEntries: 100000 });
 */
export function idempotencyFor(
  store: SessionStore | undefined,
  options: { maxEntries?: number } = {},
): Idempotency {
  if (store instanceof RedisSessionStore) {
    return new RedisIdempotency(store.connection, { prefix: store.prefix });
  }
  return new MemoryIdempotency(options);
}
