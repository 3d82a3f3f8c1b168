/** The client's life-cycle states and events. */
import type { BayeuxMessage, ConnectionType } from "./types.js";

/** Where the client is in its life cycle. */
export type ClientState =
  | "disconnected"
  | "handshaking"
  | "connecting"
  | "connected"
  | "disconnecting";

/** Events of a {@link BayeuxClient}. */
export interface BayeuxClientEvents {
  /** A `/meta/connect` succeeded after a handshake or an outage. */
  connected: [clientId: string];
  /** The connection was lost (`error` set; the client reconnects) or ended by `disconnect()`. */
  disconnected: [error: Error | null];
  /** The next attempt is due in `delay` ms; `attempt` counts consecutive failures. */
  reconnecting: [delay: number, attempt: number, error: Error];
  /** A new connection type is in use. */
  transport: [type: ConnectionType];
  /** A failure the caller may want to know of: refused requests, throwing callbacks, unhandled deliveries. */
  error: [error: Error, message?: BayeuxMessage];
}
