/**
 * Broadcast operators: immutable values naming a set of recipients (rooms,
 * exclusions) and flags. `to()`, `except()`, `volatile`... each return a new
 * operator, so a shared `io.to("room")` can be reused safely.
 */
import { type Packet, PacketType, RESERVED_EVENTS } from "../codec/socketio/index.js";
import { debugEnabled } from "../shared/logger.js";
import type { Adapter, BroadcastFlags, PublishResult, Room, SocketId } from "./adapter.js";
import type { Handshake } from "./socket.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventNamesWithError,
  EventNamesWithoutAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed-events.js";

/** Default milliseconds a broadcast with acknowledgement waits when no `timeout()` is set. */
export const DEFAULT_BROADCAST_ACK_TIMEOUT = 10_000;

/**
 * A socket seen through `fetchSockets()`: enough to read its state and act on
 * it, whichever node holds it. Local sockets are returned as themselves.
 *
 * @example
 * for (const socket of await io.fetchSockets()) {
 *   const answer = await socket.timeout(1000).emitWithAck("status");
 * }
 */
// biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
export interface RemoteSocket<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = any> {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: SocketData;
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean;
  /** Resolves with this socket's acknowledgement (rejects on timeout after `timeout(ms)`). */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>>;
  /** The next emit's acknowledgement fails with an error after `timeout` ms. */
  timeout(timeout: number): RemoteSocket<DecorateAcknowledgements<EmitEvents>, SocketData>;
  join(room: Room | Room[]): void | Promise<void>;
  leave(room: Room): void | Promise<void>;
  disconnect(close?: boolean): unknown;
}

/** What `fetchSockets()` resolves with; `missing` names the nodes that did not answer. */
export type FetchedRemoteSockets<
  EmitEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> = RemoteSocket<EmitEvents, SocketData>[] & { readonly missing: string[] };

function toSet(current: ReadonlySet<Room>, room: Room | Room[]): Set<Room> {
  const out = new Set(current);
  if (Array.isArray(room)) for (const r of room) out.add(r);
  else out.add(room);
  return out;
}

/**
 * @example
 * io.to("lobby").except("muted").emit("news", "hello");
 * const answers = await io.timeout(2000).emitWithAck("ping");
 */
