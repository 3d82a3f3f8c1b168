/**
 * A read-only set of exactly one member: what the topic router hands out for
 * a topic (or subscriber) it stores as a single value rather than a `Set`.
 * Costs one small object where a `Set` costs a hash table.
 */

/**
 * @example
 * const one = new SingleMemberSet("lobby");
 * one.size; // 1
 * [...one]; // ["lobby"]
 */
export class SingleMemberSet<T> implements ReadonlySet<T> {
  readonly #member: T;

  constructor(member: T) {
    this.#member = member;
  }

  get size(): number {
    return 1;
  }

  has(value: T): boolean {
    // SameValueZero, as Set.has: NaN finds NaN.
    return value === this.#member || (Number.isNaN(value) && Number.isNaN(this.#member));
  }

  forEach(fn: (value: T, key: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    fn.call(thisArg, this.#member, this.#member, this);
  }

  *values(): SetIterator<T> {
    yield this.#member;
  }

  keys(): SetIterator<T> {
    return this.values();
  }

  *entries(): SetIterator<[T, T]> {
    yield [this.#member, this.#member];
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }
}
