/**
 * The in-memory adapter: rooms of one namespace and broadcasting to them,
 * with socket.io-adapter's API so code written against it (and custom
 * adapters) keep working. Rooms live in the core `TopicRouter`; a broadcast is
 * encoded once, prepared once, and the same messages are written to every
 * recipient. The rooms are a space of the server's hub: with a broker, a
 * broadcast is also handed to the other nodes (see cluster-link.ts), and
 * `fetchSockets`, `socketsJoin`, `socketsLeave`, `disconnectSockets`,
 * `serverSideEmit` and broadcasts with acknowledgements act on every node.
 */
import { EventEmitter } from "node:events";
import type { Packet } from "../codec/socketio/index.js";
import type { HubSpace, TopicRouter } from "../core/index.js";
import { FanoutTargets } from "../engine/fanout.js";
import type { PreparedMessage } from "../engine/prepared-message.js";
import { Socket as EngineSocketImpl } from "../engine/socket.js";
import { TopicTraffic } from "../shared/topic-traffic.js";
import { ClusterLink, type SocketDetails } from "./cluster-link.js";
import { decodeFrames, roomPrefix } from "./cluster-messages.js";
import type { Namespace } from "./namespace.js";
import { RemoteSocket } from "./remote-socket.js";
import type { Socket } from "./socket.js";

export type SocketId = string;
export type Room = string;

/** Rooms with fewer sockets are walked by id (a list would cost more than it saves). */
const MEMBER_LIST_MIN = 16;

/**
 * The sockets of a room, and, when every one of them is on Switchboard's
 * engine, the fan-out list of their connections in the same order.
 */
interface MemberList {
  // biome-ignore lint/suspicious/noExplicitAny: any socket typing.
  readonly sockets: Socket<any, any, any, any>[];
  /** Made on first use; false when a connection is not on Switchboard's engine. */
  targets: FanoutTargets | null | false;
}

/** Flags of one emit or broadcast, as socket.io names them. */
export interface BroadcastFlags {
  volatile?: boolean;
  compress?: boolean;
  local?: boolean;
  broadcast?: boolean;
  binary?: boolean;
  timeout?: number;
}

export interface BroadcastOptions {
  rooms: Set<Room>;
  except?: Set<Room>;
  flags?: BroadcastFlags;
}

/** A disconnected socket's state, kept for connection state recovery. */
export interface SessionToPersist {
  sid: SocketId;
  pid: string;
  rooms: Room[];
  data: unknown;
}

export interface Session extends SessionToPersist {
  missedPackets: unknown[][];
}

/** What a publish (`BroadcastOperator#publish`) found. */
export interface PublishResult {
  /** The packet's offset in the recovery log; undefined without recovery. */
  offset: string | undefined;
  /** True when a publish with the same id was made within the dedupe window: nothing was sent. */
  duplicate: boolean;
}

/** Default milliseconds a cross-node request (serverSideEmit with ack, fetchSockets) waits. */
export const DEFAULT_SERVER_SIDE_ACK_TIMEOUT = 5000;

/** Default milliseconds the other nodes' acknowledgements of a broadcast are awaited. */
const DEFAULT_BROADCAST_ACK_TIMEOUT = 10_000;

/**
 * What `fetchSockets()` resolves with: the sockets, and in the non-enumerable
 * `missing` property the nodes that did not answer in time (empty when every
 * node did). The adapter also emits `"missing-nodes"` with the operation's
 * name and those nodes.
 */
// biome-ignore lint/suspicious/noExplicitAny: any socket typing.
export type FetchedSockets<T = Socket<any, any, any, any> | RemoteSocket> = T[] & {
  readonly missing: string[];
};

function withMissing<T>(items: T[], missing: string[]): T[] & { readonly missing: string[] } {
  return Object.defineProperty(items, "missing", { value: missing, enumerable: false }) as T[] & {
    readonly missing: string[];
  };
}