export class BroadcastOperator<
  EmitEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> {
  readonly #adapter: Adapter;
  readonly #rooms: Set<Room>;
  readonly #except: Set<Room>;
  readonly #flags: BroadcastFlags;
  readonly #id: string | undefined;

  constructor(
    adapter: Adapter,
    rooms: Set<Room> = new Set(),
    exceptRooms: Set<Room> = new Set(),
    flags: BroadcastFlags = {},
    id?: string,
  ) {
    this.#adapter = adapter;
    this.#rooms = rooms;
    this.#except = exceptRooms;
    this.#flags = flags;
    this.#id = id;
  }

  /** Targets a room (or rooms) in addition to those already named. */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      toSet(this.#rooms, room),
      this.#except,
      this.#flags,
      this.#id,
    );
  }

  /** Alias of `to`. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Excludes the sockets of a room (or rooms). */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      this.#rooms,
      toSet(this.#except, room),
      this.#flags,
      this.#id,
    );
  }

  #with(flags: BroadcastFlags): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(
      this.#adapter,
      this.#rooms,
      this.#except,
      { ...this.#flags, ...flags },
      this.#id,
    );
  }

  /**
   * Names the message for `publish`: a publish retried with the same id (the
   * first one's reply was lost, the client asks again, maybe on another node)
   * is sent once within the recovery log's dedupe window.
   */
  withId(id: string): BroadcastOperator<EmitEvents, SocketData> {
    if (typeof id !== "string" || id.length === 0 || id.length > 256) {
      throw new TypeError("a publish id must be a string of 1 to 256 characters");
    }
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#except, this.#flags, id);
  }

  /**
   * Emits, resolving once the packet is kept for replay (connection state
   * recovery on; otherwise once sent) with its offset, or with `duplicate:
   * true` when a publish of the same `withId` id was already made. Rejects
   * when the recovery log cannot take it, so the caller can retry.
   *
   * @example
   * socket.on("say", async ({ id, text }, ack) => {
   *   try {
   *     await io.to("lobby").withId(id).publish("said", text);
   *     ack({ ok: true });
   *   } catch {
   *     ack({ ok: false }); // the client retries with the same id
   *   }
   * });
   */
  publish<Ev extends EventNamesWithoutAck<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): Promise<PublishResult> {
    if (RESERVED_EVENTS.has(ev as string)) {
      return Promise.reject(new Error(`"${String(ev)}" is a reserved event name`));
    }
    const packet: Packet = {
      type: PacketType.EVENT,
      nsp: this.#adapter.nsp.name,
      data: [ev, ...args],
    };
    return this.#adapter._publish(packet, this.#opts(), this.#id);
  }

  /** Whether the packet may be compressed. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with({ compress });
  }

  /** Drops the packet for recipients whose transport is not writable right now. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with({ volatile: true });
  }

  /** Only this node's sockets. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with({ local: true });
  }

  /** Acknowledgements are awaited `timeout` ms at most. */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#with({ timeout }) as never;
  }

  /**
   * Emits to every matching socket. With a function last, it is called once
   * with `(err, responses)`: every client answered, or the timeout passed.
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (RESERVED_EVENTS.has(ev as string))
      throw new Error(`"${String(ev)}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.#adapter.nsp.name, data };
    const opts = { rooms: this.#rooms, except: this.#except, flags: this.#flags };
    if (typeof data[data.length - 1] !== "function") {
      this.#adapter.broadcast(packet, opts);
      return true;
    }
    const ack = data.pop() as (err: Error | null, responses: unknown[]) => void;
    const responses: unknown[] = [];
    let timedOut = false;
    let expectedClients = 0;
    let expectedServers = -1;
    let answeredServers = 0;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#adapter.nsp.server.stats.ackTimeouts++;
      // The adapter gave the packet its ack id: no socket keeps waiting for it.
      const id = packet.id;
      if (id !== undefined)
        for (const socket of this.#adapter.nsp.sockets.values()) socket._forgetAck(id);
      const log = this.#adapter.nsp.server.logger;
      if (debugEnabled(log)) {
        log.debug(
          { nsp: this.#adapter.nsp.name, ackId: id, answered: responses.length },
          "broadcast ack timed out",
        );
      }
      ack(new Error("operation has timed out"), responses);
    }, this.#flags.timeout ?? DEFAULT_BROADCAST_ACK_TIMEOUT);
    const check = () => {
      if (timedOut || expectedServers !== answeredServers || responses.length !== expectedClients) {
        return;
      }
      clearTimeout(timer);
      timedOut = true;
      ack(null, responses);
    };
    try {
      this.#adapter.broadcastWithAck(
        packet,
        opts,
        (count) => {
          expectedClients += count;
          answeredServers++;
          check();
        },
        (response) => {
          if (timedOut) return;
          responses.push(response);
          check();
        },
      );
    } catch (err) {
      // Nothing was sent (the packet did not encode): no timeout call later.
      clearTimeout(timer);
      throw err;
    }
    this.#adapter.serverCount().then((count) => {
      expectedServers = count;
      check();
    });
    return true;
  }

  /** Emits and resolves with every client's answer (rejects on timeout). */
  emitWithAck<Ev extends EventNamesWithError<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      const cb = (err: Error | null, responses: unknown) =>
        err ? reject(err) : resolve(responses as never);
      (this.emit as (ev: string, ...a: unknown[]) => boolean)(ev as string, ...args, cb);
    });
  }

  /**
   * Emits to the namespace of the same name on the other nodes, waiting
   * `timeout()` ms (default 5000) for answers when a callback ends the args.
   */
  serverSideEmit(ev: string, ...args: unknown[]): boolean {
    this.#adapter.serverSideEmit([ev, ...args], this.#flags.timeout);
    return true;
  }

  /** `serverSideEmit` resolving with the other nodes' answers. */
  serverSideEmitWithAck(ev: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.serverSideEmit(ev, ...args, (err: Error | null, responses: unknown[]) =>
        err ? reject(err) : resolve(responses),
      );
    });
  }

  /** Sends a `message` event. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (ev: string, ...a: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of `send`. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  #opts() {
    return { rooms: this.#rooms, except: this.#except, flags: this.#flags };
  }

  /** Ids of the matching sockets. */
  allSockets(): Promise<Set<SocketId>> {
    return this.#adapter.sockets(this.#rooms).then((ids) => {
      if (this.#except.size === 0) return ids;
      for (const id of this.#adapter.router.collect(this.#except)) ids.delete(id);
      return ids;
    });
  }

  /**
   * The matching sockets of every node: this node's as themselves, the
   * others' as `RemoteSocket`s (after `timeout(ms)`, other nodes are awaited
   * that long; default 5000). The array's non-enumerable `missing` lists the
   * nodes that did not answer in time.
   *
   * @example
   * const sockets = await io.in("room1").fetchSockets();
   * if (sockets.missing.length > 0) console.warn("no answer from", sockets.missing);
   */
  fetchSockets(): Promise<FetchedRemoteSockets<EmitEvents, SocketData>> {
    return this.#adapter.fetchSockets(this.#opts()) as never;
  }

  /** Makes the matching sockets join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.#adapter.addSockets(this.#opts(), Array.isArray(room) ? room : [room]);
  }

  /** Makes the matching sockets leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.#adapter.delSockets(this.#opts(), Array.isArray(room) ? room : [room]);
  }

  /** Disconnects the matching sockets (closing their connection with `close`). */
  disconnectSockets(close = false): void {
    this.#adapter.disconnectSockets(this.#opts(), close);
  }
}
