/**
 * A map whose entries expire, bounded in size, forgetting the oldest first:
 * the in-memory idempotency records (publish claims, append-once keys).
 *
 * The entries are kept in insertion order in a queue of their own, so the
 * expired ones (and, past the bound, the oldest) go from its head at a
 * constant cost per call. A `Map` iterated from its start to find its oldest
 * entry walks every entry deleted before it, a cost that grows with the
 * traffic until the map compacts itself.
 */
interface Entry<V> {
  value: V;
  expires: number;
}

export class ExpiringMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  /** Keys in insertion order with the entry each was inserted as; those before `#head` are gone. */
  #keys: string[] = [];
  #inserted: Entry<V>[] = [];
  #head = 0;

  /** Entries held, expired ones not yet passed included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value of `key` while its entry has not expired at `now`. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expires > now ? entry.value : undefined;
  }

  /** Sets `key` (as the newest entry) until `expires`; then keeps at most `max` entries. */
  set(key: string, value: V, expires: number, max: number): void {
    const entry = { value, expires };
    this.#entries.set(key, entry);
    this.#keys.push(key);
    this.#inserted.push(entry);
    while (this.#entries.size > max) this.#drop();
    if (this.#head > 1024 && this.#head * 2 > this.#keys.length) {
      this.#keys = this.#keys.slice(this.#head);
      this.#inserted = this.#inserted.slice(this.#head);
      this.#head = 0;
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /**
   * Forgets the entries expired at `now` from the oldest on, up to the first
   * that is not (with mixed lifetimes a later one may have expired already:
   * {@link ExpiringMap.get} still treats it as gone).
   */
  expire(now: number): void {
    while (this.#head < this.#keys.length && this.#inserted[this.#head].expires <= now) {
      this.#drop();
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#keys = [];
    this.#inserted = [];
    this.#head = 0;
  }

  /** Forgets the queue's head, unless its key was deleted or set again since. */
  #drop(): void {
    const key = this.#keys[this.#head];
    if (this.#entries.get(key) === this.#inserted[this.#head]) this.#entries.delete(key);
    this.#head++;
  }
}
