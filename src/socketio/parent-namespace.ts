/**
 * Dynamic namespaces: `io.of(/regex/)` or `io.of((name, auth, next) => ...)`
 * registers a parent; a client connecting to a matching name creates a child
 * namespace that inherits the parent's middlewares and connection listeners.
 * Broadcasting on the parent reaches every child.
 */
import type { Packet } from "../codec/socketio/index.js";
import { Adapter, type BroadcastOptions, type FetchedSockets } from "./adapter.js";
import { Namespace } from "./namespace.js";
import type { Server } from "./server.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";

/** Decides whether namespace `name` may be created for a client. */
export type ParentNspNameMatchFn = (
  name: string,
  // biome-ignore lint/suspicious/noExplicitAny: auth is whatever the client sent.
  auth: { [key: string]: any },
  next: (err: Error | null, success: boolean) => void,
) => void;

/** Forwards the parent's broadcasts to each child's own adapter. */
class ParentBroadcastAdapter extends Adapter {
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    for (const child of (this.nsp as ParentNamespace).children) {
      child.adapter.broadcast({ ...packet }, opts);
    }
  }

  override fetchSockets(opts: BroadcastOptions): Promise<FetchedSockets> {
    const children = [...(this.nsp as ParentNamespace).children];
    return Promise.all(children.map((child) => child.adapter.fetchSockets(opts))).then((lists) => {
      const missing = new Set(lists.flatMap((list) => (list as FetchedSockets).missing ?? []));
      return Object.defineProperty(lists.flat(), "missing", {
        value: [...missing],
        enumerable: false,
      }) as FetchedSockets;
    });
  }

  override addSockets(opts: BroadcastOptions, rooms: string[]): void {
    for (const child of (this.nsp as ParentNamespace).children)
      child.adapter.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: string[]): void {
    for (const child of (this.nsp as ParentNamespace).children)
      child.adapter.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const child of (this.nsp as ParentNamespace).children) {
      child.adapter.disconnectSockets(opts, close);
    }
  }
}

let count = 0;

/**
 * @example
 * io.of(/^\/workspace-\d+$/).on("connection", (socket) => {
 *   socket.nsp.name; // "/workspace-42"
 * });
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  // biome-ignore lint/suspicious/noExplicitAny: socket.io's default SocketData.
  SocketData = any,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  readonly children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();

  // biome-ignore lint/suspicious/noExplicitAny: the server's own maps are any.
  constructor(server: Server<any, any, any, any>) {
    super(server, `/_${count++}`);
  }

  override _initAdapter(): void {
    this.adapter = new ParentBroadcastAdapter(this as never);
  }

  /** Creates (and registers) the child namespace `name`. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(
      this.server,
      name,
    );
    child._fns = this._fns.slice();
    for (const event of ["connect", "connection"] as const) {
      for (const listener of this.listeners(event)) {
        child.on(event, listener as never);
      }
    }
    this.children.add(child);
    if (this.server._opts.cleanupEmptyChildNamespaces) {
      const remove = child._remove.bind(child);
      child._remove = (socket) => {
        remove(socket);
        if (child.sockets.size === 0) {
          void child.adapter.close();
          this.server._nsps.delete(child.name);
          this.children.delete(child);
        }
      };
    }
    this.server._nsps.set(name, child);
    this.server._emitNewNamespace(child);
    return child;
  }
}
