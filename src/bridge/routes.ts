/**
 * Bridge routes: what a user writes, checked and turned into the two pure
 * mappings the bridge needs, room → channel (Socket.IO → Bayeux) and
 * channel → room (Bayeux → Socket.IO).
 *
 * A room may hold one `*`, standing for the wildcard part of the channel:
 * with `channel: "/chat/*"`, `room: "*"` maps room `lobby` ⇄ `/chat/lobby`
 * and `room: "chat:*"` maps room `chat:lobby` ⇄ `/chat/lobby`. Under `/**`
 * the part may span segments (`/chat/a/b` ⇄ room `a/b`). A room whose part
 * is not a channel segment (Bayeux 1.0 section 2.2: letters, digits and
 * `-_!~()$@`) is not bridged. A fixed room with a wildcard channel receives
 * every matching channel, in one direction only (to Socket.IO).
 */
import {
  channelMatches,
  isChannelName,
  isChannelPattern,
  isMetaChannel,
  isServiceChannel,
  isSubscribable,
} from "../codec/bayeux/channel.js";
import { RESERVED_EVENTS } from "../codec/socketio/index.js";
import { BridgeRouteError } from "./errors.js";

/** Which way a route carries messages. */
export type BridgeDirection = "both" | "to-bayeux" | "to-socketio";

/**
 * One mapping between a Socket.IO namespace + room + event and a Bayeux
 * channel.
 *
 * @example
 * { namespace: "/", room: "lobby", event: "message", channel: "/chat/lobby" }
 * { room: "*", event: "message", channel: "/chat/*" } // every room ⇄ /chat/<room>
 */
export interface BridgeRoute {
  /** Socket.IO namespace. Default `/`. */
  namespace?: string;
  /** Socket.IO room; one `*` stands for the channel's wildcard part. */
  room: string;
  /** Socket.IO event name. */
  event: string;
  /** Bayeux channel, or a pattern (`/a/*`, `/a/**`). */
  channel: string;
  /** Default `"both"`. */
  direction?: BridgeDirection;
  /**
   * Turns a Socket.IO broadcast's arguments into Bayeux `data`; returning
   * undefined refuses the message (counted in `stats.refused`). Default: one
   * argument is the data, several are an array.
   */
  toBayeux?: (args: unknown[], room: string) => unknown;
  /**
   * Turns Bayeux `data` into the Socket.IO event's arguments; returning
   * undefined refuses the message. Default: `[data]`, one argument.
   */
  toSocketIO?: (data: unknown, channel: string) => unknown[] | undefined;
}

const SEGMENT = /^[A-Za-z0-9\-_!~()$@]+$/;
const DIRECTIONS: ReadonlySet<string> = new Set(["both", "to-bayeux", "to-socketio"]);

/** A checked route with its two mappings. */
export class CompiledRoute {
  readonly index: number;
  readonly namespace: string;
  readonly room: string;
  readonly event: string;
  readonly channel: string;
  readonly direction: BridgeDirection;
  readonly toBayeux: boolean;
  readonly toSocketIO: boolean;
  readonly route: BridgeRoute;
  /** The room around its `*`, or null for a fixed room. */
  readonly #roomParts: readonly [string, string] | null;
  /** The channel before its wildcard (`/chat/` for `/chat/*`), or null for a concrete channel. */
  readonly #channelPrefix: string | null;
  readonly #deep: boolean;

