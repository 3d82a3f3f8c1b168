/**
 * What a Bayeux session leaves where other nodes can read it: a record in
 * the session store (owner node; data `subscriptions`, the channels and
 * patterns it holds, `at`, the owner's forward address, and `ack`, its
 * acknowledgement-extension state), and a message-log stream
 * `bayeux/ack/<clientId>` with the deliveries queued or sent and not yet
 * acknowledged, each numbered.
 *
 * The server's own session map stays the first place a message looks; the
 * store is written through (create at handshake, update on change, delete at
 * the end) and read on a local miss; a node adopting the session of a dead
 * owner claims the record and reads the stream back. The in-memory store and log answer
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
import type { BayeuxMessage } from "../../codec/bayeux/index.js";
import { createDebug } from "../../shared/debug.js";
import { Delivery } from "./delivery.js";
import type { KeptDelivery } from "./session.js";

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

  /**
   * Keeps a delivery to an ack-extension session, numbered `seq`, until the
   * client acknowledges it: kept when queued, not when sent, so that a node
   * adopting the session finds what was waiting as well as what was in flight.
   */
  logged(id: string, seq: number, delivery: Delivery): void {
    const log = this.log;
    const entry = encodeKept(seq, delivery);
    if (isSyncMessageLog(log)) log.appendNow(ackStream(id), entry);
    else log.append(ackStream(id), entry).catch((err) => debug("cannot log for %s: %s", id, err));
  }

  /**
   * Takes over the session of a dead owner `from`: true when this node won
   * the record (compare and set of its owner), which then names this node
   * and its forward address.
   */
  claim(id: string, from: string): Promise<boolean> {
    const data = this.advertise === undefined ? undefined : { at: this.advertise };
    return this.store.claim(id, { from, owner: this.nodeId, ttl: this.ttl, data });
  }

  /** The deliveries kept for `id` (oldest first); entries that do not decode are skipped. */
  async kept(id: string): Promise<KeptDelivery[]> {
    const found = await this.log.readAfter(ackStream(id), null);
    const out: KeptDelivery[] = [];
    for (const entry of found.entries) {
      const kept = decodeKept(entry.payload);
      if (kept === null) debug("ack log entry %s of %s does not decode", entry.offset, id);
      else out.push(kept);
    }
    // In number order, each once (an entry kept again after an acknowledgement may follow a newer one).
    out.sort((a, b) => a.seq - b.seq);
    return out.filter((kept, i) => i === 0 || out[i - 1].seq !== kept.seq);
  }

  /**
   * The client acknowledged every batch: what was kept for it goes, except
   * `queued` (delivered since, not sent yet), kept again in a new stream, so
   * that a busy session's stream does not grow between acknowledgements.
   */
  acknowledged(id: string, queued: readonly KeptDelivery[]): void {
    const log = this.log;
    if (isSyncMessageLog(log)) {
      log.dropNow(ackStream(id));
      for (const { seq, delivery } of queued)
        log.appendNow(ackStream(id), encodeKept(seq, delivery));
      return;
    }
    if (log.replace !== undefined) {
      // One step: a node dying between a drop and the appends after it would
      // lose what was queued.
      const kept = queued.map(({ seq, delivery }) => encodeKept(seq, delivery));
      log.replace(ackStream(id), kept).catch((err) => debug("cannot keep for %s: %s", id, err));
      return;
    }
    const dropped = log.drop(ackStream(id));
    dropped.catch((err) => debug("cannot drop for %s: %s", id, err));
    if (queued.length === 0) return;
    // After the drop (a delivery logged meanwhile may come first: entries are read back by number).
    dropped.then(
      () => {
        for (const { seq, delivery } of queued) this.logged(id, seq, delivery);
      },
      () => {},
    );
  }

  /**
   * The session ended: its record and its stream go, unless another node
   * has adopted the session meanwhile (then both are that node's).
   */
  end(id: string, hadAcks: boolean): void {
    const owned = { owner: this.nodeId };
    const memory = this.#memoryStore;
    if (memory !== null) {
      const other = memory.ownerNow(id);
      memory.deleteNow(id, owned);
      if (hadAcks && (other === undefined || other === this.nodeId)) this.#drop(id);
      return;
    }
    this.store.delete(id, owned).then(
      (deleted) => {
        if (deleted && hadAcks) this.#drop(id);
      },
      (err) => debug("cannot delete %s: %s", id, err),
    );
  }

  #drop(id: string): void {
    const log = this.log;
    if (isSyncMessageLog(log)) log.dropNow(ackStream(id));
    else log.drop(ackStream(id)).catch((err) => debug("cannot drop for %s: %s", id, err));
  }
}

/**
 * A kept delivery as the ack log holds it: `<seq> `, then its channel-log
 * offset and a space when it has one, then the delivery's frame `[<json>]`.
 */
export function encodeKept(seq: number, delivery: Delivery): Buffer {
  const head = delivery.offset === undefined ? `${seq} ` : `${seq} ${delivery.offset} `;
  return Buffer.concat([Buffer.from(head, "latin1"), delivery.frame]);
}

export function decodeKept(payload: Buffer): KeptDelivery | null {
  const space = payload.indexOf(0x20);
  const seq = Number(payload.subarray(0, space).toString("latin1"));
  if (space < 1 || !Number.isSafeInteger(seq)) return null;
  let start = space + 1;
  let offset: string | undefined;
  if (payload[start] !== 0x5b) {
    const end = payload.indexOf(0x20, start);
    if (end <= start) return null;
    offset = payload.subarray(start, end).toString("latin1");
    start = end + 1;
  }
  const frame = payload.subarray(start).toString("utf8");
  if (!frame.startsWith("[") || !frame.endsWith("]")) return null;
  const json = frame.slice(1, -1);
  try {
    const message = JSON.parse(json) as BayeuxMessage;
    if (message === null || typeof message !== "object" || typeof message.channel !== "string") {
      return null;
    }
    const delivery = Delivery.fromJson(message, json);
    delivery.offset = offset;
    return { seq, delivery };
  } catch {
    return null;
  }
}

/** The message-log stream of a session's unacknowledged deliveries. */
export function ackStream(clientId: string): string {
  return `bayeux/ack/${clientId}`;
}
