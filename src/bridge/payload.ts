/**
 * The payload mapping of the bridge, pure:
 *
 * - Socket.IO → Bayeux: one event argument is the Bayeux `data`; none or
 *   several become an array of them.
 * - Bayeux → Socket.IO: `data` is the event's one argument (an array stays
 *   one array argument).
 * - Binary cannot cross: Bayeux messages are JSON. A broadcast whose
 *   arguments hold a Buffer, an ArrayBuffer or a typed array anywhere is
 *   refused (see {@link findBinary}), not converted.
 */

/** Deepest nesting searched for binary; deeper values are refused as if binary. */
export const MAX_SCAN_DEPTH = 32;

/** Bayeux `data` for a broadcast's arguments. */
export function dataFromArgs(args: readonly unknown[]): unknown {
  return args.length === 1 ? args[0] : [...args];
}

/** Socket.IO arguments for Bayeux `data`. */
export function argsFromData(data: unknown): unknown[] {
  return [data];
}

/**
 * Where the first binary value lies in `value` (a path such as `[1].file`),
 * or null when there is none. Nesting past {@link MAX_SCAN_DEPTH} counts as
 * binary, so a refusal never depends on how deep a buffer hides.
 *
 * @example
 * findBinary(["hi", { file: Buffer.from("x") }]); // "[1].file"
 */
export function findBinary(value: unknown, path = "", depth = 0): string | null {
  if (value === null || typeof value !== "object") return null;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return path || "(value)";
  if (typeof Blob !== "undefined" && value instanceof Blob) return path || "(value)";
  if (depth >= MAX_SCAN_DEPTH) return `${path} (nested past ${MAX_SCAN_DEPTH})`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBinary(value[i], `${path}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const found = findBinary((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (found !== null) return found;
  }
  return null;
}
