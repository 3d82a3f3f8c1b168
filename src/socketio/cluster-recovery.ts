/**
 * Connection state recovery across nodes: what makes a client whose node died
 * (SIGKILL included) resume on any other node with every packet it missed,
 * its rooms and its `socket.data`.
 *
 * Two things differ from the one-node adapter (session-adapter.ts):
 *
 * - **Delivery in log order.** A recoverable broadcast is appended to the
 *   namespace's stream of the shared message log and *not* delivered on the
 *   spot: every node with the namespace follows the stream and delivers each
 *   entry to its own sockets, the appending node included. Every client thus
 *   sees the one order of the log, and the offset it keeps (the last argument
 *   of the last packet) says exactly what it has seen, whichever node
 *   published what. Packets that are not kept for replay (acknowledged,
 *   volatile, `local`, not an EVENT) travel the usual way.
 * - **Sessions in the session store.** A socket's record (id `sio:<pid>`:
 *   its sid, rooms and data) is written when it connects, on every change of
 *   its rooms (once per tick), and by a sweep every third of
 *   `maxDisconnectionDuration` (which also picks up `socket.data`); a record
 *   lives `maxDisconnectionDuration` past its last write. A node killed
 *   without a word leaves its sockets' records behind, so another node can
 *   restore them; a clean disconnect writes the final state.
 *
 * A restore claims the record (the one that deletes it wins, so a session is
 * restored once), then replays the entries after the client's offset up to
 * the follower's position at that moment; entries the follower hands over
 * after that are appended to the replay until the restored socket has joined
 * its rooms, from when it gets them live: each entry exactly once. Replays of
 * one stream issued in one burst (a node died, its clients all come back)
 * share one log read.
 */

import { CoalescingLogReader } from "../cluster/log-reader.js";
import { MemorySessionStore } from "../cluster/memory-session-store.js";
import {
  GAP,
  type LogEntry,
  type LogFollower,
  type MessageLog,
  type ReadResult,
} from "../cluster/message-log.js";
import type { SessionStore } from "../cluster/session-store.js";
import { type Packet, PacketType } from "../codec/socketio/index.js";
import { LogLimiter } from "../shared/log-limiter.js";
import {
  Adapter,
  type BroadcastOptions,
  type PublishResult,
  type Room,
  type Session,
  type SessionToPersist,
  type SocketId,
} from "./adapter.js";
import type { Namespace } from "./namespace.js";
import {
  decodeEntry,
  encodeEntry,
  missedPackets,
  type StoredPacket,
  shouldInclude,
} from "./recovery-entry.js";

export interface ClusterRecoveryOptions {
  maxDisconnectionDuration: number;
  messageLog: MessageLog;
  sessionStore?: SessionStore;
  /** Milliseconds a publish id is remembered. */
  publishDedupeWindow: number;
  /** Latest entries kept in memory for replays. Default 1000. */
  replayCache?: number;
}

const DEFAULT_REPLAY_CACHE = 1000;
/** Milliseconds a restore's log read waits for others of the same burst. */
const RESTORE_BURST = 25;

/** The session record's data. */
interface RecordData {
  sid: SocketId;
  rooms: Room[];
  data: unknown;
}

/** A restore between its read and its socket's joining the rooms. */
interface PendingRestore {
  rooms: Set<Room>;
  /** The client's offset: what it has seen already. */
  after: string;
  missed: unknown[][];
  since: number;
}

const STREAM_PREFIX = "sio/recovery";

/** The session-store id of a recovery session. */
function recordId(pid: string): string {
  return `sio:${pid}`;
}

/** What recovery did on this node, for tests and metrics. */
export interface RecoveryStats {
  /** Restores asked for (a client came back with a pid and an offset). */
  asked: number;
  /** Sessions restored with their missed packets. */
  restored: number;
  /** Refused: no record (expired, ended, restored elsewhere) or the log lost entries. */
  refused: number;
  /** Of the refusals, those where the log could not cover the client's offset. */
  gaps: number;
}

