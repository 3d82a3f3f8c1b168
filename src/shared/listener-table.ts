/**
 * A smaller listener table for Node's EventEmitter.
 *
 * An EventEmitter keeps its listeners in `_events`, which Node creates as
 * `{ __proto__: null }`: V8 gives such an object a hash table ("dictionary
 * mode"), about 180 bytes before the first listener. An object whose
 * prototype is an empty null-prototype object has the same semantics (no
 * inherited keys such as `toString` or `constructor`) but keeps fast,
 * in-object properties: about 50 bytes for a few event names. Per connection
 * that is the difference for each emitter it owns (engine socket, Socket.IO
 * socket, the `ws` WebSocket).
 *
 * Only `_events` is swapped, with the listeners it already holds; Node reads
 * and writes it as a plain object (`events[type]`, `delete events[type]`,
 * `Reflect.ownKeys(events)`), and replaces it by its own kind again when the
 * last listener goes.
 */
import type { EventEmitter } from "node:events";

const NO_INHERITED_KEYS: object = Object.create(null);

interface EmitterInternals {
  _events?: Record<string | symbol, unknown>;
}

/**
 * Gives `emitter` a compact listener table, keeping its listeners.
 *
 * @example
 * class Session extends EventEmitter {
 *   constructor() {
 *     super();
 *     useCompactListenerTable(this);
 *   }
 * }
 */
export function useCompactListenerTable(emitter: EventEmitter): void {
  const internals = emitter as unknown as EmitterInternals;
  const current = internals._events;
  // Not an object we know how to copy: leave Node's own table alone.
  if (current === undefined || current === null || typeof current !== "object") return;
  if (Object.getPrototypeOf(current) === NO_INHERITED_KEYS) return;
  const table = Object.create(NO_INHERITED_KEYS) as Record<string | symbol, unknown>;
  for (const key of Reflect.ownKeys(current)) table[key] = current[key];
  internals._events = table;
}

/**
 * Whether `emitter` has a listener for `type`, read straight from its table:
 * no call into `emit` (whose rest parameter allocates an array per call) on a
 * per-message path where usually nobody listens.
 */
export function hasListeners(emitter: EventEmitter, type: string | symbol): boolean {
  const events = (emitter as unknown as EmitterInternals)._events;
  return events !== undefined && events[type] !== undefined;
}
