/**
 * Connection state recovery (socket.io's `connectionStateRecovery`), its
 * packets kept in a {@link MessageLog}.
 *
 * Wire behaviour (socket.io docs, "Connection state recovery"): the CONNECT
 * reply carries a private session id `pid`; every stored broadcast EVENT gets
 * an offset string appended as its last argument; a reconnecting client sends
 * `{ pid, offset }` in its CONNECT auth and the server restores the socket's
 * id, rooms and data and replays the packets sent after `offset` that the
 * socket would have received.
 *
 * The offset is the log's: one stream per namespace (`sio/recovery<nsp>`),
 * each entry the packet's arguments and its rooms, as JSON (what the wire
 * carries anyway, and several times faster to write than v8's format), or
 * v8-serialised when the arguments hold binary data. A log that
 * lost an entry the client missed (trimmed, restarted) answers `gap` and the
 * client gets a fresh session, never a replay with a hole in it. The default
 * log is in memory, bounded by `maxBufferedPackets` and
 * `maxDisconnectionDuration`, and answers synchronously, so a broadcast costs
 * no promise; a networked log (Redis) is appended to in broadcast order.
 *
 * No timer: expired sessions are dropped when new ones are added.
 */
import { MemoryMessageLog } from "../cluster/memory-message-log.js";
import { isSyncMessageLog, type MessageLog, type ReadResult } from "../cluster/message-log.js";
import type { SessionStore } from "../cluster/session-store.js";
import { type Packet, PacketType } from "../codec/socketio/index.js";
import { LogLimiter } from "../shared/log-limiter.js";
import {
  Adapter,
  type BroadcastOptions,
  type PublishResult,
  type Session,
  type SessionToPersist,
} from "./adapter.js";
import type { RecoveryStats } from "./cluster-recovery.js";
import type { Namespace } from "./namespace.js";
import { encodeEntry, missedPackets, type StoredPacket } from "./recovery-entry.js";

export interface ConnectionStateRecoveryOptions {
  /** Milliseconds a session (and the packets it may miss) is kept. Default 120000. */
  maxDisconnectionDuration?: number;
  /** Skip middlewares for a recovered socket. Default true. */
  skipMiddlewares?: boolean;
  /** Most broadcast packets kept per namespace for replay. Default 10000. */
  maxBufferedPackets?: number;
  /**
   * Where broadcast packets are kept for replay. Default: an in-memory log
   * per namespace bounded by `maxBufferedPackets` and
   * `maxDisconnectionDuration`; a log given here applies its own limits.
   *
   * @example
   * new Server({ connectionStateRecovery: { messageLog: new RedisMessageLog(redis) } });
   */
  messageLog?: MessageLog;
  /**
   * Where sessions are kept while their client is away, when the server has
   * a broker and a shared `messageLog`: give a shared store (Redis) so a
   * client resumes on any node. Default: the server's `sessionStore`, else
   * one in memory.
   */
  sessionStore?: SessionStore;
  /**
   * Milliseconds a publish id (`io.to(room).withId(id).publish(...)`) is
   * remembered, so a retried publish is sent once. Default 120000; 0 turns
   * the check off.
   */
  publishDedupeWindow?: number;
  /**
   * With a broker and a shared `messageLog`: how many of the latest entries
   * each node keeps in memory, so that a client cut off a moment ago is
   * replayed without a log read. Default 1000.
   */
  replayCache?: number;
}

/** Default milliseconds a publish id is remembered. */
export const DEFAULT_PUBLISH_DEDUPE_WINDOW = 120_000;

interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

export class SessionAwareAdapter extends Adapter {
  /** Counts of restores on this node (the metrics read `gaps`). */
  readonly recoveryStats: RecoveryStats = { asked: 0, restored: 0, refused: 0, gaps: 0 };
  readonly #maxDuration: number;
  readonly #sessions = new Map<string, StoredSession>();
  readonly #log: MessageLog;
  readonly #stream: string;
  readonly #dedupeWindow: number;
  /** Appends to an asynchronous log, in broadcast order. */
  #tail: Promise<unknown> = Promise.resolve();

  /** Failures of the log come in bursts (an outage): reported once per 10 s. */
  readonly #failures = new LogLimiter();

  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  constructor(nsp: Namespace<any, any, any, any>, options: ConnectionStateRecoveryOptions = {}) {
    super(nsp);
    this.#maxDuration = options.maxDisconnectionDuration ?? 120_000;
    this.#log =
      options.messageLog ??
      new MemoryMessageLog({
        maxLength: options.maxBufferedPackets ?? 10_000,
        maxAge: this.#maxDuration,
      });
    this.#stream = `sio/recovery${nsp.name}`;
    this.#dedupeWindow = options.publishDedupeWindow ?? DEFAULT_PUBLISH_DEDUPE_WINDOW;
  }

