/**
 * `switchboard/bayeux-client`: a Bayeux 1.0 client for Node 20+ and browsers.
 *
 * @example
 * import { BayeuxClient } from "switchboard/bayeux-client";
 *
 * const client = new BayeuxClient({ host: "127.0.0.1", port: 8000 });
 * await client.init();
 * await client.subscribe("/chat/demo", (message) => console.log(message.data));
 * await client.publish("/chat/demo", { user: "ada", chat: "has joined" });
 */
export { AckExtension } from "./ack-extension.js";
export { Backoff, type BackoffOptions } from "./backoff.js";
export { BayeuxClient } from "./client.js";
export {
  BayeuxCallbackError,
  BayeuxChannelError,
  BayeuxClientError,
  BayeuxDisconnectedError,
  BayeuxMessageDroppedError,
  BayeuxReplyError,
  BayeuxTimeoutError,
  BayeuxTransportError,
  BayeuxUnhandledMessageError,
  OfflineQueueFullError,
  UNKNOWN_CLIENT_CODES,
} from "./errors.js";
export type { BayeuxClientEvents, ClientState } from "./events.js";
export type { BayeuxClientOptions } from "./options.js";
export { Subscription } from "./subscriptions.js";
export type {
  BayeuxAdvice,
  BayeuxExtension,
  BayeuxMessage,
  Clock,
  ConnectionType,
  DeliveredMessage,
  ExtensionResult,
  SubscriptionCallback,
} from "./types.js";
