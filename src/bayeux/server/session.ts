/**
 * A Bayeux client session: what the server knows about one `clientId`
 * between `/meta/handshake` and `/meta/disconnect` or expiry.
 *
 * Deliveries wait in a queue until a `/meta/connect` reply (or, without the
 * ack extension, any reply or an attached websocket) carries them. A held
 * long-poll is released by the first delivery, by its deadline, or when a
 * newer connect supersedes it. Timers are two {@link TimerEntry} slots in the
 * server's one wheel: the session expiry and the hold deadline; no session
 * owns a `setTimeout`.
 */
import type { BayeuxMessage } from "../../codec/bayeux/index.js";
import { TimerEntry, type TimerTarget, type TimerWheel } from "../../shared/timer-wheel.js";
import type { ChannelLog } from "./channel-log.js";
import type { ChannelSubscriber, Delivery } from "./delivery.js";
import { Latch } from "./latch.js";
import type { ResolvedOptions } from "./options.js";
import type { SessionRecords } from "./session-records.js";
import type { BayeuxStats } from "./stats.js";

const EXPIRY = 0;
const HOLD = 1;

/** What a session needs from the server that owns it. */
export interface SessionOwner {
  readonly options: ResolvedOptions;
  readonly stats: BayeuxStats;
  readonly wheel: TimerWheel;
  /** The session store and ack log this session writes through to. */
  readonly records: SessionRecords;
  /** The cluster's channel log, when publishes go through one (option `channelLog`). */
  readonly channelLog: ChannelLog | null;
  /** A held connect has deliveries waiting: release it soon, batched per tick. */
  requestFlush(session: BayeuxSession): void;
  /** The session went `timeout + interval + grace` without a connect. */
  expire(session: BayeuxSession): void;
}

/** A websocket a session may push deliveries through. */
export interface SessionSocket {
  /** Sends a delivery (its shared, pre-encoded bytes); it may wait for the end of the tick. */
  push(delivery: Delivery): void;
  readonly open: boolean;
  /** Told when a session starts pushing through it, so it can detach on close. */
  attached(session: BayeuxSession): void;
  /** Told when an attached session ends, so the socket stops referencing it. */
  ended(session: BayeuxSession): void;
}

/** A released `/meta/connect`: its reply and the deliveries it carries. */
export interface HeldRelease {
  reply: BayeuxMessage;
  deliveries: Delivery[];
}

/**
 * A `/meta/connect` waiting for deliveries or its deadline: its reply, and
 * the release to come (told to listeners in the tick it happens).
 */
export class HeldConnect extends Latch<HeldRelease> {
  readonly reply: BayeuxMessage;

  constructor(reply: BayeuxMessage) {
    super();
    this.reply = reply;
  }
}

export class BayeuxSession implements ChannelSubscriber, TimerTarget {
  /** The unguessable `clientId`. */
  readonly id: string;
  /** Connection type of the last `/meta/connect` (empty before the first). */
  connectionType = "";
  /** Whether the client has sent its first `/meta/connect`. */
  connected = false;
  /** Whether the acknowledgement extension is on for this session. */
  ackEnabled = false;
  /** Application data, for policies and extensions to keep per-client state. */
  data: Record<string, unknown> | null = null;
  /** The websocket currently attached, if any. */
  socket: SessionSocket | null = null;
  /** The `/meta/connect` being held, if any. */
  held: HeldConnect | null = null;
  /** Deliveries dropped because the queue was full. */
  dropped = 0;
  /**
   * The batch of this session still waiting on an asynchronous step (an
   * extension, policy or service), if any: the next batch starts after it,
   * so a client's messages are handled in the order it sent them.
   */
  inFlight: Promise<unknown> | null = null;

  readonly #owner: SessionOwner;
  readonly #expiry: TimerEntry;
  #holdEntry: TimerEntry | null = null;
  #queue: Delivery[] | null = null;
  /**
   * Ack extension: every delivery is numbered and kept in the ack log when
   * it is queued. `#seq` is the last number given, `#sentSeq` the last sent,
   * `#ackedSeq` the last the client acknowledged. A batch is named by the
   * number of its last delivery (`ext.ack` of a connect reply is
   * `#sentSeq`), so the ack a client echoes says which deliveries it holds,
   * on any node: what an adopting node needs, even when the dead owner's
   * last record write was lost.
   */
  #seq = 0;
  #sentSeq = 0;
  #ackedSeq = 0;
  /** What the last batch carried, until the client acknowledges it. */
  #unacked: Delivery[] | null = null;
  /** An adopted session's kept deliveries, until the client's first ack says which it has. */
  #recovered: RecoveredAcks | null = null;
  /**
   * With a channel log and acks: the offset up to which the client has
   * acknowledged every delivery matching its subscriptions (recorded with
   * the ack state), from where a node adopting this session replays.
   */
  #floor: string | undefined = undefined;
  /** With a channel log and acks: the offset of the last delivery sent (in batch `#sentSeq`). */
  #sentLast: string | undefined = undefined;
  #closed = false;
  /** The channels and patterns subscribed to, as recorded in the store (made on first use). */
  #subscriptions: Set<string> | null = null;
  /** A write of the subscriptions to the store is due at the end of the tick. */
  #subscriptionsDirty = false;
  /** When the store record's clock was last restarted. */
  #recordTouchedAt: number;

