/**
 * Socket.IO v5 packet model (socket.io-protocol, "Packet format").
 *
 * A packet travels as one Engine.IO `message`: a text header and JSON payload,
 * followed — for the two binary types — by one Engine.IO binary message per
 * attachment. The header is
 * `<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]`.
 */

/** Packet types, numbered as in the protocol. */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** A decoded (or to-be-encoded) Socket.IO packet. */
export interface Packet {
  type: PacketType;
  /** Namespace, `/` for the main one. */
  nsp: string;
  /** Acknowledgement id, present when the sender awaits an ACK. */
  id?: number;
  /** JSON payload: an object (CONNECT), an array (EVENT/ACK), a string or object (CONNECT_ERROR). */
  data?: unknown;
  /** Number of binary attachments (binary types only). */
  attachments?: number;
}

/**
 * Event names a client may not send: they name lifecycle events of the socket
 * on one side or the other (socket.io-protocol, "EVENT" packet).
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/**
 * Event names a server refuses from a client: the reserved ones plus "error",
 * which names the server socket's own error event (an EventEmitter throws when
 * "error" has no listener).
 */
export const CLIENT_RESERVED_EVENTS: ReadonlySet<string> = new Set([...RESERVED_EVENTS, "error"]);

/** The placeholder object that stands for attachment `num` inside a binary packet's JSON. */
export interface Placeholder {
  _placeholder: true;
  num: number;
}

/** Whether a decoded JSON value is an attachment placeholder. */
export function isPlaceholder(value: unknown): value is Placeholder {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Placeholder)._placeholder === true &&
    typeof (value as Placeholder).num === "number"
  );
}

/** Whether a value is a plain JSON object (not an array, not null, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return Object.prototype.toString.call(value) === "[object Object]";
}
