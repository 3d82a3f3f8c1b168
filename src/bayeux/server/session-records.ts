/**
 * What a Bayeux session leaves where other nodes can read it: a record in
 * the session store (owner node; data `subscriptions`, the channels and
 * patterns it holds, and `ack`, its acknowledgement-extension batch), and a
 * message-log stream `bayeux/ack/<clientId>` with the deliveries sent and
 * not yet acknowledged.
 *
 * The server's own session map stays the first place a message looks; the
 * store is written through (create at handshake, update on change, delete at
 * the end) and read on a local miss. The in-memory store and log answer
 * synchronously, so the default path makes no promise; a networked store's
 * writes go out without being waited for, except the create of a handshake
 * (which a duplicate id must be able to refuse).
 *
 * A record lives twice the session's own lifetime without a connect
 * (`timeout + interval + sessionGrace`) and is refreshed by `/meta/connect`s
 * at most every third of that lifetime: a live session's record never lapses,
 * and an abandoned one (its node gone) disappears by itself.
 */
import { MemoryMessageLog } from "../../cluster/memory-message-log.js";
import { MemorySessionStore } from "../../cluster/memory-session-store.js";
import { isSyncMessageLog, type MessageLog } from "../../cluster/message-log.js";
import type { CreateSessionOptions, SessionStore } from "../../cluster/session-store.js";
import { createDebug } from "../../shared/debug.js";
import type { Delivery } from "./delivery.js";

const debug = createDebug("bayeux:sessions");

/** What the records need to know of a session. */
export interface RecordedSession {
  readonly id: string;
}

export interface SessionRecordsOptions {
  store?: SessionStore;
  log?: MessageLog;
  nodeId: string;
  /** The session lifetime without a connect, ms. */
  lifetime: number;
}

export class SessionRecords {
  readonly store: SessionStore;
  readonly log: MessageLog;
  readonly nodeId: string;
  /** The record's ttl: twice the session lifetime. */
  readonly ttl: number;
  /** Least time between two refreshes of a record: a third of the session lifetime. */
  readonly refreshAfter: number;
  readonly #memoryStore: MemorySessionStore | null;
  /**
   * The address peers forward this node's sessions' requests to (option
   * `forward`), recorded with each clientId (data field `at`).
   */
  advertise: string | undefined;

  constructor(options: SessionRecordsOptions) {
    this.store = options.store ?? new MemorySessionStore();
    this.#memoryStore = this.store instanceof MemorySessionStore ? this.store : null;
    // Unacknowledged deliveries live as long as their session, which drops its stream.
    this.log = options.log ?? new MemoryMessageLog({ maxAge: 3_600_000, streamTtl: 3_600_000 });
    this.nodeId = options.nodeId;
    this.ttl = 2 * options.lifetime;
    this.refreshAfter = options.lifetime / 3;
  }

  /** Records a new clientId; false (or a promise of it) when the store already has it. */
  create(id: string): boolean | Promise<boolean> {
    const options: CreateSessionOptions = { owner: this.nodeId, ttl: this.ttl };
    if (this.advertise !== undefined) options.data = { at: this.advertise };
    const memory = this.#memoryStore;
    if (memory !== null) return memory.createNow(id, options);
    return this.store.create(id, options).catch((err: unknown) => {
      debug("cannot record session %s: %s", id, err);
      return false;
    });
  }

  /**
   * A message named a clientId this node does not hold: says in the debug
   * log which node owns it, if any (the client is told `402` all the same
   * until requests are forwarded).
   */
  lookup(id: string): void {
    const report = (owner: string | undefined): void => {
      if (owner !== undefined && owner !== this.nodeId) {
        debug("session %s is owned by node %s, not this one (%s)", id, owner, this.nodeId);
      }
    };
    const memory = this.#memoryStore;
    if (memory !== null) report(memory.ownerNow(id));
    else this.store.owner(id).then(report, (err) => debug("cannot look %s up: %s", id, err));
  }

  /** Restarts the record's clock (a `/meta/connect` came). */
  touch(id: string): void {
    const memory = this.#memoryStore;
    if (memory !== null) memory.touchNow(id, this.ttl);
    else this.store.touch(id, this.ttl).catch((err) => debug("cannot touch %s: %s", id, err));
  }

  /** Writes data fields of the record (`subscriptions`, `ack`). */
  update(id: string, patch: Record<string, unknown>): void {
    const memory = this.#memoryStore;
    if (memory !== null) memory.updateNow(id, patch);
    else this.store.update(id, patch).catch((err) => debug("cannot update %s: %s", id, err));
  }

  /** Keeps deliveries sent in an acknowledgement batch until the client acks it. */
  sent(id: string, deliveries: readonly Delivery[]): void {
    const log = this.log;
    const stream = ackStream(id);
    if (isSyncMessageLog(log)) {
      for (const delivery of deliveries) log.appendNow(stream, delivery.frame);
      return;
    }
    for (const delivery of deliveries) {
      log.append(stream, delivery.frame).catch((err) => debug("cannot log for %s: %s", id, err));
    }
  }

  /** The client acknowledged every batch: what was kept for it goes. */
  acknowledged(id: string): void {
    this.#drop(id);
  }

  /** The session ended: its record and its stream go. */
  end(id: string, hadAcks: boolean): void {
    const memory = this.#memoryStore;
    if (memory !== null) memory.deleteNow(id);
    else this.store.delete(id).catch((err) => debug("cannot delete %s: %s", id, err));
    if (hadAcks) this.#drop(id);
  }

  #drop(id: string): void {
    const log = this.log;
    if (isSyncMessageLog(log)) log.dropNow(ackStream(id));
    else log.drop(ackStream(id)).catch((err) => debug("cannot drop for %s: %s", id, err));
  }
}

/** The message-log stream of a session's unacknowledged deliveries. */
export function ackStream(clientId: string): string {
  return `bayeux/ack/${clientId}`;
}
