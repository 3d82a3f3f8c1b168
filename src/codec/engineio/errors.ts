/**
 * Errors raised by the Engine.IO codec for input that does not follow the
 * protocol (https://github.com/socketio/engine.io-protocol). The transport
 * turns them into a "parse error" close of the session; they never escape.
 */
import { ProtocolError } from "../../shared/errors.js";

/** Why a packet or payload was rejected, as a stable string code. */
export type EngineParseErrorCode =
  | "ERR_EIO_EMPTY_PACKET"
  | "ERR_EIO_UNKNOWN_PACKET_TYPE"
  | "ERR_EIO_BAD_BASE64"
  | "ERR_EIO_BAD_LENGTH"
  | "ERR_EIO_TRUNCATED_PAYLOAD";

export class EngineParseError extends ProtocolError {
  declare readonly code: EngineParseErrorCode;

  constructor(code: EngineParseErrorCode, message: string) {
    super(code, message);
  }
}
