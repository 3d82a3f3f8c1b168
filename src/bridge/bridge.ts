/**
 * The Socket.IO ⇄ Bayeux bridge: routes between a namespace + room + event
 * and a Bayeux channel, both ways, across the nodes of a cluster.
 *
 * - Socket.IO → Bayeux: every broadcast `io.of(N).to(room).emit(event, ...args)`
 *   made on this node (not `io.local`, not with an acknowledgement) is
 *   published on the route's channel. Another node's broadcast is bridged
 *   on that node, so each crosses once in the cluster.
 * - Bayeux → Socket.IO: a publish on the route's channel (or a channel
 *   matching its pattern) accepted on this node, by a client or by
 *   `bayeux.publish`, is emitted as `io.of(N).to(room).emit(event, data)`.
 *   The bridge hears the server's `publish` event, which only this node's
 *   publishes raise: a publish made on another node is bridged there, and a
 *   bridged channel costs no broker subscription.
 * - Origin: what the bridge publishes carries `ext.switchboardOrigin` (the
 *   node id) and is not heard back; what it emits is not shown to
 *   Socket.IO → Bayeux routes. So nothing is bridged back. The mark is
 *   removed from client publishes: a client cannot pass its message off as
 *   a bridged one.
 *
 * Every node of a cluster runs the same routes.
 */
import type { BayeuxExtension } from "../bayeux/server/extensions.js";
import type { BayeuxServer } from "../bayeux/server/server.js";
import type { BayeuxMessage } from "../codec/bayeux/index.js";
import { createDebug } from "../shared/debug.js";
import type { BroadcastOptions } from "../socketio/adapter.js";
import type { Server } from "../socketio/server.js";
import { tapBroadcasts, untapped } from "./broadcast-tap.js";
import { BridgeRouteError } from "./errors.js";
import { argsFromData, dataFromArgs, findBinary } from "./payload.js";
import { type BridgeRoute, type CompiledRoute, compileRoutes } from "./routes.js";

const debug = createDebug("bridge");

/** The `ext` key marking a message the bridge published; its value is the node id. */
export const BRIDGE_ORIGIN_EXT = "switchboardOrigin";

/**
 * Above zero while a bridge publishes on Bayeux: the server's `publish`
 * event it raises (synchronously) is the bridge's own and goes nowhere.
 */
let ownPublish = 0;

/** Why a message did not cross. */
export type RefusedReason = "binary" | "transform" | "publish";

export interface BridgeOptions {
  // biome-ignore lint/suspicious/noExplicitAny: any event maps.
  io: Server<any, any, any, any>;
  bayeux: BayeuxServer;
  routes: readonly BridgeRoute[];
  /** Told of each message that did not cross. */
  onRefused?: (reason: RefusedReason, route: BridgeRoute, detail: string) => void;
}

/** Counters of one bridge. */
export interface BridgeStats {
  /** Socket.IO broadcasts published on a Bayeux channel (one per channel). */
  toBayeux: number;
  /** Bayeux publishes emitted to a Socket.IO room. */
  toSocketIO: number;
  /** Messages that matched a route and did not cross (binary, refused by a transform, publish failed). */
  refused: number;
}

/**
 * A running bridge; {@link Bridge.close} undoes it.
 *
 * @example
 * const link = bridge({ io, bayeux, routes: [{ room: "*", event: "message", channel: "/chat/*" }] });
 * link.stats; // { toBayeux, toSocketIO, refused }
 * link.close();
 */
export class Bridge {
  readonly stats: BridgeStats = { toBayeux: 0, toSocketIO: 0, refused: 0 };
  readonly routes: readonly CompiledRoute[];
  readonly #options: BridgeOptions;
  readonly #undo: (() => void)[] = [];
  #closed = false;

