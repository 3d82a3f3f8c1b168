/**
 * JSON parsing that cannot be used for prototype pollution.
 *
 * `JSON.parse` itself only creates an own property named `__proto__`, but any
 * later `Object.assign`, merge or spread-into-setter of that value would then
 * replace a prototype. Such keys are dropped at parse time. The reviver costs,
 * so it only runs when the text could spell the key: literally, or through a
 * `\u` escape (`"\u005f_proto__"` decodes to the same key).
 */

function reviver(key: string, value: unknown): unknown {
  return key === "__proto__" ? undefined : value;
}

/**
 * Parses JSON text, dropping every `__proto__` key at any depth.
 *
 * @example
 * safeJsonParse('{"__proto__":{"polluted":1},"a":1}'); // { a: 1 }
 */
export function safeJsonParse(text: string): unknown {
  if (needsReviver(text)) return JSON.parse(text, reviver);
  return JSON.parse(text);
}

/**
 * Whether {@link safeJsonParse} parses `text` with its reviver. A reviver
 * walks the value recursively, so a decoder checks the depth of such text
 * before parsing it rather than after.
 */
export function needsReviver(text: string): boolean {
  return text.includes("__proto__") || text.includes("\\u");
}

/**
 * Copies the own enumerable string keys of an untrusted record into a fresh
 * plain object, skipping `__proto__` (used for handshake query and auth).
 */
export function sanitizeRecord(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (key === "__proto__") continue;
    out[key] = input[key];
  }
  return out;
}
