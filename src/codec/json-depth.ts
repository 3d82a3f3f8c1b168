/**
 * Nesting-depth limits for untrusted JSON, shared by the Socket.IO and Bayeux
 * codecs (and the Bayeux client).
 *
 * `JSON.parse` builds any depth without recursion, but nearly everything done
 * with the value afterwards recurses: `JSON.stringify` (an ack that echoes a
 * payload), a reviver, a deep copy, a placeholder walk. A 100,000-deep array
 * of 200 KB then overflows the stack far from the decoder. Refusing such text
 * at decode keeps every value that gets past a decoder shallow enough for
 * any recursive walk.
 *
 * Depth counts nested arrays and objects: `1`, `"a"` are 0 deep, `[]` and
 * `{"a":1}` are 1 deep, `[{"a":[1]}]` is 3 deep.
 */

/** Default deepest nesting accepted in a Socket.IO packet payload or a Bayeux message. */
export const DEFAULT_MAX_PAYLOAD_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, reading from
 * `start`, without parsing it: brackets are counted outside strings. Exact
 * for valid JSON; for invalid JSON the answer does not matter, as the parse
 * refuses it anyway. About as costly as `JSON.parse` itself, so decoders use
 * it only before a parse that would recurse (one with a reviver); otherwise
 * {@link valueDepthExceeds} on the parsed value is far cheaper.
 *
 * @example
 * jsonDepthExceeds('["a",{"b":[1]}]', 2); // true (3 deep)
 * jsonDepthExceeds('["[[[["]', 1); // false: brackets inside a string do not count
 */
export function jsonDepthExceeds(text: string, max: number, start = 0): boolean {
  const length = text.length;
  // A text needs at least `max + 1` opening brackets to be too deep.
  if (length - start <= max) return false;
  let depth = 0;
  for (let i = start; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      for (i++; i < length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === QUOTE) break;
        if (inner === BACKSLASH) i++;
      }
    } else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/**
 * Whether a value nests arrays and objects deeper than `max`. Walks at most
 * `max` levels of containers and never calls itself for a primitive, so it
 * costs a few percent of the `JSON.parse` that made the value, and a hostile
 * (or circular) value no more than its part within the limit. `JSON.parse`
 * builds any depth without recursing, so parsing first is safe.
 *
 * @example
 * valueDepthExceeds([[[]]], 2); // true
 * valueDepthExceeds({ a: [1, "x"] }, 2); // false
 */
export function valueDepthExceeds(value: unknown, max: number): boolean {
  if (value === null || typeof value !== "object") return false;
  return containerExceeds(value, max);
}

function containerExceeds(value: object, max: number): boolean {
  if (max <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === "object" && containerExceeds(item, max - 1)) return true;
    }
    return false;
  }
  // Parsed JSON has only own enumerable keys: no hasOwn check needed.
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (item !== null && typeof item === "object" && containerExceeds(item, max - 1)) return true;
  }
  return false;
}
