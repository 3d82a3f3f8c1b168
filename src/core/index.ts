/** The message core shared by the Socket.IO and Bayeux servers. */
export {
  type DecodedEnvelope,
  decodeEnvelope,
  ENVELOPE_VERSION,
  type Envelope,
  EnvelopeError,
  encodeEnvelope,
} from "./envelope.js";
export {
  Hub,
  type HubReply,
  type HubRequestResult,
  type HubResponder,
  HubSpace,
  type HubStats,
  type SpaceHandler,
  type SpaceOptions,
} from "./hub.js";
export { TopicRouter, type TopicRouterHooks } from "./topic-router.js";
export { bayeuxTopic, sioTopic } from "./topics.js";