/**
 * Events: `create-room`, `delete-room`, `join-room`, `leave-room` (as
 * socket.io-adapter), and `missing-nodes` `(operation, nodes)` when a cluster
 * query ended without the answer of some nodes.
 *
 * @example
 * io.of("/").adapter.on("join-room", (room, id) => console.log(`${id} joined ${room}`));
 * io.of("/").adapter.rooms.get("lobby")?.size; // members of "lobby"
 */
export class Adapter extends EventEmitter {
  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  readonly nsp: Namespace<any, any, any, any>;
  readonly router: TopicRouter<SocketId>;
  /** Member lists of rooms broadcast to (see `#roomMembers`), dropped on any change of the room. */
  readonly #memberLists = new Map<Room, MemberList>();
  /** This namespace's rooms in the server's hub. */
  readonly #space: HubSpace<SocketId>;
  /** The other nodes' side of this namespace; undefined on a local-only hub. */
  readonly #link: ClusterLink | undefined;
  /** Messages broadcast per room (bounded; a room's count goes with the room). */
  readonly traffic = new TopicTraffic();
  /**
   * Rooms some socket joined other than its own (the room named by its id):
   * what operators call rooms, kept as sockets join and rooms empty so the
   * figures read them without walking one private room per socket.
   */
  readonly namedRooms = new Set<Room>();

