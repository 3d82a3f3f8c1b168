/** The pure Bayeux 1.0 codec: messages, channel grammar, wildcards, error codes. */
export { DEFAULT_MAX_PAYLOAD_DEPTH, jsonDepthExceeds, valueDepthExceeds } from "../json-depth.js";
export {
  channelMatches,
  isChannelName,
  isChannelPattern,
  isMetaChannel,
  isServiceChannel,
  isSubscribable,
  MAX_CHANNEL_LENGTH,
  wildcardPatterns,
} from "./channel.js";
export {
  BAYEUX_ERRORS,
  BayeuxEncodeError,
  type BayeuxErrorCode,
  type BayeuxErrorName,
  BayeuxParseError,
  bayeuxError,
  type ParsedBayeuxError,
  parseBayeuxError,
} from "./errors.js";
export {
  type BayeuxAdvice,
  type BayeuxMessage,
  checkMessage,
  type DecodeLimits,
  decodeBatch,
  encodeBatch,
  parseErrorReplies,
} from "./message.js";

/** The protocol version this server speaks (Bayeux 1.0 section 3.8). */
export const BAYEUX_VERSION = "1.0";

/** Meta channels (section 2.2.2). */
export const META = {
  handshake: "/meta/handshake",
  connect: "/meta/connect",
  subscribe: "/meta/subscribe",
  unsubscribe: "/meta/unsubscribe",
  disconnect: "/meta/disconnect",
} as const;