export class ClusterSessionAdapter extends Adapter {
  /** Counts of restores on this node. */
  readonly recoveryStats: RecoveryStats = { asked: 0, restored: 0, refused: 0, gaps: 0 };
  readonly #maxDuration: number;
  readonly #log: MessageLog;
  readonly #reader: CoalescingLogReader;
  readonly #store: SessionStore;
  readonly #stream: string;
  readonly #dedupeWindow: number;
  #follower: LogFollower | null = null;
  /**
   * The latest entries the follower handed over, oldest first: most restores
   * (a client that was cut off a moment ago) are served from here, with no
   * log read at all. `#recentBase` is the offset just before the first one.
   */
  #recent: LogEntry[] = [];
  #recentBase: string | undefined;
  readonly #recentLimit: number;
  #ready: Promise<void> | null = null;
  /** Offset of the last entry delivered here. */
  #position: string | undefined;
  readonly #pending = new Map<SocketId, PendingRestore>();
  /** Backend failures come in bursts (an outage): reported once per 10 s. */
  readonly #failures = new LogLimiter();
  /**
   * Sessions restored here whose socket has not connected yet: when its
   * connection is gone before it does (a reset in the middle of the
   * reconnect), the claimed record is written back so the next attempt
   * restores it, instead of a fresh session.
   */
  readonly #restoring = new Map<SocketId, { pid: string; record: RecordData; since: number }>();
  /** sid → pid of this node's connected sockets with a record. */
  readonly #pids = new Map<SocketId, string>();
  /** The records being created, by pid: writes of their sessions wait for them. */
  readonly #recording = new Map<string, Promise<unknown>>();
  /** Sockets whose final state was written at disconnect. */
  readonly #persisted = new Set<SocketId>();
  readonly #dirty = new Set<SocketId>();
  #flushing = false;
  #sweep: NodeJS.Timeout | undefined;
  /** Appends, in broadcast order. */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  constructor(nsp: Namespace<any, any, any, any>, options: ClusterRecoveryOptions) {
    super(nsp);
    this.#maxDuration = options.maxDisconnectionDuration;
    this.#log = options.messageLog;
    // Restores that miss the recent entries wait for 25 ms without another
    // (100 ms at most) to share a read: a dead node's clients come back over
    // tens of milliseconds.
    this.#reader = new CoalescingLogReader(this.#log, { burstWindow: RESTORE_BURST });
    this.#store = options.sessionStore ?? new MemorySessionStore();
    this.#stream = `${STREAM_PREFIX}${nsp.name}`;
    this.#dedupeWindow = options.publishDedupeWindow;
    this.#recentLimit = options.replayCache ?? DEFAULT_REPLAY_CACHE;
    const mark = (_room: Room, id: SocketId) => {
      if (this.#pids.has(id)) this.#markDirty(id);
    };
    this.on("join-room", mark);
    this.on("leave-room", mark);
  }

  override init(): Promise<void> | void {
    super.init();
    this.#startFollowing();
    const every = Math.max(1000, Math.floor(this.#maxDuration / 3));
    this.#sweep = setInterval(() => this.#refreshAll(), every);
    this.#sweep.unref();
  }

  override close(): Promise<void> | void {
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#follower?.close();
    this.#follower = null;
    return super.close();
  }

  /** Starts (once) following the namespace's stream; resolves when its position is fixed. */
  #startFollowing(): Promise<void> {
    if (this.#ready !== null) return this.#ready;
    const follower = this.#log.follow(this.#stream, {
      entries: (batch) => this.#deliver(batch),
      gap: () => {
        this.nsp.server.logger.warn(
          { nsp: this.nsp.name, stream: this.#stream },
          "log gap: the message log lost entries, replays from before now are refused",
        );
        this.#position = this.#follower?.position;
        this.#recent = [];
        this.#recentBase = this.#position;
      },
    });
    this.#follower = follower;
    const ready = follower.ready.then(() => {
      if (this.#position === undefined) {
        this.#position = follower.position;
        this.#recentBase = follower.position;
      }
    });
    this.#ready = ready;
    ready.catch((err: unknown) => {
      this.#report("error", { stream: this.#stream, err }, "cannot follow the message log");
      // The next restore tries again.
      if (this.#follower === follower) {
        follower.close();
        this.#follower = null;
        this.#ready = null;
      }
    });
    return ready;
  }

  /** Delivers followed entries to this node's sockets and to restores in progress. */
  #deliver(batch: readonly LogEntry[]): void {
    this.#remember(batch);
    for (const entry of batch) {
      this.#position = entry.offset;
      let stored: StoredPacket;
      try {
        stored = decodeEntry(entry.payload);
      } catch (err) {
        this.#report("warn", { offset: entry.offset, err }, "dropping an undecodable log entry");
        continue;
      }
      const data = [...stored.data, entry.offset];
      for (const pending of this.#pending.values()) {
        if (!shouldInclude(pending.rooms, stored)) continue;
        // A client may have seen more than this node (another node's follower ran ahead).
        if ((this.#log.compare(entry.offset, pending.after) ?? 1) > 0) pending.missed.push(data);
      }
      try {
        super.broadcast(
          { type: PacketType.EVENT, nsp: this.nsp.name, data },
          {
            rooms: new Set(stored.rooms),
            except: new Set(stored.except ?? []),
            flags: { local: true },
          },
        );
      } catch (err) {
        this.#report("error", { offset: entry.offset, err }, "cannot deliver a log entry");
      }
    }
  }

  #remember(batch: readonly LogEntry[]): void {
    const recent = this.#recent;
    for (const entry of batch) recent.push(entry);
    const limit = this.#recentLimit;
    if (recent.length > 2 * limit || (limit === 0 && recent.length > 0)) {
      const dropped = recent.length - limit;
      this.#recentBase = recent[dropped - 1].offset;
      this.#recent = recent.slice(dropped);
    }
  }

  /** The entries after `offset` through the position, when the recent ones hold all of them. */
  #fromRecent(offset: string): LogEntry[] | undefined {
    const base = this.#recentBase;
    if (base === undefined) return undefined;
    const order = this.#log.compare(base, offset);
    if (order === undefined || order > 0) return undefined;
    const recent = this.#recent;
    let i = recent.length;
    while (i > 0 && (this.#log.compare(recent[i - 1].offset, offset) ?? 0) > 0) i--;
    return recent.slice(i);
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const stored = this.#recordable(packet, opts);
    if (stored === undefined) {
      super.broadcast(packet, opts);
      return;
    }
    this.#append(stored.payload, undefined).catch((err: unknown) => {
      this.#report("error", { err }, "cannot log a broadcast, sending it unrecorded");
      if (!this.#closed) super.broadcast(packet, opts);
    });
  }

  /** A broadcast kept for replay, resolved once it is in the log. */
  override _publish(packet: Packet, opts: BroadcastOptions, id?: string): Promise<PublishResult> {
    const stored = this.#recordable(packet, opts);
    if (stored === undefined) return super._publish(packet, opts, id);
    return this.#append(stored.payload, id);
  }

  /** The log payload of a broadcast kept for replay, or undefined when it travels unlogged. */
  #recordable(packet: Packet, opts: BroadcastOptions): { payload: Buffer } | undefined {
    const flags = opts.flags;
    if (packet.type !== PacketType.EVENT || packet.id !== undefined) return undefined;
    if (flags?.volatile || flags?.local) return undefined;
    const stored: StoredPacket = {
      data: packet.data as unknown[],
      rooms: [...opts.rooms],
      except: opts.except && opts.except.size > 0 ? [...opts.except] : null,
    };
    // The caller learns now of a packet that cannot be sent.
    this.nsp.server.encoder.encode({ ...packet, nsp: this.nsp.name });
    try {
      return { payload: encodeEntry(stored) };
    } catch (err) {
      this.#report("error", { err }, "cannot keep a broadcast for replay");
      return undefined;
    }
  }

  #append(payload: Buffer, id: string | undefined): Promise<PublishResult> {
    const log = this.#log;
    const stream = this.#stream;
    const window = this.#dedupeWindow;
    const run = (): Promise<PublishResult> =>
      id !== undefined && window > 0
        ? log.appendOnce(stream, payload, id, window)
        : log.append(stream, payload).then((offset) => ({ offset, duplicate: false }));
    // Not before the follower's start is fixed: an entry appended earlier
    // would be behind its position, delivered by no node.
    const following = this.#startFollowing().catch(() => undefined);
    const done = this.#tail.then(
      () => following.then(run),
      () => following.then(run),
    );
    this.#tail = done.catch(() => undefined);
    return done;
  }

  // --- sessions ---

  override _onSocketAdded(id: SocketId): void {
    super._onSocketAdded(id);
    this.#restoring.delete(id);
    const socket = this.nsp.sockets.get(id);
    const pid = socket?._pid;
    if (pid === undefined) return;
    this.#pids.set(id, pid);
    this.#persisted.delete(id);
    const record = this.#recordOf(id);
    const recorded = this.#create(pid, record)
      .then((created) => (created ? true : this.#store.update(recordId(pid), { ...record })))
      .catch((err: unknown) => this.#report("error", { pid, err }, "cannot record a session"))
      .finally(() => {
        if (this.#recording.get(pid) === recorded) this.#recording.delete(pid);
      });
    this.#recording.set(pid, recorded);
  }

  override persistSession(session: SessionToPersist): void {
    const pid = this.#pids.get(session.sid);
    if (pid === undefined) return;
    this.#persisted.add(session.sid);
    this.#dirty.delete(session.sid);
    this.#write(pid, { sid: session.sid, rooms: session.rooms, data: session.data });
  }

  override delAll(id: SocketId): void {
    const pid = this.#pids.get(id);
    super.delAll(id);
    const restoring = this.#restoring.get(id);
    if (restoring !== undefined) {
      this.#restoring.delete(id);
      this.#giveBack(restoring.pid, restoring.record);
    }
    if (pid === undefined) return;
    this.#pids.delete(id);
    this.#dirty.delete(id);
    // Left for good (not a recoverable disconnect): the session ends here.
    if (!this.#persisted.delete(id)) {
      // Only while it is still this node's: a client restored elsewhere keeps its record.
      this.#store
        .delete(recordId(pid), { owner: this.nsp.server.hub.nodeId })
        .catch((err: unknown) => this.#report("error", { pid, err }, "cannot end a session"));
    }
  }

  /** Writes back the record of a restore whose socket never connected. */
  #giveBack(pid: string, record: RecordData): void {
    this.#create(pid, record).catch((err: unknown) =>
      this.#report("error", { pid, err }, "cannot give a session back"),
    );
  }

  /** Records a session as this node's, for the window. */
  #create(pid: string, record: RecordData): Promise<boolean> {
    const options = {
      owner: this.nsp.server.hub.nodeId,
      ttl: this.#maxDuration,
      data: { ...record },
    };
    return this.#store.create(recordId(pid), options);
  }

  #recordOf(id: SocketId): RecordData {
    const socket = this.nsp.sockets.get(id);
    return { sid: id, rooms: [...(this.socketRooms(id) ?? [])], data: socket?.data };
  }

  #markDirty(id: SocketId): void {
    this.#dirty.add(id);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      for (const sid of this.#dirty) {
        const pid = this.#pids.get(sid);
        if (pid !== undefined) this.#write(pid, this.#recordOf(sid));
      }
      this.#dirty.clear();
    });
  }

  /** Writes a record's state and restarts its clock, unless another node took it over. */
  #write(pid: string, record: RecordData): void {
    const id = recordId(pid);
    const store = this.#store;
    const me = this.nsp.server.hub.nodeId;
    // A change made while the record is being created (a join right after
    // connecting) waits for it: before, the record has no owner yet.
    (this.#recording.get(pid) ?? Promise.resolve())
      .then(() => store.owner(id))
      .then((owner) => {
        if (owner !== me) return;
        return store.update(id, { ...record }).then(() => store.touch(id, this.#maxDuration));
      })
      .catch((err: unknown) => this.#report("error", { pid, err }, "cannot write a session"));
  }

  /** Logs a log or store failure, at most once per 10 s with a count of those left out. */
  #report(level: "warn" | "error", fields: Record<string, unknown>, msg: string): void {
    const suppressed = this.#failures.take();
    if (suppressed < 0) return;
    this.nsp.server.logger[level]({ nsp: this.nsp.name, ...fields, suppressed }, msg);
  }

  /** The sweep: every live socket's record is rewritten (data included) and kept alive. */
  #refreshAll(): void {
    for (const [sid, pid] of this.#pids) this.#write(pid, this.#recordOf(sid));
    const stale = Date.now() - this.#maxDuration;
    for (const [sid, pending] of this.#pending)
      if (pending.since < stale) this.#pending.delete(sid);
    // A restore whose socket neither connected nor left (should not happen).
    for (const [sid, restoring] of this.#restoring) {
      if (restoring.since < stale) this.#restoring.delete(sid);
    }
  }

  /** Log reads of restores: `reads` issued, `coalesced` restores served by another's read. */
  get readStats(): { reads: number; coalesced: number } {
    return this.#reader.stats;
  }

  override async restoreSession(pid: string, offset: string): Promise<Session | null> {
    const stats = this.recoveryStats;
    stats.asked++;
    let session: Session | null = null;
    try {
      session = await this.#restore(pid, offset);
      return session;
    } finally {
      if (session === null) stats.refused++;
      else stats.restored++;
    }
  }

  async #restore(pid: string, offset: string): Promise<Session | null> {
    if (typeof offset !== "string") return null;
    const id = recordId(pid);
    const record = await this.#store.get(id);
    if (record === undefined) return null;
    const state = record.data as Partial<RecordData>;
    if (typeof state.sid !== "string" || !Array.isArray(state.rooms)) return null;
    // The node that deletes the record restores the session, once.
    if (!(await this.#store.delete(id))) return null;
    await this.#startFollowing();
    const until = this.#position;
    if (until === undefined) return null;
    const rooms = new Set<Room>(state.rooms);
    const pending: PendingRestore = { rooms, after: offset, missed: [], since: Date.now() };
    // From here every entry the follower hands over (after `until`) is added.
    this.#pending.set(state.sid, pending);
    let replay: unknown[][] | null;
    try {
      const recent = this.#fromRecent(offset);
      const found: ReadResult =
        recent !== undefined
          ? { status: "complete", entries: recent }
          : await this.#readUntil(offset, until);
      replay = this.#replay(found, rooms, until);
    } catch (err) {
      this.#pending.delete(state.sid);
      throw err;
    }
    if (replay === null) {
      this.#pending.delete(state.sid);
      this.recoveryStats.gaps++;
      this._noteGap(pid);
      return null;
    }
    // The socket joins its rooms right after this resolves; until then the
    // follower keeps adding to `missed`, which the socket writes after the replay.
    replay.push(...pending.missed);
    pending.missed = replay;
    this.#restoring.set(state.sid, {
      pid,
      record: { sid: state.sid, rooms: state.rooms, data: state.data },
      since: Date.now(),
    });
    return { sid: state.sid, pid, rooms: state.rooms, data: state.data, missedPackets: replay };
  }

  /**
   * The entries after `offset`, through `until` at least: a coalesced read may
   * have been issued before `until` was reached, and is then completed.
   */
  async #readUntil(offset: string, until: string): Promise<ReadResult> {
    const found = await this.#reader.read(this.#stream, offset);
    if (found.status === "gap") return found;
    const entries = found.entries;
    const last = entries.length > 0 ? entries[entries.length - 1].offset : offset;
    const order = this.#log.compare(last, until);
    if (order === undefined) return GAP;
    if (order >= 0) return found;
    const more = await this.#reader.read(this.#stream, last);
    if (more.status === "gap") return more;
    return { status: "complete", entries: [...entries, ...more.entries] };
  }

  /** The entries of `found` up to `until` that the session's rooms received; null for a gap. */
  #replay(found: ReadResult, rooms: ReadonlySet<Room>, until: string): unknown[][] | null {
    if (found.status === "gap") return null;
    const entries = found.entries;
    let end = 0;
    for (; end < entries.length; end++) {
      const order = this.#log.compare(entries[end].offset, until);
      if (order === undefined) return null;
      if (order > 0) break;
    }
    return missedPackets(end === entries.length ? entries : entries.slice(0, end), rooms);
  }

  override addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void {
    // The restored socket is joining: from now on it gets entries live.
    this.#pending.delete(id);
    return super.addAll(id, rooms);
  }
}