  constructor(options: BridgeOptions) {
    if (options === null || typeof options !== "object" || !options.io || !options.bayeux) {
      throw new BridgeRouteError("ERR_BRIDGE_OPTIONS", -1, "io and bayeux are required");
    }
    // Once per cluster rests on both protocols seeing the same nodes.
    if (options.io.hub.broker !== options.bayeux.hub.broker) {
      throw new BridgeRouteError("ERR_BRIDGE_OPTIONS", -1, "io and bayeux must share one broker");
    }
    this.#options = options;
    this.routes = compileRoutes(options.routes);
    const { io, bayeux } = options;

    const guard: BayeuxExtension = {
      incoming(message: BayeuxMessage): BayeuxMessage {
        if (
          message.ext &&
          BRIDGE_ORIGIN_EXT in message.ext &&
          !message.channel.startsWith("/meta/")
        ) {
          const { [BRIDGE_ORIGIN_EXT]: _forged, ...rest } = message.ext;
          message.ext = rest;
        }
        return message;
      },
    };
    bayeux.addExtension(guard);
    this.#undo.push(() => bayeux.removeExtension(guard));

    const byNamespace = new Map<string, CompiledRoute[]>();
    for (const route of this.routes) {
      if (!route.toBayeux) continue;
      const list = byNamespace.get(route.namespace) ?? [];
      list.push(route);
      byNamespace.set(route.namespace, list);
    }
    const toSocketIO = this.routes.filter((route) => route.toSocketIO);
    if (toSocketIO.length > 0) {
      // The server's `publish` event: publishes accepted on this node only
      // (a client's, or `bayeux.publish`), so no broker subscription is
      // needed and another node's publish is never seen here.
      const onPublish = (_clientId: string | null, channel: string, data: unknown) => {
        if (ownPublish > 0) return;
        for (const route of toSocketIO) {
          try {
            this.#fromBayeux(route, channel, data);
          } catch (err) {
            // The client's publish succeeded; a failed emit must not turn it into an error reply.
            debug("route %d: emitting %s failed: %O", route.index, channel, err);
          }
        }
      };
      bayeux.on("publish", onPublish);
      this.#undo.push(() => bayeux.off("publish", onPublish));
    }
    for (const [namespace, routes] of byNamespace) {
      const nsp = io.of(namespace);
      // A socket's own room (its id) is private: an emit to one socket never crosses.
      const isSocket = (room: string) => nsp.sockets.has(room);
      this.#undo.push(
        tapBroadcasts(nsp.adapter, (event, data, opts) =>
          this.#fromSocketIO(routes, event, data, opts, isSocket),
        ),
      );
    }
  }

  /** Whether {@link Bridge.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops bridging; counters stay readable. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const undo of this.#undo.splice(0).reverse()) undo();
  }

  /** Runs a route's payload mapping; one that throws refuses the message, as undefined does. */
  #transform<T>(route: CompiledRoute, map: () => T | undefined): T | undefined {
    try {
      return map();
    } catch (err) {
      debug("route %d: the payload mapping threw: %O", route.index, err);
      return undefined;
    }
  }

  #refuse(reason: RefusedReason, route: CompiledRoute, detail: string): void {
    this.stats.refused++;
    debug("refused (%s) on route %d: %s", reason, route.index, detail);
    this.#options.onRefused?.(reason, route.route, detail);
  }

  #fromSocketIO(
    routes: readonly CompiledRoute[],
    event: string,
    data: readonly unknown[],
    opts: BroadcastOptions,
    isSocket: (room: string) => boolean,
  ): void {
    if (opts.flags?.local === true || opts.rooms.size === 0) return;
    const { bayeux } = this.#options;
    let published: Set<string> | undefined;
    let args: unknown[] | undefined;
    let binary: string | null | undefined;
    for (const route of routes) {
      if (route.event !== event) continue;
      for (const room of opts.rooms) {
        const channel = route.channelFor(room);
        if (channel === null || published?.has(channel) || isSocket(room)) continue;
        (published ??= new Set()).add(channel);
        args ??= data.slice(1);
        if (binary === undefined) binary = findBinary(args);
        if (binary !== null) {
          this.#refuse("binary", route, `${event} to ${room}: binary at ${binary}`);
          continue;
        }
        const out = this.#transform(route, () =>
          route.route.toBayeux
            ? route.route.toBayeux(args as unknown[], room)
            : dataFromArgs(args as unknown[]),
        );
        if (out === undefined) {
          this.#refuse("transform", route, `${event} to ${room}`);
          continue;
        }
        ownPublish++;
        try {
          bayeux.publish(channel, out, { ext: { [BRIDGE_ORIGIN_EXT]: bayeux.nodeId } });
          this.stats.toBayeux++;
        } catch (err) {
          // A closing Bayeux server must not fail the Socket.IO emit.
          this.#refuse("publish", route, `${channel}: ${(err as Error).message}`);
        } finally {
          ownPublish--;
        }
      }
    }
  }

  #fromBayeux(route: CompiledRoute, channel: string, data: unknown): void {
    const room = route.roomFor(channel);
    if (room === null) return;
    const args = this.#transform(route, () =>
      route.route.toSocketIO ? route.route.toSocketIO(data, channel) : argsFromData(data),
    );
    if (args === undefined) {
      this.#refuse("transform", route, `${channel} to ${room}`);
      return;
    }
    const target = this.#options.io.of(route.namespace).to(room) as unknown as {
      emit(event: string, ...args: unknown[]): boolean;
    };
    untapped(() => target.emit(route.event, ...args));
    this.stats.toSocketIO++;
  }
}

/**
 * Bridges Socket.IO rooms and Bayeux channels; throws {@link BridgeRouteError}
 * on a wrong route.
 *
 * @example
 * import { bridge } from "switchboard";
 * const link = bridge({
 *   io,
 *   bayeux,
 *   routes: [
 *     { room: "lobby", event: "message", channel: "/chat/lobby" },
 *     { room: "*", event: "news", channel: "/news/*", direction: "to-socketio" },
 *   ],
 * });
 */
export function bridge(options: BridgeOptions): Bridge {
  return new Bridge(options);
}
