/**
 * Promises whose wait must not hold back a session's (or a connection's)
 * later messages, because what orders them is already done: a publish whose
 * channel-log append is issued (appends on one connection are stored in the
 * order they are sent) and whose reply only waits for the store to answer.
 * The processor does not make the session wait for such a batch, and the
 * websocket transport goes on with the next frame, sending the replies in
 * the order of the frames: a client publishing over one connection gets a
 * pipeline, not one publish per store round trip.
 */
const late = new WeakSet<Promise<unknown>>();

/** Marks `promise` as late (see above) and returns it. */
export function markLate<T>(promise: Promise<T>): Promise<T> {
  late.add(promise);
  return promise;
}

/** Whether `value` is a promise marked late. */
export function isLate(value: unknown): boolean {
  return value instanceof Promise && late.has(value);
}
