/**
 * A socket held by another node, as `fetchSockets()` returns it: its id,
 * handshake, rooms and data as they were when fetched, and the operations
 * that act on it wherever it lives. Every operation goes through the
 * adapter like a broadcast to the socket's own room (its id), which the
 * owning node holds, so it reaches the socket on any node.
 */
import type { Adapter, Room, SocketId } from "./adapter.js";
import { BroadcastOperator, type RemoteSocket as RemoteSocketLike } from "./broadcast.js";
import type { SocketDetails } from "./cluster-link.js";
import type { Handshake } from "./socket-types.js";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed-events.js";

/**
 * @example
 * const [socket] = await io.in("room1").fetchSockets();
 * socket.join("room2");
 * const answer = await socket.timeout(1000).emitWithAck("status");
 */
export class RemoteSocket<
  EmitEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> implements RemoteSocketLike<EmitEvents, SocketData>
{
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly rooms: Set<Room>;
  readonly data: SocketData;
  readonly #adapter: Adapter;
  readonly #timeout: number | undefined;

  constructor(adapter: Adapter, details: SocketDetails, timeout?: number) {
    this.#adapter = adapter;
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data as SocketData;
    this.#timeout = timeout;
  }

  #operator(): BroadcastOperator<EmitEvents, SocketData> {
    const op = new BroadcastOperator<EmitEvents, SocketData>(this.#adapter, new Set([this.id]));
    return this.#timeout === undefined ? op : (op.timeout(this.#timeout) as never);
  }

  /**
   * Emits to this socket. With a function last, it gets this socket's answer
   * (after `timeout(ms)`: `(err, answer)`, the error when none came in time),
   * as the same call on the local `Socket` does.
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    const all = args as unknown[];
    const op = this.#operator() as BroadcastOperator<DefaultEventsMap>;
    const last = all[all.length - 1];
    if (typeof last !== "function") return op.emit(ev as string, ...all);
    const ack = last as (...a: unknown[]) => void;
    const withErr = this.#timeout !== undefined;
    const one = (err: Error | null, responses: unknown[]) => {
      if (!withErr) {
        if (responses.length > 0) ack(responses[0]);
      } else if (responses.length > 0) ack(null, responses[0]);
      else ack(err ?? new Error("operation has timed out"));
    };
    return op.emit(ev as string, ...all.slice(0, -1), one);
  }

  /** Resolves with this socket's answer (rejects when none came in time after `timeout(ms)`). */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    // Without timeout(ms), a broadcast's default acknowledgement timeout bounds the wait.
    const op = this.#operator() as BroadcastOperator<DefaultEventsMap>;
    return new Promise((resolve, reject) => {
      op.emit(ev as string, ...(args as unknown[]), (err: Error | null, responses: unknown[]) => {
        if (responses.length > 0) resolve(responses[0] as never);
        else reject(err ?? new Error("operation has timed out"));
      });
    });
  }

  /** The same socket, whose next acknowledgement fails after `timeout` ms. */
  timeout(timeout: number): RemoteSocket<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return new RemoteSocket(
      this.#adapter,
      { id: this.id, handshake: this.handshake, rooms: [...this.rooms], data: this.data },
      timeout,
    );
  }

  /** Makes the socket join `room` (on its node). */
  join(room: Room | Room[]): void {
    this.#operator().socketsJoin(room);
  }

  /** Makes the socket leave `room` (on its node). */
  leave(room: Room): void {
    this.#operator().socketsLeave(room);
  }

  /** Disconnects the socket (closing its connection with `close`). */
  disconnect(close = false): this {
    this.#operator().disconnectSockets(close);
    return this;
  }
}
