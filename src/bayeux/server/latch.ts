/**
 * A value to come, told to its listeners in the tick it is settled. A held
 * `/meta/connect` is one: the long-polling transport answers its release
 * with no promise and no microtask per poll. Callers that would rather
 * await get a promise of it, made on first request.
 */

/** Told once, when a {@link Latch} settles. Listeners must not throw. */
export interface LatchListener<T> {
  resolved(value: T): void;
  rejected(err: unknown): void;
}

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

export class Latch<T> {
  #state = PENDING;
  #value: T | undefined = undefined;
  #error: unknown = undefined;
  /** One listener (the usual case) or several. */
  #listeners: LatchListener<T> | LatchListener<T>[] | null = null;
  #promise: Promise<T> | null = null;

  /** Whether the value (or an error) has come. */
  get settled(): boolean {
    return this.#state !== PENDING;
  }

  /** Tells `listener` the outcome: now when settled, else when it settles. */
  listen(listener: LatchListener<T>): void {
    if (this.#state === RESOLVED) listener.resolved(this.#value as T);
    else if (this.#state === REJECTED) listener.rejected(this.#error);
    else {
      const current = this.#listeners;
      if (current === null) this.#listeners = listener;
      else if (Array.isArray(current)) current.push(listener);
      else this.#listeners = [current, listener];
    }
  }

  /** Settles with `value`; later calls do nothing. */
  resolve(value: T): void {
    if (this.#state !== PENDING) return;
    this.#state = RESOLVED;
    this.#value = value;
    const listeners = this.#take();
    if (listeners === null) return;
    if (!Array.isArray(listeners)) listeners.resolved(value);
    else for (const listener of listeners) listener.resolved(value);
  }

  /** Settles with an error; later calls do nothing. */
  reject(err: unknown): void {
    if (this.#state !== PENDING) return;
    this.#state = REJECTED;
    this.#error = err;
    const listeners = this.#take();
    if (listeners === null) return;
    if (!Array.isArray(listeners)) listeners.rejected(err);
    else for (const listener of listeners) listener.rejected(err);
  }

  /** The outcome as a promise (one per latch). */
  promise(): Promise<T> {
    this.#promise ??= new Promise<T>((resolve, reject) => {
      this.listen({ resolved: resolve, rejected: reject });
    });
    return this.#promise;
  }

  #take(): LatchListener<T> | LatchListener<T>[] | null {
    const listeners = this.#listeners;
    this.#listeners = null;
    return listeners;
  }
}