  /** Logs a failure of the log, at most once per 10 s with a count of those left out. */
  #report(err: unknown, msg: string): void {
    const suppressed = this.#failures.take();
    if (suppressed >= 0) this.nsp.server.logger.error({ nsp: this.nsp.name, err, suppressed }, msg);
  }

  override persistSession(session: SessionToPersist): void {
    const now = Date.now();
    this.#expireSessions(now);
    this.#sessions.set(session.pid, { ...session, disconnectedAt: now });
  }

  override restoreSession(pid: string, offset: string): Session | null | Promise<Session | null> {
    const stats = this.recoveryStats;
    stats.asked++;
    const session = this.#sessions.get(pid);
    if (!session) return this.#refused();
    this.#sessions.delete(pid);
    if (session.disconnectedAt + this.#maxDuration < Date.now()) return this.#refused();
    if (typeof offset !== "string") return this.#refused();
    const log = this.#log;
    if (isSyncMessageLog(log))
      return this.#restored(session, log.readAfterNow(this.#stream, offset));
    return log.readAfter(this.#stream, offset).then(
      (found) => this.#restored(session, found),
      (err: unknown) => {
        this.#refused();
        throw err;
      },
    );
  }

  #refused(gap = false, pid?: string): null {
    this.recoveryStats.refused++;
    if (gap && pid !== undefined) {
      this.recoveryStats.gaps++;
      this._noteGap(pid);
    }
    return null;
  }

  #restored(session: StoredSession, found: ReadResult): Session | null {
    // The log no longer covers the client's offset (trimmed, restarted), or
    // an entry it missed cannot be read back: a replay would have a hole.
    if (found.status === "gap") return this.#refused(true, session.pid);
    const missed = missedPackets(found.entries, new Set(session.rooms));
    if (missed === null) return this.#refused(true, session.pid);
    this.recoveryStats.restored++;
    return {
      sid: session.sid,
      pid: session.pid,
      rooms: session.rooms,
      data: session.data,
      missedPackets: missed,
    };
  }

  override _publish(packet: Packet, opts: BroadcastOptions, id?: string): Promise<PublishResult> {
    try {
      return Promise.resolve(this.#send(packet, opts, id));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const sent = this.#send(packet, opts, undefined);
    if (sent instanceof Promise)
      sent.catch((err: unknown) => this.#report(err, "broadcast failed"));
  }

  /** Sends a broadcast, keeping it for replay when it is replayable. */
  #send(
    packet: Packet,
    opts: BroadcastOptions,
    id: string | undefined,
  ): PublishResult | Promise<PublishResult> {
    if (packet.type !== PacketType.EVENT || packet.id !== undefined || opts.flags?.volatile) {
      super.broadcast(packet, opts);
      return { offset: undefined, duplicate: false };
    }
    const args = packet.data as unknown[];
    const stored: StoredPacket = {
      data: args,
      rooms: [...opts.rooms],
      except: opts.except ? [...opts.except] : null,
    };
    let payload: Buffer;
    try {
      payload = encodeEntry(stored);
    } catch (err) {
      // A value that cannot be copied (a function for v8, a cycle for JSON) cannot be
      // replayed; the broadcast then reports it if it cannot be sent either.
      this.#report(err, "cannot keep a broadcast for replay");
      super.broadcast(packet, opts);
      return { offset: undefined, duplicate: false };
    }
    const log = this.#log;
    const window = id === undefined ? 0 : this.#dedupeWindow;
    if (isSyncMessageLog(log)) {
      if (window > 0) {
        // The id decides first; a packet that then fails to encode is refused
        // to the caller, and a retry of it would be refused likewise.
        this.nsp.server.encoder.encode({ ...packet, nsp: this.nsp.name });
        const kept = log.appendOnceNow(this.#stream, payload, id as string, window);
        if (!kept.duplicate) super.broadcast({ ...packet, data: [...args, kept.offset] }, opts);
        return kept;
      }
      // Sent first, with the offset the append is about to get: a packet that
      // fails to encode throws and is never kept for replay.
      const offset = log.nextOffset(this.#stream);
      super.broadcast({ ...packet, data: [...args, offset] }, opts);
      log.appendNow(this.#stream, payload);
      return { offset, duplicate: false };
    }
    // An asynchronous log gives the offset later: the packet is checked for
    // encodability now (the caller learns of a failure), sent once appended.
    this.nsp.server.encoder.encode({ ...packet, nsp: this.nsp.name });
    const append = (): Promise<PublishResult> =>
      window > 0
        ? log.appendOnce(this.#stream, payload, id as string, window)
        : log.append(this.#stream, payload).then((offset) => ({ offset, duplicate: false }));
    const done = this.#tail.then(append).then(
      (kept) => {
        if (!kept.duplicate) super.broadcast({ ...packet, data: [...args, kept.offset] }, opts);
        return kept;
      },
      (err: unknown) => {
        this.#report(err, "cannot log a broadcast, sending it unrecorded");
        super.broadcast(packet, opts);
        return { offset: undefined, duplicate: false };
      },
    );
    this.#tail = done.catch(() => undefined);
    return done;
  }

  #expireSessions(now: number): void {
    const threshold = now - this.#maxDuration;
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt >= threshold) break;
      this.#sessions.delete(pid);
    }
  }
}
