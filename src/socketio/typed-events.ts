/**
 * Typed event maps, as socket.io declares them: an application describes the
 * events each side may send, and `on`/`emit` check names and arguments.
 *
 * @example
 * interface ServerToClient { news: (title: string) => void }
 * interface ClientToServer { ping: (cb: (ms: number) => void) => void }
 * const io = new Server<ClientToServer, ServerToClient>();
 * io.on("connection", (socket) => socket.emit("news", "hello"));
 */
import { EventEmitter } from "node:events";
import { useCompactListenerTable } from "../shared/listener-table.js";

/** A map of event names to listener signatures. */
// biome-ignore lint/suspicious/noExplicitAny: event maps are user-defined signatures, as in socket.io.
export type EventsMap = { [event: string]: any };

/** The map used when none is given: any event, any arguments. */
export interface DefaultEventsMap {
  // biome-ignore lint/suspicious/noExplicitAny: the untyped default accepts anything.
  [event: string]: (...args: any[]) => void;
}

export type EventNames<Map extends EventsMap> = keyof Map & (string | symbol);

export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

/** `true` for `any` only: an untyped map must keep every check open, not close them all. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** The type of the last element of a tuple (the element type of an array). */
export type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L]
  ? L
  : T extends readonly (infer E)[]
    ? E
    : never;

/** A tuple without its last element (for an untyped list, `any[]`, as in socket.io). */
export type AllButLast<T extends readonly unknown[]> = T extends readonly [...infer H, unknown]
  ? H
  : // biome-ignore lint/suspicious/noExplicitAny: the untyped case.
    any[];

/** Whether a listener ends with an acknowledgement callback: "ack", "none", or "any" (untyped). */
type AckKind<F> =
  IsAny<F> extends true
    ? "any"
    : F extends (...args: infer P) => unknown
      ? IsAny<Last<P>> extends true
        ? "any"
        : P extends readonly []
          ? "none"
          : Last<P> extends (...args: never[]) => unknown
            ? "ack"
            : "none"
      : "none";

/** Events whose listener ends with an acknowledgement callback (every event of an untyped map). */
export type EventNamesWithAck<
  Map extends EventsMap,
  K extends EventNames<Map> = EventNames<Map>,
> = K extends unknown ? (AckKind<Map[K]> extends "none" ? never : K) : never;

/** Events whose listener has no acknowledgement callback (every event of an untyped map). */
export type EventNamesWithoutAck<
  Map extends EventsMap,
  K extends EventNames<Map> = EventNames<Map>,
> = K extends unknown ? (AckKind<Map[K]> extends "ack" ? never : K) : never;

/** Events with an acknowledgement whose callback receives an error first (after `timeout()`). */
export type EventNamesWithError<
  Map extends EventsMap,
  K extends EventNamesWithAck<Map> = EventNamesWithAck<Map>,
> = K extends unknown
  ? AckKind<Map[K]> extends "any"
    ? K
    : Last<Parameters<Map[K]>> extends (err: infer E, ...rest: never[]) => unknown
      ? [E] extends [Error]
        ? K
        : never
      : never
  : never;

/** The map without its acknowledged events: what a broadcast without `timeout()` may send. */
export type RemoveAcknowledgements<Map extends EventsMap> = {
  [K in EventNamesWithoutAck<Map>]: Map[K];
};

/** The value an acknowledgement delivers: its first argument that is not the timeout error. */
export type FirstNonErrorArg<F> = F extends (...args: infer P) => unknown
  ? P[0] extends Error
    ? P[1]
    : P[0]
  : // biome-ignore lint/suspicious/noExplicitAny: an untyped callback delivers anything.
    any;

/** Each callback argument gets the timeout error first (unless it takes an error first already). */
type PrependTimeoutError<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R
    ? P[0] extends Error
      ? T[K]
      : (err: Error, ...args: P) => R
    : T[K];
};

/**
 * Each callback argument receives one value per client: the first value after the optional
 * error becomes an array (a broadcast's acknowledgement collects every recipient's answer).
 */
type ExpectMultipleResponses<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R
    ? P extends [Error]
      ? (err: Error) => R
      : P extends [Error, infer First, ...unknown[]]
        ? (err: Error, responses: First[]) => R
        : P extends []
          ? () => R
          : (responses: P[0][]) => R
    : T[K];
};

/**
 * Listener signatures for `timeout(ms).emit`: an acknowledgement then receives an error first
 * (the timeout breaks the symmetry between the sender's and the receiver's callback).
 */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: PrependTimeoutError<P>) => R
    : E[K];
};

/** Listener signatures for a broadcast: an acknowledgement receives one value per client. */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: ExpectMultipleResponses<P>) => R
    : E[K];
};

/** Both: an error first, then one value per answering server (`serverSideEmit`). */
export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R
    ? (...args: ExpectMultipleResponses<PrependTimeoutError<P>>) => R
    : E[K];
};

/** What `on`/`once`/`off` accept: an event of the listen map or a reserved one. */
type ListenOrReservedNames<Listen extends EventsMap, Reserved extends EventsMap> =
  | EventNames<Listen>
  | EventNames<Reserved>;

/**
 * The listener of `Ev`: a reserved event's fixed signature wins over the listen map's. When
 * no single signature applies (`never`, e.g. for a name of a wide type), any listener is taken,
 * as socket.io does.
 */
type ListenOrReservedListener<
  Listen extends EventsMap,
  Reserved extends EventsMap,
  Ev extends ListenOrReservedNames<Listen, Reserved>,
> = UntypedIfNever<
  Ev extends EventNames<Reserved>
    ? Reserved[Ev]
    : Ev extends EventNames<Listen>
      ? Listen[Ev]
      : never
>;

// biome-ignore lint/suspicious/noExplicitAny: the untyped fallback listener.
type UntypedIfNever<T> = [T] extends [never] ? (...args: any[]) => void | Promise<void> : T;

/**
 * An EventEmitter whose `on`/`once`/`off` accept the listen map's events or the
 * reserved ones, and whose public `emit` checks the emit map. `emitReserved`
 * raises the reserved events internally.
 */
export abstract class StrictEventEmitter<
  ListenEvents extends EventsMap,
  _EmitEvents extends EventsMap,
  ReservedEvents extends EventsMap = {},
> extends EventEmitter {
  constructor() {
    super();
    // One per socket: a compact listener table instead of Node's hash table.
    useCompactListenerTable(this);
  }

  override on<Ev extends ListenOrReservedNames<ListenEvents, ReservedEvents>>(
    ev: Ev,
    listener: ListenOrReservedListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    return super.on(ev, listener);
  }

  override once<Ev extends ListenOrReservedNames<ListenEvents, ReservedEvents>>(
    ev: Ev,
    listener: ListenOrReservedListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    return super.once(ev, listener);
  }

  override off<Ev extends ListenOrReservedNames<ListenEvents, ReservedEvents>>(
    ev: Ev,
    listener: ListenOrReservedListener<ListenEvents, ReservedEvents, Ev>,
  ): this {
    return super.off(ev, listener);
  }

  /** Raises a reserved event (not sent over the wire). */
  protected emitReserved<Ev extends EventNames<ReservedEvents>>(
    ev: Ev,
    ...args: EventParams<ReservedEvents, Ev>
  ): boolean {
    return super.emit(ev, ...args);
  }

  /** Raises a listen-map event locally (an event received from the peer). */
  protected emitUntyped(ev: string, ...args: unknown[]): boolean {
    return super.emit(ev, ...args);
  }
}
