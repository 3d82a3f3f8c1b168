/**
 * PocketIO's `socket.set(key, value)` / `socket.get(key)`: keyed storage in
 * `socket.data`, answered both as a promise and through a node-style
 * callback, as PocketIO applications expect.
 */

/** Anything with a `data` record (a socket). */
interface DataHolder {
  data: unknown;
}

/** Keys that would reach the prototype chain instead of the record. */
function isUnsafeKey(key: string): boolean {
  return key === "__proto__" || key === "constructor" || key === "prototype";
}

/**
 * Stores `value` under `key` in `holder.data`, making `data` an object first
 * when it is not one. With `cb`, the returned promise never rejects (the
 * error goes to `cb`).
 *
 * @example
 * await setDataKey(socket, "nick", "ada");
 */
export function setDataKey(
  holder: DataHolder,
  key: string,
  value: unknown,
  cb?: (err: Error | null) => void,
): Promise<void> {
  const result = new Promise<void>((resolve, reject) => {
    if (isUnsafeKey(key)) {
      reject(new TypeError(`invalid key ${key}`));
      return;
    }
    if (holder.data === null || typeof holder.data !== "object") holder.data = {};
    (holder.data as Record<string, unknown>)[key] = value;
    resolve();
  });
  if (cb) result.then(() => cb(null), cb);
  return cb ? result.catch(() => {}) : result;
}

/**
 * Reads `key` from `holder.data` (own keys only).
 *
 * @example
 * const nick = await getDataKey(socket, "nick");
 */
export function getDataKey(
  holder: DataHolder,
  key: string,
  cb?: (err: Error | null, value?: unknown) => void,
): Promise<unknown> {
  const result = new Promise<unknown>((resolve) => {
    const data = holder.data as Record<string, unknown> | null;
    resolve(data && typeof data === "object" && Object.hasOwn(data, key) ? data[key] : undefined);
  });
  if (cb) result.then((value) => cb(null, value), cb);
  return result;
}