  // biome-ignore lint/suspicious/noExplicitAny: any namespace typing.
  constructor(nsp: Namespace<any, any, any, any>) {
    super();
    this.nsp = nsp;
    this.#space = nsp.server.hub.space<SocketId>({
      prefix: roomPrefix(nsp.name),
      hooks: { onCreate: (room) => this.emit("create-room", room) },
      onMessage: (via, _topic, envelope) => this.#link?.onRoomMessage(via, envelope),
    });
    this.router = this.#space.router;
    this.#link = this.#space.clustered ? new ClusterLink(this, this.#space) : undefined;
  }

  /**
   * Room → socket ids: the router's own map, live (read, do not mutate). The
   * router stores a lone member without a Set until someone reads this map;
   * the first read switches it to Sets for good, so the shape is socket.io's.
   */
  get rooms(): Map<Room, Set<SocketId>> {
    return this.router.expand().topics as Map<Room, Set<SocketId>>;
  }

  /** Socket id → rooms: the router's own map, live, as for `rooms`. */
  get sids(): Map<SocketId, Set<Room>> {
    return this.router.expand().subscriptions as Map<SocketId, Set<Room>>;
  }

  /** Starts listening to the other nodes (no-op on a local-only hub). */
  init(): Promise<void> | void {
    this.#link?.start();
  }

  /** Stops listening to the other nodes. */
  close(): Promise<void> | void {
    this.#link?.stop();
    this.#space.close();
  }

  /** Number of nodes in the cluster (this one included). */
  serverCount(): Promise<number> {
    return Promise.resolve(1 + this.#space.hub.nodes().length);
  }

  /** Adds a socket to rooms, raising `create-room` and `join-room`. */
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void {
    for (const room of rooms) this._addOne(id, room);
  }

  /**
   * Adds a socket to one room: what `socket.join(room)` costs when `addAll`
   * is this class's own (no Set made for the one room).
   */
  _addOne(id: SocketId, room: Room): void {
    if (!this.router.subscribe(id, room)) return;
    if (room !== id) this.namedRooms.add(room);
    this.#changed(room);
    this.emit("join-room", room, id);
  }

  /** Removes a socket from a room, raising `leave-room` and `delete-room`. */
  del(id: SocketId, room: Room): Promise<void> | void {
    if (!this.router.unsubscribe(id, room)) return;
    this.#changed(room);
    this.emit("leave-room", room, id);
    if (!this.router.has(room)) this.#deleted(room);
  }

  /** Removes a socket from every room. */
  delAll(id: SocketId): void {
    const rooms = this.router.unsubscribeAll(id);
    if (!rooms) return;
    for (const room of rooms) {
      this.#changed(room);
      this.emit("leave-room", room, id);
      if (!this.router.has(room)) this.#deleted(room);
    }
  }

  /** The last socket left `room`. */
  #deleted(room: Room): void {
    if (this.traffic.counts.size !== 0) this.traffic.forget(room);
    this.namedRooms.delete(room);
    this.emit("delete-room", room);
  }

  /**
   * Sends a packet to every socket matching `opts`. The packet is encoded
   * and prepared once; each recipient costs a set lookup and a write.
   */
  broadcast(packet: Packet, opts: BroadcastOptions): void {
    const flags = opts.flags ?? {};
    packet.nsp = this.nsp.name;
    const encoded = this.nsp.server.encoder.encode(packet);
    if (this.#link !== undefined && flags.local !== true) this.#link.publish(encoded, opts);
    const prepared = this.nsp.server._prepare(encoded);
    let sent =
      prepared.length === 1 && !this.nsp._outgoingWatched ? this.#toConns(prepared[0], opts) : -1;
    if (sent === -1) {
      const data = packet.data as unknown[];
      sent = this.#applyCounted(opts, (socket) => {
        socket._notifyOutgoing(data);
        socket.client.writePrepared(prepared, flags);
      });
    }
    this.#count(opts.rooms, sent, true);
  }

  /** `apply`, less the volatile packets the recipients dropped. */
  // biome-ignore lint/suspicious/noExplicitAny: any socket typing.
  #applyCounted(opts: BroadcastOptions, fn: (socket: Socket<any, any, any, any>) => void): number {
    const stats = this.nsp.server.stats;
    const drops = stats.volatileDrops;
    return this.apply(opts, fn) - (stats.volatileDrops - drops);
  }

  /**
   * Counts a broadcast once, with its recipient count: deliveries and
   * packets out here; for this node's own broadcasts only, the fan-out size
   * and the traffic of its rooms (a socket's private room is not counted),
   * so a broadcast routed on every node counts once in the cluster's sum.
   * Bytes are the engine's to count, as its transports write them.
   */
  #count(rooms: ReadonlySet<Room> | undefined, sent: number, own: boolean): void {
    const stats = this.nsp.server.stats;
    stats.deliveries += sent;
    stats.messagesOut += sent;
    if (!own) return;
    stats.broadcasts++;
    stats.fanout.observe(sent);
    if (rooms === undefined || rooms.size === 0) return;
    const sockets = this.nsp.sockets;
    for (const room of rooms) if (!sockets.has(room)) this.traffic.count(room);
  }

  /**
   * Delivers another node's broadcast to this node's sockets in `room` (the
   * whole namespace when undefined) and in none of `except`: the frames are
   * its encoded packet, written as they came.
   */
  _deliverRemote(
    room: Room | undefined,
    except: readonly Room[],
    flags: BroadcastFlags,
    frames: readonly (string | Buffer)[],
  ): void {
    const opts: BroadcastOptions = {
      rooms: room === undefined ? new Set() : new Set([room]),
      except: new Set(except),
      flags,
    };
    const prepared = this.nsp.server._prepare(frames);
    const watched = this.nsp._outgoingWatched;
    let sent = prepared.length === 1 && !watched ? this.#toConns(prepared[0], opts) : -1;
    if (sent === -1) {
      // Outgoing catch-all listeners see the arguments: decoded once, only for them.
      const data = watched ? (decodeFrames(frames)?.data as unknown[] | undefined) : undefined;
      sent = this.#applyCounted(opts, (socket) => {
        if (data !== undefined) socket._notifyOutgoing(data);
        socket.client.writePrepared(prepared, flags);
      });
    }
    this.#count(opts.rooms, sent, false);
  }

  /**
   * Broadcasts a packet expecting an acknowledgement from each recipient:
   * `clientCountCallback(n)` learns how many were reached, `ack` runs per answer.
   */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (count: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    this._broadcastWithAckLocal(packet, opts, clientCountCallback, ack);
    const flags = opts.flags;
    if (this.#link === undefined || flags?.local === true) return;
    const timeout = flags?.timeout ?? DEFAULT_BROADCAST_ACK_TIMEOUT;
    this.#link.broadcastWithAck(packet, opts, timeout, clientCountCallback, ack);
  }

  /**
   * `broadcastWithAck` on this node's sockets only; `own` false for another
   * node's broadcast run here (counted as a delivery, not as a broadcast).
   */
  _broadcastWithAckLocal(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (count: number) => void,
    ack: (...args: unknown[]) => void,
    own = true,
  ): void {
    const flags = opts.flags ?? {};
    packet.nsp = this.nsp.name;
    packet.id = this.nsp._nextAckId();
    const id = packet.id;
    const prepared = this.nsp.server._prepare(this.nsp.server.encoder.encode(packet));
    const data = packet.data as unknown[];
    const count = this.apply(opts, (socket) => {
      socket._registerBroadcastAck(id, ack);
      socket._notifyOutgoing(data);
      socket.client.writePrepared(prepared, flags);
    });
    this.#count(opts.rooms, count, own);
    clientCountCallback(count);
  }

  /** Calls `fn` for each local socket matching `opts`; returns how many. */
  // biome-ignore lint/suspicious/noExplicitAny: any socket typing.
  apply(opts: BroadcastOptions, fn: (socket: Socket<any, any, any, any>) => void): number {
    const members = this.#roomMembers(opts.rooms)?.sockets;
    if (members !== undefined) {
      const excluded = this.#excludedSocket(opts.except);
      if (excluded !== null) {
        let count = 0;
        for (let i = 0; i < members.length; i++) {
          const socket = members[i];
          if (socket.id === excluded || !socket.connected) continue;
          fn(socket);
          count++;
        }
        return count;
      }
    }
    const sockets = this.nsp.sockets;
    let count = 0;
    this.router.forEach(opts.rooms, opts.except, (id) => {
      const socket = sockets.get(id);
      if (socket) {
        fn(socket);
        count++;
      }
    });
    return count;
  }

  /**
   * The sockets of `rooms` as an array, when `rooms` is one room of at least
   * {@link MEMBER_LIST_MIN} sockets: built on the first broadcast after a
   * change of its membership, so a broadcast to a steady room walks an array
   * of sockets instead of looking each member id up in the namespace.
   */
  #roomMembers(rooms: BroadcastOptions["rooms"]): MemberList | undefined {
    if (rooms === undefined || rooms.size !== 1) return undefined;
    let room: Room | undefined;
    for (const only of rooms) room = only;
    const cached = this.#memberLists.get(room as Room);
    if (cached !== undefined) return cached;
    const ids = this.router.topics.get(room as Room);
    if (!(ids instanceof Set) || ids.size < MEMBER_LIST_MIN) return undefined;
    const byId = this.nsp.sockets;
    const sockets = [];
    for (const id of ids) {
      const socket = byId.get(id);
      if (socket !== undefined) sockets.push(socket);
    }
    const list: MemberList = { sockets, targets: null };
    this.#memberLists.set(room as Room, list);
    return list;
  }

  /** The fan-out list of `list`'s connections (made, or remade when stale), or null off our engine. */
  #targetsOf(list: MemberList): FanoutTargets | null {
    const current = list.targets;
    if (current === false) return null;
    if (current !== null && !current.stale) return current;
    const conns: EngineSocketImpl[] = [];
    for (const socket of list.sockets) {
      const conn = socket.client.conn;
      if (!(conn instanceof EngineSocketImpl)) {
        list.targets = false;
        return null;
      }
      conns.push(conn);
    }
    list.targets = new FanoutTargets(conns);
    return list.targets;
  }

  /**
   * The shortest broadcast: one prepared message to a room with a member
   * list, written connection by connection with nothing to do per socket of
   * this layer (no outgoing catch-all listener in the namespace). Returns
   * how many recipients it was written to, or -1 when `opts` asks for more
   * (the caller then walks the sockets).
   */
  #toConns(message: PreparedMessage, opts: BroadcastOptions): number {
    const list = this.#roomMembers(opts.rooms);
    if (list === undefined) return -1;
    const excluded = this.#excludedSocket(opts.except);
    if (excluded === null) return -1;
    const targets = this.#targetsOf(list);
    if (targets === null) return -1;
    // The excluded socket's place in the list: a scan of references, no socket visited.
    const skip =
      excluded === "" ? -1 : list.sockets.indexOf(this.nsp.sockets.get(excluded) as never);
    const flags = opts.flags;
    const volatile = flags?.volatile === true;
    const sent = targets.send(message, flags?.compress !== false, volatile, skip);
    if (volatile) {
      const eligible = list.sockets.length - (skip === -1 ? 0 : 1);
      this.nsp.server.stats.volatileDrops += eligible - sent;
    }
    return sent;
  }

  /**
   * The one socket id `except` leaves out ("" for none), or null when it
   * names more than one socket (the general path handles those).
   */
  #excludedSocket(except: BroadcastOptions["except"]): SocketId | null {
    if (except === undefined || except.size === 0) return "";
    if (except.size !== 1) return null;
    for (const room of except) {
      const members = this.router.topics.get(room);
      if (members === undefined) return "";
      return members instanceof Set ? null : members;
    }
    return null;
  }

  /**
   * A socket entered `nsp.sockets`: the member lists of rooms it joined
   * before (in a middleware, or restored by recovery) were built without it.
   */
  _onSocketAdded(id: SocketId): void {
    if (this.#memberLists.size === 0) return;
    const rooms = this.socketRooms(id);
    if (rooms !== undefined) for (const room of rooms) this.#changed(room);
  }

  /** A room's membership changed: its member list is rebuilt when next used. */
  #changed(room: Room): void {
    if (this.#memberLists.size !== 0) this.#memberLists.delete(room);
  }

  /** Like `apply`, but collects first: for operations that change rooms. */
  // biome-ignore lint/suspicious/noExplicitAny: any socket typing.
  #collect(opts: BroadcastOptions): Socket<any, any, any, any>[] {
    const out = [];
    for (const id of this.router.collect(opts.rooms, opts.except)) {
      const socket = this.nsp.sockets.get(id);
      if (socket) out.push(socket);
    }
    return out;
  }

  /** Ids of the sockets in any of `rooms` (all sockets when empty). */
  sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  /** Rooms of one socket. */
  socketRooms(id: SocketId): Set<Room> | undefined {
    const rooms = this.router.subscriptions.get(id);
    if (rooms === undefined || rooms instanceof Set) return rooms;
    return new Set([rooms]);
  }

  /**
   * The sockets matching `opts` on every node: this node's as themselves,
   * the others' as {@link RemoteSocket}s. Waits `flags.timeout` ms (default
   * 5000) at most for the other nodes; see {@link FetchedSockets} for the
   * nodes that did not answer.
   */
  fetchSockets(opts: BroadcastOptions): Promise<FetchedSockets> {
    // biome-ignore lint/suspicious/noExplicitAny: any socket typing.
    const local: (Socket<any, any, any, any> | RemoteSocket)[] = this.#collect(opts);
    if (this.#link === undefined || opts.flags?.local === true) {
      return Promise.resolve(withMissing(local, []));
    }
    const timeout = opts.flags?.timeout ?? DEFAULT_SERVER_SIDE_ACK_TIMEOUT;
    return this.#link.fetchSockets(opts, timeout).then(({ items, missing }) => {
      for (const details of items) local.push(new RemoteSocket(this, details));
      if (missing.length > 0) this.emit("missing-nodes", "fetchSockets", missing);
      return withMissing(local, missing);
    });
  }

  /** What another node's `fetchSockets` learns of this node's matching sockets. */
  _localDetails(opts: BroadcastOptions): SocketDetails[] {
    return this.#collect(opts).map((socket) => {
      const h = socket.handshake;
      const handshake = {
        headers: h.headers,
        time: h.time,
        address: h.address,
        xdomain: h.xdomain,
        secure: h.secure,
        issued: h.issued,
        url: h.url,
        query: h.query,
        auth: h.auth,
      };
      return { id: socket.id, handshake, rooms: [...socket.rooms], data: socket.data };
    });
  }

  /** Makes matching sockets join `rooms`, on every node unless `flags.local`. */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this._joinLocal(opts, rooms);
    if (this.#link !== undefined && opts.flags?.local !== true) {
      this.#link.control("j", opts, { names: rooms });
    }
  }

  /** Makes matching sockets leave `rooms`, on every node unless `flags.local`. */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this._leaveLocal(opts, rooms);
    if (this.#link !== undefined && opts.flags?.local !== true) {
      this.#link.control("l", opts, { names: rooms });
    }
  }

  /** Disconnects matching sockets, on every node unless `flags.local`. */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    this._disconnectLocal(opts, close);
    if (this.#link !== undefined && opts.flags?.local !== true) {
      this.#link.control("d", opts, { close });
    }
  }

  /** `addSockets` on this node only. */
  _joinLocal(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.#collect(opts)) socket.join(rooms);
  }

  /** `delSockets` on this node only. */
  _leaveLocal(opts: BroadcastOptions, rooms: Room[]): void {
    for (const socket of this.#collect(opts)) for (const room of rooms) socket.leave(room);
  }

  /** `disconnectSockets` on this node only. */
  _disconnectLocal(opts: BroadcastOptions, close: boolean): void {
    for (const socket of this.#collect(opts)) socket.disconnect(close);
  }

  /** Drops the acknowledgement `id` of a broadcast that stopped waiting. */
  _forgetBroadcastAck(id: number): void {
    for (const socket of this.nsp.sockets.values()) socket._forgetAck(id);
  }

  /**
   * Sends `[event, ...args]` to the other nodes' namespace of the same name.
   * With a function last, collects their answers: `ack(err, responses)`.
   */
  serverSideEmit(packet: unknown[], timeout = DEFAULT_SERVER_SIDE_ACK_TIMEOUT): void {
    const last = packet[packet.length - 1];
    const link = this.#link;
    if (typeof last !== "function") {
      link?.serverSideEmit(packet);
      return;
    }
    const ack = last as (err: Error | null, responses: unknown[]) => void;
    if (link === undefined) {
      // Alone: nobody to answer, every node (none) did.
      queueMicrotask(() => ack(null, []));
      return;
    }
    link.serverSideEmitWithAck(packet.slice(0, -1), timeout).then(({ items, missing }) => {
      if (missing.length === 0) {
        ack(null, items);
        return;
      }
      this.emit("missing-nodes", "serverSideEmit", missing);
      // socket.io's wording, so code matching on it keeps working.
      const expected = items.length + missing.length;
      const answered = expected - missing.length;
      ack(
        new Error(`timeout reached: only ${answered} responses received out of ${expected}`),
        items,
      );
    });
  }

  /** Keeps a disconnected socket's session (no-op unless recovery is on). */
  persistSession(_session: SessionToPersist): void {}

  /**
   * A broadcast whose caller waits until it is kept for replay (with
   * connection state recovery; without it, until it is sent). `id` makes it
   * idempotent where the recovery log supports it: a second publish with the
   * same id in the dedupe window is not sent and resolves `duplicate: true`.
   */
  _publish(packet: Packet, opts: BroadcastOptions, _id?: string): Promise<PublishResult> {
    try {
      this.broadcast(packet, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve({ offset: undefined, duplicate: false });
  }

  /** Finds a session to recover (none without recovery). */
  restoreSession(_pid: string, _offset: string): Promise<Session | null> | Session | null {
    return null;
  }

  /** Pids of restores refused for a gap, until the namespace asks (made when first needed). */
  #gapPids: Set<string> | undefined;

  /** Marks the restore of `pid` just refused as a gap: the log lost packets it missed. */
  _noteGap(pid: string): void {
    this.#gapPids ??= new Set();
    this.#gapPids.add(pid);
  }

  /** Whether the refused restore of `pid` was a gap (asked once per refusal). */
  _tookGap(pid: string): boolean {
    return this.#gapPids?.delete(pid) ?? false;
  }
}
