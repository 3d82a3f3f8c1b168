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

/** Listener type of event `Ev`, or a plain function for an unknown map. */
export type EventListener<Map extends EventsMap, Ev extends EventNames<Map>> = Map[Ev];

// biome-ignore lint/suspicious/noExplicitAny: tuple inference needs any.
type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : any;
// biome-ignore lint/suspicious/noExplicitAny: tuple inference needs any.
type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];

/** The value an acknowledgement callback receives first. */
// biome-ignore lint/suspicious/noExplicitAny: callback inference.
export type FirstArg<T> = T extends (arg: infer A, ...rest: any[]) => any ? A : any;

/** Events whose last parameter is an acknowledgement callback. */
export type EventNamesWithAck<
  Map extends EventsMap,
  K extends EventNames<Map> = EventNames<Map>,
> = {
  // biome-ignore lint/suspicious/noExplicitAny: callback detection.
  [P in K]: Last<Parameters<Map[P]>> extends (...args: any[]) => any ? P : never;
}[K];

/** Parameters of an event without its acknowledgement callback. */
export type EventParamsWithoutAck<Map extends EventsMap, Ev extends EventNames<Map>> = AllButLast<
  EventParams<Map, Ev>
>;

/** The acknowledgement callback of an event. */
export type AckCallback<Map extends EventsMap, Ev extends EventNames<Map>> = Last<
  EventParams<Map, Ev>
>;

/** Decorates listener signatures for `timeout(ms).emit`: the ack gets an error first. */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: PrependTimeoutError<Params>) => Result
    : E[K];
};

type PrependTimeoutError<T extends unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R ? (err: Error, ...args: P) => R : T[K];
};

/** For broadcasts with acks: each client's answer is collected into an array. */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: ExpectMultipleResponses<Params>) => Result
    : E[K];
};

type ExpectMultipleResponses<T extends unknown[]> = {
  [K in keyof T]: T[K] extends (...args: infer P) => infer R
    ? P extends [Error, ...infer Rest]
      ? (err: Error, responses: Rest[0][]) => R
      : P extends []
        ? () => R
        : (err: Error, responses: P[0][]) => R
    : T[K];
};

/** What `on`/`once`/`off` accept: an event of the listen map or a reserved one. */
type ListenOrReservedNames<Listen extends EventsMap, Reserved extends EventsMap> =
  | EventNames<Listen>
  | EventNames<Reserved>;

/** The listener of `Ev`: a reserved event's fixed signature wins over the listen map's. */
type ListenOrReservedListener<
  Listen extends EventsMap,
  Reserved extends EventsMap,
  Ev extends ListenOrReservedNames<Listen, Reserved>,
> =
  Ev extends EventNames<Reserved>
    ? Reserved[Ev]
    : Ev extends EventNames<Listen>
      ? Listen[Ev]
      : never;

/** The value a promise of an acknowledgement resolves with (`emitWithAck`). */
export type AckResult<Map extends EventsMap, Ev extends EventNames<Map>> = FirstArg<
  AckCallback<Map, Ev>
>;

/** Event names the server side emits itself and that carry fixed signatures. */
export interface ServerReservedEvents {
  // biome-ignore lint/suspicious/noExplicitAny: socket type is generic.
  connection: (socket: any) => void;
  // biome-ignore lint/suspicious/noExplicitAny: socket type is generic.
  connect: (socket: any) => void;
  // biome-ignore lint/suspicious/noExplicitAny: namespace type is generic.
  new_namespace: (namespace: any) => void;
}

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
