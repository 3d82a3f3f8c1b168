/**
 * The engine's link to the session store: a sid is claimed in the store at
 * handshake (owner = this node), released at close, and looked up when a
 * request names a sid this node does not hold. The engine's own table
 * (`server.clients`) stays the first place a request looks, so a local
 * session costs no store call after its handshake.
 *
 * Records live `ttl` ms and are refreshed, all together, every `ttl / 3` by
 * one unref'd timer running while this node has sessions: a node that dies
 * leaves nothing behind for longer than `ttl`. The in-memory store answers
 * synchronously, so the default single-node path makes no promise.
 */
import { MemorySessionStore } from "../cluster/memory-session-store.js";
import type { CreateSessionOptions, SessionStore } from "../cluster/session-store.js";
import { createDebug } from "../shared/debug.js";

const debug = createDebug("engine:sessions");

export class SessionRegistry {
  readonly store: SessionStore;
  readonly nodeId: string;
  readonly ttl: number;
  readonly #local: () => Iterable<string>;
  /**
   * The address peers forward this node's sessions' requests to, recorded
   * with each sid claimed (data field `at`); undefined: not recorded.
   */
  advertise: string | undefined;
  #timer: NodeJS.Timeout | null = null;

  /** `local` lists the sids this node holds (refreshed by the timer). */
  constructor(store: SessionStore, nodeId: string, ttl: number, local: () => Iterable<string>) {
    this.store = store;
    this.nodeId = nodeId;
    this.ttl = ttl;
    this.#local = local;
  }

  /** Records `sid` as this node's; `done(false)` when the store already holds it. */
  claim(sid: string, done: (claimed: boolean) => void): void {
    const store = this.store;
    const options = this.#createOptions();
    if (store instanceof MemorySessionStore) {
      done(store.createNow(sid, options));
      return;
    }
    store.create(sid, options).then(done, (err: unknown) => {
      debug("cannot record session %s: %s", sid, err);
      done(false);
    });
  }

  /** Forgets `sid` (its session closed or its handshake failed). */
  release(sid: string): void {
    const store = this.store;
    if (store instanceof MemorySessionStore) store.deleteNow(sid);
    else store.delete(sid).catch((err: unknown) => debug("cannot delete session %s: %s", sid, err));
  }

  /**
   * A request named `sid`, unknown here: says in the debug log which node
   * owns it, if any, then calls `done` (forwarding to the owner is not done).
   */
  lookup(sid: string, done: () => void): void {
    const report = (owner: string | undefined): void => {
      if (owner !== undefined && owner !== this.nodeId) {
        debug("session %s is owned by node %s, not this one (%s)", sid, owner, this.nodeId);
      }
      done();
    };
    const store = this.store;
    if (store instanceof MemorySessionStore) {
      report(store.ownerNow(sid));
      return;
    }
    store.owner(sid).then(report, (err: unknown) => {
      debug("cannot look session %s up: %s", sid, err);
      done();
    });
  }

  #createOptions(): CreateSessionOptions {
    const options: CreateSessionOptions = { owner: this.nodeId, ttl: this.ttl };
    if (this.advertise !== undefined) options.data = { at: this.advertise };
    return options;
  }

  /** Starts (or stops, when `active` is false) the refresh timer. */
  refresh(active: boolean): void {
    if (active && this.#timer === null) {
      this.#timer = setInterval(() => this.#touchAll(), Math.max(1, Math.floor(this.ttl / 3)));
      this.#timer.unref();
    } else if (!active && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #touchAll(): void {
    const store = this.store;
    for (const sid of this.#local()) {
      if (store instanceof MemorySessionStore) {
        // A record lost meanwhile (swept while the clock jumped) is written again.
        if (!store.touchNow(sid, this.ttl)) store.createNow(sid, this.#createOptions());
        continue;
      }
      store
        .touch(sid, this.ttl)
        .then((alive) => {
          if (!alive) return store.create(sid, this.#createOptions());
        })
        .catch((err: unknown) => debug("cannot refresh session %s: %s", sid, err));
    }
  }
}
