/**
 * Connection state recovery in memory (socket.io's `connectionStateRecovery`).
 *
 * Wire behaviour (socket.io docs, "Connection state recovery"): the CONNECT
 * reply carries a private session id `pid`; every stored broadcast EVENT gets
 * an offset string appended as its last argument; a reconnecting client sends
 * `{ pid, offset }` in its CONNECT auth and the server restores the socket's
 * id, rooms and data and replays the packets sent after `offset` that the
 * socket would have received.
 *
 * No timer: expired sessions and packets are dropped when new ones are added.
 */
import { type Packet, PacketType } from "../codec/socketio/index.js";
import {
  Adapter,
  type BroadcastOptions,
  type Room,
  type Session,
  type SessionToPersist,
} from "./adapter.js";
import type { Namespace } from "./namespace.js";

export interface ConnectionStateRecoveryOptions {
  /** Milliseconds a session (and the packets it may miss) is kept. Default 120000. */
  maxDisconnectionDuration?: number;
  /** Skip middlewares for a recovered socket. Default true. */
  skipMiddlewares?: boolean;
  /** Most broadcast packets kept per namespace for replay. Default 10000. */
  maxBufferedPackets?: number;
}

interface StoredPacket {
  seq: number;
  emittedAt: number;
  rooms: Set<Room>;
  except: Set<Room> | undefined;
  data: unknown[];
}

interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

const OFFSET = /^[0-9a-z]{1,11}$/;

export class SessionAwareAdapter extends Adapter {
  readonly #maxDuration: number;
  readonly #maxPackets: number;
  readonly #sessions = new Map<string, StoredSession>();
  #packets: StoredPacket[] = [];
  #head = 0;
  #seq = 0;

  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  constructor(nsp: Namespace<any, any, any, any>, options: ConnectionStateRecoveryOptions = {}) {
    super(nsp);
    this.#maxDuration = options.maxDisconnectionDuration ?? 120_000;
    this.#maxPackets = options.maxBufferedPackets ?? 10_000;
  }

  override persistSession(session: SessionToPersist): void {
    const now = Date.now();
    this.#expireSessions(now);
    this.#sessions.set(session.pid, { ...session, disconnectedAt: now });
  }

  override restoreSession(pid: string, offset: string): Session | null {
    const session = this.#sessions.get(pid);
    if (!session) return null;
    this.#sessions.delete(pid);
    if (session.disconnectedAt + this.#maxDuration < Date.now()) return null;
    if (!OFFSET.test(offset)) return null;
    const seq = Number.parseInt(offset, 36);
    this.#expirePackets(Date.now());
    const first = this.#packets[this.#head]?.seq ?? this.#seq;
    // The packet at `offset` may itself be gone; those after it must all be here.
    if (seq >= this.#seq || seq < first - 1) return null;
    const rooms = new Set(session.rooms);
    const missedPackets: unknown[][] = [];
    for (let i = this.#head + Math.max(0, seq + 1 - first); i < this.#packets.length; i++) {
      const packet = this.#packets[i];
      if (shouldInclude(rooms, packet)) missedPackets.push(packet.data);
    }
    return {
      sid: session.sid,
      pid: session.pid,
      rooms: session.rooms,
      data: session.data,
      missedPackets,
    };
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    if (packet.type === PacketType.EVENT && packet.id === undefined && !opts.flags?.volatile) {
      const now = Date.now();
      const seq = this.#seq++;
      // The offset travels as the last argument, which socket.io-client remembers.
      const data = [...(packet.data as unknown[]), seq.toString(36)];
      // Sent first: a packet that fails to encode throws and is never kept for replay.
      super.broadcast({ ...packet, data }, opts);
      this.#packets.push({ seq, emittedAt: now, rooms: opts.rooms, except: opts.except, data });
      this.#expirePackets(now);
      return;
    }
    super.broadcast(packet, opts);
  }

  #expireSessions(now: number): void {
    const threshold = now - this.#maxDuration;
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt >= threshold) break;
      this.#sessions.delete(pid);
    }
  }

  #expirePackets(now: number): void {
    const threshold = now - this.#maxDuration;
    const packets = this.#packets;
    while (
      this.#head < packets.length &&
      (packets.length - this.#head > this.#maxPackets || packets[this.#head].emittedAt < threshold)
    ) {
      packets[this.#head++] = undefined as never;
    }
    if (this.#head > 1024 && this.#head * 2 > packets.length) {
      this.#packets = packets.slice(this.#head);
      this.#head = 0;
    }
  }
}

function shouldInclude(sessionRooms: Set<Room>, packet: StoredPacket): boolean {
  if (packet.except) for (const room of packet.except) if (sessionRooms.has(room)) return false;
  if (packet.rooms.size === 0) return true;
  for (const room of packet.rooms) if (sessionRooms.has(room)) return true;
  return false;
}
