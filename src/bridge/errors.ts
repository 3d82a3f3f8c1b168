/**
 * Errors of the Socket.IO ⇄ Bayeux bridge. A route is checked when the bridge
 * is made, so a wrong route fails at start-up with a code saying which part
 * is wrong, never later on a message.
 */
import { SwitchboardError } from "../shared/errors.js";

/** Codes of {@link BridgeRouteError}, with what each means. */
export const BRIDGE_ROUTE_ERRORS = {
  ERR_BRIDGE_ROUTE_NAMESPACE: "namespace must be a string starting with '/'",
  ERR_BRIDGE_ROUTE_ROOM: "room must be a non-empty string with at most one '*'",
  ERR_BRIDGE_ROUTE_EVENT: "event must be a non-empty string and not a reserved Socket.IO event",
  ERR_BRIDGE_ROUTE_CHANNEL:
    "channel must be a Bayeux channel name or pattern (/a/b, /a/*, /a/**) outside /meta and /service",
  ERR_BRIDGE_ROUTE_DIRECTION: 'direction must be "both", "to-bayeux" or "to-socketio"',
  ERR_BRIDGE_ROUTE_WILDCARD:
    "a '*' in the room needs a wildcard channel, and a wildcard channel with a fixed room only goes to Socket.IO",
  ERR_BRIDGE_ROUTE_DUPLICATE: "the same namespace, room, event and channel are routed twice",
  ERR_BRIDGE_OPTIONS: "bridge options need io, bayeux and at least one route",
} as const;

export type BridgeRouteErrorCode = keyof typeof BRIDGE_ROUTE_ERRORS;

/**
 * A bridge route (or the bridge's options) is invalid. `index` is the
 * position of the route in `routes`, -1 for the options themselves.
 *
 * @example
 * try { bridge({ io, bayeux, routes: [{ room: "a", event: "m", channel: "/meta/x" }] }); }
 * catch (err) { if (err instanceof BridgeRouteError) console.log(err.code); } // ERR_BRIDGE_ROUTE_CHANNEL
 */
export class BridgeRouteError extends SwitchboardError {
  declare readonly code: BridgeRouteErrorCode;
  readonly index: number;

  constructor(code: BridgeRouteErrorCode, index: number, detail?: string) {
    const where = index >= 0 ? `bridge route ${index}: ` : "bridge: ";
    super(code, `${where}${BRIDGE_ROUTE_ERRORS[code]}${detail ? ` (${detail})` : ""}`);
    this.index = index;
  }
}
