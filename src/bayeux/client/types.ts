/**
 * Types shared by the client's files: messages (from the codec), connection
 * types, the injectable clock, and the extension shape.
 */
import type { BayeuxAdvice, BayeuxMessage } from "../../codec/bayeux/index.js";

export type { BayeuxAdvice, BayeuxMessage };

/** Connection types this client implements (Bayeux 1.0 section 3.9 and appendix). */
export type ConnectionType = "websocket" | "long-polling" | "callback-polling";

/** Every connection type, in the default order of preference. */
export const CONNECTION_TYPES: readonly ConnectionType[] = [
  "websocket",
  "long-polling",
  "callback-polling",
];

/** A timer handle as returned by the clock. */
export type TimerHandle = unknown;

/**
 * Time source and timers, injectable so tests can drive backoff and
 * timeouts without sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Its timers keep a Node process alive on purpose: a client
 * waiting to reconnect is still working; `disconnect()` clears them all.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/**
 * What an extension hook returns: a message (possibly a new object) to go
 * on with, `null` to drop the message, or nothing to keep the one it was
 * given (changed in place or not). A promise of any of these is awaited.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: lets a hook with a block body (no return) type-check
export type ExtensionResult = BayeuxMessage | null | undefined | void;

/**
 * A client extension (Bayeux 1.0 section 3.12.1, "ext"): `outgoing` sees
 * every message before it is sent, `incoming` every message received, meta
 * replies included.
 *
 * @example
 * client.addExtension({
 *   outgoing(message) {
 *     if (message.channel === "/meta/handshake") message.ext = { ...message.ext, token: "t" };
 *   },
 * });
 */
export interface BayeuxExtension {
  incoming?(message: BayeuxMessage): ExtensionResult | Promise<ExtensionResult>;
  outgoing?(message: BayeuxMessage): ExtensionResult | Promise<ExtensionResult>;
}

/** A message delivered to a subscriber: a publication on a channel (section 3.4.2). */
export interface DeliveredMessage extends BayeuxMessage {
  data: unknown;
}

/** What `subscribe()` calls for every matching delivery. */
export type SubscriptionCallback = (message: DeliveredMessage) => void;