  constructor(route: BridgeRoute, index: number) {
    if (route === null || typeof route !== "object") {
      throw new BridgeRouteError("ERR_BRIDGE_OPTIONS", index, "a route must be an object");
    }
    const namespace = route.namespace ?? "/";
    if (typeof namespace !== "string" || !namespace.startsWith("/")) {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_NAMESPACE", index, String(namespace));
    }
    const { room, event, channel } = route;
    if (typeof room !== "string" || room.length === 0 || room.split("*").length > 2) {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_ROOM", index, String(room));
    }
    if (typeof event !== "string" || event.length === 0 || RESERVED_EVENTS.has(event)) {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_EVENT", index, String(event));
    }
    if (!isSubscribable(channel) || isMetaChannel(channel) || isServiceChannel(channel)) {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_CHANNEL", index, String(channel));
    }
    const direction = route.direction ?? "both";
    if (!DIRECTIONS.has(direction)) {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_DIRECTION", index, String(direction));
    }
    const star = room.indexOf("*");
    const pattern = isChannelPattern(channel);
    if (star >= 0 && !pattern) {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_WILDCARD", index, `${room} with ${channel}`);
    }
    if (star < 0 && pattern && direction !== "to-socketio") {
      throw new BridgeRouteError("ERR_BRIDGE_ROUTE_WILDCARD", index, `${room} with ${channel}`);
    }
    this.index = index;
    this.namespace = namespace;
    this.room = room;
    this.event = event;
    this.channel = channel;
    this.direction = direction;
    this.toBayeux = direction !== "to-socketio";
    this.toSocketIO = direction !== "to-bayeux";
    this.route = route;
    this.#roomParts = star < 0 ? null : [room.slice(0, star), room.slice(star + 1)];
    this.#deep = channel.endsWith("/**");
    this.#channelPrefix = pattern ? channel.slice(0, channel.lastIndexOf("/") + 1) : null;
  }

  /** Whether two routes would bridge the same messages twice. */
  sameAs(other: CompiledRoute): boolean {
    return (
      this.namespace === other.namespace &&
      this.room === other.room &&
      this.event === other.event &&
      this.channel === other.channel
    );
  }

  /**
   * The channel a broadcast to `room` is published on, or null when this
   * route does not carry that room to Bayeux.
   *
   * @example
   * new CompiledRoute({ room: "chat:*", event: "m", channel: "/chat/*" }, 0).channelFor("chat:tea"); // "/chat/tea"
   */
  channelFor(room: string): string | null {
    if (!this.toBayeux) return null;
    const parts = this.#roomParts;
    if (parts === null) return room === this.room ? this.channel : null;
    const [head, tail] = parts;
    if (room.length <= head.length + tail.length) return null;
    if (!room.startsWith(head) || !room.endsWith(tail)) return null;
    const part = room.slice(head.length, room.length - tail.length);
    const segments = part.split("/");
    if (!this.#deep && segments.length !== 1) return null;
    if (!segments.every((segment) => SEGMENT.test(segment))) return null;
    const channel = `${this.#channelPrefix}${part}`;
    if (!isChannelName(channel) || isMetaChannel(channel) || isServiceChannel(channel)) return null;
    return channel;
  }

  /**
   * The room a publish on `channel` is emitted to, or null when this route
   * does not carry that channel to Socket.IO.
   *
   * @example
   * new CompiledRoute({ room: "*", event: "m", channel: "/chat/**" }, 0).roomFor("/chat/a/b"); // "a/b"
   */
  roomFor(channel: string): string | null {
    if (!this.toSocketIO) return null;
    const prefix = this.#channelPrefix;
    if (prefix === null) return channel === this.channel ? this.room : null;
    if (!channelMatches(this.channel, channel)) return null;
    const parts = this.#roomParts;
    if (parts === null) return this.room;
    return `${parts[0]}${channel.slice(prefix.length)}${parts[1]}`;
  }
}

/**
 * Checks routes; throws {@link BridgeRouteError} on the first wrong one.
 *
 * @example
 * compileRoutes([{ room: "lobby", event: "message", channel: "/chat/lobby" }]);
 */
export function compileRoutes(routes: readonly BridgeRoute[]): CompiledRoute[] {
  if (!Array.isArray(routes) || routes.length === 0) {
    throw new BridgeRouteError("ERR_BRIDGE_OPTIONS", -1, "routes is empty");
  }
  const out: CompiledRoute[] = [];
  routes.forEach((route, index) => {
    const compiled = new CompiledRoute(route, index);
    const twin = out.find((other) => other.sameAs(compiled));
    if (twin !== undefined) {
      throw new BridgeRouteError(
        "ERR_BRIDGE_ROUTE_DUPLICATE",
        index,
        `same as route ${twin.index}`,
      );
    }
    out.push(compiled);
  });
  return out;
}
