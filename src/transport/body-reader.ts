/**
 * Collects an HTTP request body chunk by chunk while enforcing a byte limit,
 * so an oversized long-polling POST is refused as soon as it crosses the limit
 * instead of after being buffered whole. Chunk boundaries are arbitrary (a
 * UTF-8 character may be split across chunks): the bytes are only decoded once
 * the body is complete.
 *
 * @example
 * const reader = new BodyReader(1e6);
 * if (!reader.push(chunk)) respond413();
 * const text = reader.text();
 */
export class BodyReader {
  readonly limit: number;
  #chunks: Buffer[] | null = null;
  #first: Buffer | null = null;
  #length = 0;
  #exceeded = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes received so far. */
  get length(): number {
    return this.#length;
  }

  /** Whether the limit was crossed (everything after is ignored). */
  get exceeded(): boolean {
    return this.#exceeded;
  }

  /** Adds a chunk; returns false once the body is larger than the limit. */
  push(chunk: Buffer): boolean {
    if (this.#exceeded) return false;
    this.#length += chunk.length;
    if (this.#length > this.limit) {
      this.#exceeded = true;
      this.#chunks = this.#first = null;
      return false;
    }
    // Most bodies arrive in one chunk: avoid the array and the concat.
    if (this.#first === null && this.#chunks === null) this.#first = chunk;
    else {
      if (this.#chunks === null) {
        this.#chunks = [this.#first!];
        this.#first = null;
      }
      this.#chunks.push(chunk);
    }
    return true;
  }

  /** The complete body as bytes. */
  bytes(): Buffer {
    if (this.#first !== null) return this.#first;
    if (this.#chunks === null) return Buffer.alloc(0);
    return Buffer.concat(this.#chunks, this.#length);
  }

  /** The complete body decoded as UTF-8. */
  text(): string {
    return this.bytes().toString("utf8");
  }
}
