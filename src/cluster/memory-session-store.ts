/**
 * The in-memory session store: the default, for one process. Expiry is lazy
 * (a read of an expired record removes it) and swept: at most once per
 * `sweepInterval`, an operation also removes every expired record, so an
 * abandoned record never outlives its ttl by more than that. No timer.
 *
 * Besides the promise API it answers synchronously (`getNow`, `has`), which
 * the protocol layers use to keep the single-node path free of promises.
 */
import {
  type ClaimSessionOptions,
  type CreateSessionOptions,
  checkSessionArgs,
  type DeleteSessionOptions,
  type SessionRecord,
  type SessionStore,
  type SessionValue,
} from "./session-store.js";

export interface MemorySessionStoreOptions {
  /** Least time between two sweeps of expired records, ms. Default 1000. */
  sweepInterval?: number;
  /** The clock (tests inject one). Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  owner: string;
  /** Made on the first field set: most records (Engine.IO sids) never have one. */
  data: Record<string, SessionValue> | null;
  expiresAt: number;
}

/**
 * @example
 * const store = new MemorySessionStore();
 * await store.create("abc", { owner: "node-1", ttl: 30000 });
 * (await store.get("abc"))?.owner; // "node-1"
 */
export class MemorySessionStore implements SessionStore {
  readonly #records = new Map<string, Entry>();
  readonly #sweepInterval: number;
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.#sweepInterval = options.sweepInterval ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Records held, expired ones not yet swept included. */
  get size(): number {
    return this.#records.size;
  }

  /** Whether a live record of `id` exists (synchronous). */
  has(id: string): boolean {
    return this.#live(id, this.#now()) !== undefined;
  }

  /** {@link get}, synchronously. */
  getNow(id: string): SessionRecord | undefined {
    const entry = this.#live(id, this.#now());
    if (entry === undefined) return undefined;
    return {
      id,
      owner: entry.owner,
      data: entry.data === null ? {} : structuredClone(entry.data),
      expiresAt: entry.expiresAt,
    };
  }

  /** {@link owner}, synchronously. */
  ownerNow(id: string): string | undefined {
    return this.#live(id, this.#now())?.owner;
  }

  /** {@link create}, synchronously. */
  createNow(id: string, options: CreateSessionOptions): boolean {
    checkSessionArgs(id, options.ttl);
    const now = this.#now();
    this.#maybeSweep(now);
    if (this.#live(id, now) !== undefined) return false;
    let data: Record<string, SessionValue> | null = null;
    if (options.data) copyInto((data = {}), options.data);
    this.#records.set(id, { owner: options.owner, data, expiresAt: now + options.ttl });
    return true;
  }

  /** {@link touch}, synchronously. */
  touchNow(id: string, ttl: number): boolean {
    checkSessionArgs(id, ttl);
    const now = this.#now();
    const entry = this.#live(id, now);
    if (entry === undefined) return false;
    entry.expiresAt = now + ttl;
    return true;
  }

  /** {@link update}, synchronously. */
  updateNow(id: string, patch: Record<string, SessionValue | undefined>): boolean {
    const entry = this.#live(id, this.#now());
    if (entry === undefined) return false;
    copyInto((entry.data ??= {}), patch);
    return true;
  }

  /** {@link claim}, synchronously. */
  claimNow(id: string, options: ClaimSessionOptions): boolean {
    checkSessionArgs(id, options.ttl);
    const now = this.#now();
    const entry = this.#live(id, now);
    if (entry === undefined || entry.owner !== options.from) return false;
    entry.owner = options.owner;
    entry.expiresAt = now + options.ttl;
    if (options.data) copyInto((entry.data ??= {}), options.data);
    return true;
  }

  /** {@link delete}, synchronously. */
  deleteNow(id: string, options: DeleteSessionOptions = {}): boolean {
    const entry = this.#live(id, this.#now());
    if (entry !== undefined && options.owner !== undefined && entry.owner !== options.owner) {
      return false;
    }
    this.#records.delete(id);
    return entry !== undefined;
  }

  /** Removes every expired record now. */
  sweep(): void {
    const now = this.#now();
    this.#nextSweep = now + this.#sweepInterval;
    for (const [id, entry] of this.#records) if (entry.expiresAt <= now) this.#records.delete(id);
  }

  async create(id: string, options: CreateSessionOptions): Promise<boolean> {
    return this.createNow(id, options);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.getNow(id);
  }

  async owner(id: string): Promise<string | undefined> {
    return this.ownerNow(id);
  }

  async touch(id: string, ttl: number): Promise<boolean> {
    return this.touchNow(id, ttl);
  }

  async update(id: string, patch: Record<string, SessionValue | undefined>): Promise<boolean> {
    return this.updateNow(id, patch);
  }

  async claim(id: string, options: ClaimSessionOptions): Promise<boolean> {
    return this.claimNow(id, options);
  }

  async delete(id: string, options?: DeleteSessionOptions): Promise<boolean> {
    return this.deleteNow(id, options);
  }

  async close(): Promise<void> {
    this.#records.clear();
  }

  #live(id: string, now: number): Entry | undefined {
    const entry = this.#records.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.#records.delete(id);
    return undefined;
  }

  #maybeSweep(now: number): void {
    if (now >= this.#nextSweep) this.sweep();
  }
}

/**
 * Copies JSON-like values in, so later changes to the caller's objects do not
 * reach the record (as with a networked store); `undefined` removes a field.
 */
function copyInto(
  target: Record<string, SessionValue>,
  patch: Record<string, SessionValue | undefined>,
): void {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === undefined) delete target[key];
    else target[key] = typeof value === "object" && value !== null ? structuredClone(value) : value;
  }
}
