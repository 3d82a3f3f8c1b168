/**
 * A minimal typed event emitter that runs in Node and browsers alike (the
 * client cannot use `node:events` in its browser bundle). A listener that
 * throws is isolated: the error goes to the `onListenerError` hook instead
 * of breaking the client's own processing.
 */

type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  #listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  /** Registers `listener` for `event`; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.#listeners[event] ?? [];
    list.push(listener);
    this.#listeners[event] = list;
    return () => this.off(event, listener);
  }

  /** Like `on`, for one call only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.#listeners[event];
    if (!list) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
  }

  /** Number of listeners for `event`. */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners[event]?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const list = this.#listeners[event];
    if (!list || list.length === 0) return;
    for (const listener of list.slice()) {
      try {
        listener(...args);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Called when a listener throws; subclasses report it. */
  protected onListenerError(_err: unknown): void {}
}
