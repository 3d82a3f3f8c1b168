/**
 * Socket.IO decoding errors. Each code is data: the code, a message, and the
 * close reason the server uses when a client sends such a packet ("parse
 * error", as socket.io closes the client on any undecodable packet).
 */
import { ProtocolError, SwitchboardError } from "../../shared/errors.js";

/** Codes of Socket.IO packet decoding errors, with their messages. */
export const SOCKETIO_ERRORS = {
  ERR_SIO_UNKNOWN_TYPE: "unknown packet type",
  ERR_SIO_EMPTY_PACKET: "empty packet",
  ERR_SIO_BAD_ATTACHMENTS: "illegal attachment count",
  ERR_SIO_TOO_MANY_ATTACHMENTS: "too many attachments",
  ERR_SIO_BAD_NAMESPACE: "invalid namespace",
  ERR_SIO_BAD_ACK_ID: "invalid acknowledgement id",
  ERR_SIO_BAD_JSON: "invalid JSON payload",
  ERR_SIO_BAD_PAYLOAD: "invalid payload for packet type",
  ERR_SIO_BAD_EVENT_NAME: "event name must be a string",
  ERR_SIO_RESERVED_EVENT: "reserved event name",
  ERR_SIO_BAD_PLACEHOLDER: "invalid attachment placeholder",
  ERR_SIO_UNEXPECTED_BINARY: "unexpected binary message",
  ERR_SIO_UNEXPECTED_TEXT: "text message while awaiting attachments",
  ERR_SIO_TOO_DEEP: "payload nested too deeply",
} as const;

export type SocketIOErrorCode = keyof typeof SOCKETIO_ERRORS;

/**
 * A Socket.IO packet that does not follow the protocol. The server answers it
 * by closing the client with reason `closeReason` ("forced close", as socket.io 4.8
 * does: its client closes the engine connection on a decode error).
 */
export class SocketIOProtocolError extends ProtocolError {
  declare readonly code: SocketIOErrorCode;
  readonly closeReason = "forced close" as const;

  constructor(code: SocketIOErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(code, detail ? `${SOCKETIO_ERRORS[code]}: ${detail}` : SOCKETIO_ERRORS[code], options);
  }
}

/**
 * A packet that cannot be encoded: its payload is circular, holds a BigInt,
 * has a `toJSON` that throws, or nests too deep for `JSON.stringify`. The
 * original error is the `cause`. Nothing of the packet was sent.
 */
export class SocketIOEncodeError extends SwitchboardError {
  declare readonly code: "ERR_SIO_UNENCODABLE";

  constructor(cause: unknown) {
    super(
      "ERR_SIO_UNENCODABLE",
      `packet cannot be encoded: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}
