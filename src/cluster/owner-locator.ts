/**
 * Where a request for a session this node does not hold goes: the session
 * store names the owner node and the address it advertised when it recorded
 * the session (`data.at`). Used alike by Engine.IO (a `sid`) and Bayeux (a
 * `clientId`); each parsed address is kept, and so is each session's owner
 * for a few seconds: a polling client whose requests keep landing on the
 * wrong node costs a store read every `ttl` ms, not one per request (a
 * session's owner only changes when its node died, and a forward to a dead
 * node fails anyway, which `forget` hears of).
 */
import { createDebug } from "../shared/debug.js";
import { type ForwardTarget, parseAdvertise } from "./forward.js";
import { MemorySessionStore } from "./memory-session-store.js";
import type { SessionRecord, SessionStore } from "./session-store.js";

const debug = createDebug("cluster:forward");

/** What the locator reads, at each lookup, from the protocol's session registry. */
export interface LocatorSessions {
  readonly store: SessionStore;
  readonly nodeId: string;
  /** This node's own advertised address (a record naming it is not forwarded). */
  readonly advertise: string | undefined;
}

/**
 * @example
 * const owners = new OwnerLocator(sessions);
 * owners.locate(sid, (target) => (target ? forwarder.forward(req, res, target) : refuse()));
 */
/** Milliseconds a session's owner is remembered. */
const OWNER_TTL = 5000;
/** Sessions whose owner is remembered at once. */
const OWNER_CACHE = 10_000;

interface KnownOwner {
  target: ForwardTarget;
  until: number;
}

export class OwnerLocator {
  readonly #sessions: LocatorSessions;
  readonly #targets = new Map<string, ForwardTarget | null>();
  /** Session id → its owner's target, oldest first. */
  readonly #owners = new Map<string, KnownOwner>();

  readonly #remembers: boolean;

  /**
   * `remember: false` reads the store at every look-up: for sessions that
   * another node may take over while their owner is unreachable (Bayeux
   * adoption judges the owner the store names, so it must be the current one).
   */
  constructor(sessions: LocatorSessions, options: { remember?: boolean } = {}) {
    this.#sessions = sessions;
    this.#remembers = options.remember ?? true;
  }

  /** Forgets the owner remembered for `id` (a forward to it failed). */
  forget(id: string): void {
    this.#owners.delete(id);
  }

  /**
   * Calls `done` with the owner's target when another node owns `id` and
   * advertised a usable address; with null otherwise (no record, this node's,
   * no or a bad address, store error). Synchronous on a memory store.
   */
  locate(id: string, done: (target: ForwardTarget | null) => void): void {
    const known = this.#owners.get(id);
    if (known !== undefined) {
      if (known.until > Date.now()) {
        done(known.target);
        return;
      }
      this.#owners.delete(id);
    }
    const { store, nodeId } = this.#sessions;
    const found = (record: SessionRecord | undefined): void => {
      if (record === undefined || record.owner === nodeId) {
        done(null);
        return;
      }
      const at = record.data.at;
      debug(
        "session %s is owned by node %s at %s, not this one (%s)",
        id,
        record.owner,
        at,
        nodeId,
      );
      const target =
        typeof at === "string" && at !== this.#sessions.advertise ? this.#target(at) : null;
      if (target !== null && this.#remembers) this.#remember(id, target);
      done(target);
    };
    if (store instanceof MemorySessionStore) {
      found(store.getNow(id));
      return;
    }
    store.get(id).then(found, (err: unknown) => {
      debug("cannot look session %s up: %s", id, err);
      done(null);
    });
  }

  #remember(id: string, target: ForwardTarget): void {
    const owners = this.#owners;
    if (owners.size >= OWNER_CACHE) {
      const oldest = owners.keys().next().value as string;
      owners.delete(oldest);
    }
    owners.set(id, { target, until: Date.now() + OWNER_TTL });
  }

  #target(address: string): ForwardTarget | null {
    let target = this.#targets.get(address);
    if (target === undefined) {
      try {
        target = parseAdvertise(address);
      } catch (err) {
        debug("cannot forward to %s: %s", address, err);
        target = null;
      }
      this.#targets.set(address, target);
    }
    return target;
  }
}
