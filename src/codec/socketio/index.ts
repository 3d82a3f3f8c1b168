/** Socket.IO v5 packet codec: pure encode/decode, binary attachments, strict validation. */
export { DEFAULT_MAX_PAYLOAD_DEPTH, jsonDepthExceeds } from "../json-depth.js";
export { Decoder, type DecoderOptions } from "./decoder.js";
export { encodePacket, hasBinary } from "./encoder.js";
export {
  SOCKETIO_ERRORS,
  SocketIOEncodeError,
  type SocketIOErrorCode,
  SocketIOProtocolError,
} from "./errors.js";
export {
  CLIENT_RESERVED_EVENTS,
  isPlaceholder,
  isPlainObject,
  type Packet,
  PacketType,
  type Placeholder,
  RESERVED_EVENTS,
} from "./packet.js";
export { safeJsonParse, sanitizeRecord } from "./safe-json.js";