  constructor(owner: SessionOwner, id: string) {
    this.#owner = owner;
    this.id = id;
    this.#expiry = new TimerEntry(this, EXPIRY);
    this.#recordTouchedAt = Date.now();
    this.touch();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Deliveries waiting to be sent. */
  get queued(): number {
    return this.#queue?.length ?? 0;
  }

  /**
   * Restarts the expiry clock (on handshake and on every `/meta/connect`),
   * and the store record's every third of its lifetime.
   */
  touch(): void {
    if (this.#closed) return;
    const owner = this.#owner;
    const o = owner.options;
    owner.wheel.schedule(this.#expiry, o.timeout + o.interval + o.sessionGrace);
    const now = Date.now();
    if (now - this.#recordTouchedAt >= owner.records.refreshAfter) {
      this.#recordTouchedAt = now;
      owner.records.touch(this.id);
      // An idle session's floor follows the log too, so an adoption reads little of it.
      if (this.ackEnabled && this.#advanceFloor()) this.#writeAck();
    }
  }

  /** The channels and patterns this session holds (as its store record says). */
  get subscriptions(): ReadonlySet<string> {
    return this.#subscriptions ?? NO_CHANNELS;
  }

  /**
   * The session subscribed to `channel` (or stopped): the store record
   * follows, once per tick however many channels a batch changed.
   */
  subscriptionChanged(channel: string, subscribed: boolean): void {
    if (this.#closed) return;
    const set = (this.#subscriptions ??= new Set());
    if (subscribed) set.add(channel);
    else set.delete(channel);
    if (this.#subscriptionsDirty) return;
    this.#subscriptionsDirty = true;
    queueMicrotask(() => {
      this.#subscriptionsDirty = false;
      if (this.#closed) return;
      const patch: Record<string, unknown> = { subscriptions: [...set] };
      // A new subscription moves the floor when nothing is pending (written in the same record).
      if (this.ackEnabled && this.#advanceFloor()) patch.ack = this.#ackState();
      this.#owner.records.update(this.id, patch);
    });
  }

  deliver(delivery: Delivery): void {
    if (this.#closed) return;
    // With acks, messages travel only in /meta/connect replies, so that a
    // batch number covers them (as CometD's ack extension requires).
    const socket = this.socket;
    if (!this.ackEnabled) {
      if (socket?.open) {
        socket.push(delivery);
        return;
      }
    } else this.#owner.records.logged(this.id, ++this.#seq, delivery);
    const queue = (this.#queue ??= []);
    queue.push(delivery);
    if (queue.length > this.#owner.options.maxQueuedMessages) {
      queue.shift();
      this.dropped++;
      const stats = this.#owner.stats;
      stats.queueDrops++;
      stats.slow.add(this.id);
    }
    if (this.held !== null) this.#owner.requestFlush(this);
  }

  /** Whether a connect should be answered at once because something is waiting. */
  get hasPending(): boolean {
    return (
      (this.#queue !== null && this.#queue.length > 0) ||
      this.#unacked !== null ||
      this.#recovered !== null
    );
  }

  /** Turns the acknowledgement extension on (at handshake); the record says so. */
  enableAcks(): void {
    this.ackEnabled = true;
    this.#advanceFloor();
    this.#writeAck();
  }

  /**
   * Deliveries for a reply that is not a `/meta/connect` (piggybacking, as
   * CometD does); none while acks are on.
   */
  takeForReply(): Delivery[] {
    if (this.ackEnabled || this.#queue === null) return EMPTY;
    const out = this.#queue;
    this.#queue = null;
    return out;
  }

  /**
   * Ack extension: the client holds every delivery up to number `batch`,
   * so what was sent in the last batch need not be kept.
   */
  acknowledge(batch: unknown): void {
    if (this.#recovered !== null) this.#resume(batch);
    if (typeof batch !== "number" || batch < this.#sentSeq || this.#unacked === null) return;
    const acked = this.#unacked;
    this.#unacked = null;
    this.#ackedSeq = this.#sentSeq;
    this.#raiseFloor(acked);
    this.#advanceFloor();
    // The record first: with one Redis connection for both, the floor is
    // stored before the kept deliveries it covers are dropped.
    this.#writeAck();
    // The stream keeps only what the client still needs: the deliveries
    // queued since the batch went out (numbered up to #seq) are kept again.
    this.#owner.records.acknowledged(this.id, this.#stillQueued());
  }

  /** Deliveries for a `/meta/connect` reply; with acks, stamps `ext.ack` on it. */
  takeForConnect(reply: BayeuxMessage): Delivery[] {
    if (!this.ackEnabled) return this.takeForReply();
    // Unacknowledged deliveries go out again, ahead of new ones: the client
    // sees each message once it acks the batch. What is sent stays in the
    // ack log (and here, encoded) until acknowledged.
    if (this.#recovered !== null) this.#resume(undefined);
    let out = this.#unacked ?? EMPTY;
    const fresh = this.#queue;
    if (fresh !== null) {
      out = out.length === 0 ? fresh : out.concat(fresh);
      this.#queue = null;
      this.#sentSeq = this.#seq;
      this.#sentLast = lastOffset(fresh) ?? this.#sentLast;
    }
    if (out.length > 0) {
      this.#unacked = out;
      this.#writeAck();
    }
    reply.ext = { ...reply.ext, ack: this.#sentSeq };
    return out;
  }

  /**
   * An adopted session (its owner node died): takes up the ack state its
   * record and ack log kept. Which kept deliveries the client lacks is known
   * at its first acknowledgement (see {@link acknowledge}); until then they
   * wait, ahead of anything delivered here.
   */
  adoptAcks(state: AckState, kept: readonly KeptDelivery[]): void {
    this.ackEnabled = true;
    this.#floor = state.floor;
    this.#sentLast = state.last;
    let seq = state.sent;
    for (const entry of kept) if (entry.seq > seq) seq = entry.seq;
    this.#seq = seq;
    this.#sentSeq = this.#ackedSeq = state.acked;
    this.#recovered = { ...state, kept };
  }

  /**
   * The client's first ack after an adoption names the last delivery it
   * holds: every kept one after it goes out (again), in order, ahead of new
   * ones. Without an ack, what the record says was acknowledged counts.
   */
  #resume(batch: unknown): void {
    const recovered = this.#recovered;
    if (recovered === null) return;
    this.#recovered = null;
    const has =
      typeof batch === "number" && Number.isSafeInteger(batch) && batch > recovered.acked
        ? Math.min(batch, this.#seq)
        : recovered.acked;
    const again: Delivery[] = [];
    for (const entry of recovered.kept) if (entry.seq > has) again.push(entry.delivery);
    this.#ackedSeq = this.#sentSeq = has;
    const held: Delivery[] = [];
    for (const entry of recovered.kept) if (entry.seq <= has) held.push(entry.delivery);
    this.#raiseFloor(held);
    // The client holds the dead owner's last batch: what the channel log replayed up to
    // its last delivery is not sent again (its kept copies may have been lost with the owner).
    if (has >= recovered.sent && recovered.last !== undefined) this.#dropHeld(recovered.last);
    if (again.length > 0) {
      const queued = this.#queue;
      this.#queue = queued === null ? again : again.concat(queued);
      this.#writeAck();
    } else {
      this.#advanceFloor();
      this.#writeAck();
      if (has === this.#seq) this.#owner.records.acknowledged(this.id, []);
    }
  }

  /** Drops queued deliveries from the channel log at or before `last`; the floor moves there. */
  #dropHeld(last: string): void {
    const compare = this.#owner.channelLog?.log.compare.bind(this.#owner.channelLog.log);
    if (compare === undefined) return;
    const queue = this.#queue;
    if (queue !== null) {
      const rest = queue.filter(
        (d) => d.offset === undefined || (compare(d.offset, last) ?? 1) > 0,
      );
      this.#queue = rest.length > 0 ? rest : null;
    }
    const floor = this.#floor;
    if (floor === undefined || (compare(last, floor) ?? 1) > 0) this.#floor = last;
  }

  /** The floor moves up to the last channel-log delivery of `acked` (now acknowledged). */
  #raiseFloor(acked: readonly Delivery[]): void {
    const log = this.#owner.channelLog;
    const offset = log === null ? undefined : lastOffset(acked);
    if (offset === undefined) return;
    const floor = this.#floor;
    if (floor === undefined || (log?.log.compare(offset, floor) ?? 1) > 0) this.#floor = offset;
  }

  /**
   * Nothing waits for the client (queued, sent and unacknowledged, or
   * recovered): it holds every delivery up to this node's channel-log
   * position, which becomes the floor. Returns whether the floor moved.
   */
  #advanceFloor(): boolean {
    const log = this.#owner.channelLog;
    if (log === null || this.hasPending) return false;
    const position = log.position;
    if (position === undefined || position === this.#floor) return false;
    this.#floor = position;
    return true;
  }

  /** The queued deliveries with their numbers: the last ones given (older ones may have overflowed). */
  #stillQueued(): KeptDelivery[] {
    const queue = this.#queue;
    if (queue === null || queue.length === 0) return [];
    const first = this.#seq - queue.length + 1;
    return queue.map((delivery, i) => ({ seq: first + i, delivery }));
  }

  /** The record's ack state: the numbers last sent and acknowledged. */
  #writeAck(): void {
    this.#owner.records.update(this.id, { ack: this.#ackState() });
  }

  #ackState(): AckState {
    const ack: AckState = { sent: this.#sentSeq, acked: this.#ackedSeq };
    if (this.#floor !== undefined) ack.floor = this.#floor;
    if (this.#sentLast !== undefined) ack.last = this.#sentLast;
    return ack;
  }

  /**
   * Holds a `/meta/connect` reply for up to `timeout` ms. A connect already
   * held is released first (empty), as a newer one supersedes it.
   *
   * The wheel rounds deadlines up to its resolution, so the hold is
   * scheduled one resolution short: it ends within `timeout`, never after.
   * Clients give up on a connect soon after the advised timeout (Faye after
   * 1.2×, which with a short timeout is less than one resolution late).
   * The held connect settles when it is released.
   */
  hold(reply: BayeuxMessage, timeout: number): HeldConnect {
    this.release();
    const held = new HeldConnect(reply);
    this.held = held;
    this.#holdEntry ??= new TimerEntry(this, HOLD);
    const wheel = this.#owner.wheel;
    wheel.schedule(this.#holdEntry, Math.max(0, timeout - wheel.resolution));
    return held;
  }

  /** Answers the held connect now, with whatever is queued. */
  release(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    if (this.#holdEntry !== null) this.#owner.wheel.cancel(this.#holdEntry);
    held.resolve({ reply: held.reply, deliveries: this.takeForConnect(held.reply) });
  }

  /**
   * Drops the held connect without taking deliveries: its HTTP request or
   * websocket went away, so what is queued waits for the next connect.
   */
  abandon(held: HeldConnect): void {
    if (this.held !== held) return;
    this.held = null;
    if (this.#holdEntry !== null) this.#owner.wheel.cancel(this.#holdEntry);
    held.resolve({ reply: held.reply, deliveries: EMPTY });
  }

  /** An adopted session takes up the channels its record lists (the router is told by the owner). */
  adoptSubscriptions(channels: readonly string[]): void {
    this.#subscriptions = new Set(channels);
  }

  /** Routes later deliveries (and what is queued) through a websocket. */
  attach(socket: SessionSocket): void {
    if (this.socket === socket || this.#closed) return;
    this.socket = socket;
    socket.attached(this);
    if (this.ackEnabled) return;
    const queued = this.takeForReply();
    for (const delivery of queued) socket.push(delivery);
  }

  detach(socket: SessionSocket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    const held = this.held;
    if (held !== null) this.abandon(held);
  }

  onTimer(entry: TimerEntry): void {
    if (entry.kind === HOLD) this.release();
    else this.#owner.expire(this);
  }

  /** Ends the session: answers a held connect, stops its timers. */
  close(): void {
    if (this.#closed) return;
    this.release();
    this.#closed = true;
    this.#owner.wheel.cancel(this.#expiry);
    if (this.#holdEntry !== null) this.#owner.wheel.cancel(this.#holdEntry);
    this.#queue = this.#unacked = null;
    this.#recovered = null;
    const socket = this.socket;
    this.socket = null;
    // A websocket outlives the sessions it carried (a client may handshake
    // again on it): it must not keep an ended one reachable.
    socket?.ended(this);
  }
}

/** The ack-extension state a session record carries (data field `ack`). */
export interface AckState {
  /** The number of the last delivery sent (the last batch's name). */
  sent: number;
  /** The number of the last delivery the client acknowledged. */
  acked: number;
  /**
   * With a channel log: the offset up to which the client acknowledged every
   * delivery matching its subscriptions.
   */
  floor?: string;
  /** With a channel log: the offset of the last delivery sent (in batch `sent`). */
  last?: string;
}

/** A delivery kept in the ack log, with its number. */
export interface KeptDelivery {
  seq: number;
  delivery: Delivery;
}

interface RecoveredAcks extends AckState {
  kept: readonly KeptDelivery[];
}

const EMPTY: Delivery[] = [];

/** The channel-log offset of the last of `deliveries` that has one. */
function lastOffset(deliveries: readonly Delivery[]): string | undefined {
  for (let i = deliveries.length - 1; i >= 0; i--) {
    const offset = deliveries[i].offset;
    if (offset !== undefined) return offset;
  }
  return undefined;
}
const NO_CHANNELS: ReadonlySet<string> = new Set();
