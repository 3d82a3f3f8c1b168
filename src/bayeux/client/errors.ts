/**
 * Errors the Bayeux client raises or hands to callbacks. Each has a stable
 * string `code`; a refused request also carries the server's reply and its
 * parsed `error` field (Bayeux 1.0 section 3.1.1: `code:args:message`).
 */
import {
  type BayeuxMessage,
  type ParsedBayeuxError,
  parseBayeuxError,
} from "../../codec/bayeux/index.js";
import { LimitExceededError, SwitchboardError } from "../../shared/errors.js";

/**
 * Codes a server uses for "this clientId is unknown (expired or never
 * handshaken)": `402` in the specification's example, CometD and Switchboard,
 * `401` in Faye's table. Either one, like `advice.reconnect = "handshake"`,
 * makes the client handshake again and restore its subscriptions.
 */
export const UNKNOWN_CLIENT_CODES: ReadonlySet<number> = new Set([401, 402]);

/** Base class of the client's errors. */
export class BayeuxClientError extends SwitchboardError {}

/**
 * The server answered with `successful: false`. `bayeuxError` is the parsed
 * `error` field when it follows the grammar, and `reply` the whole message.
 *
 * @example
 * try {
 *   await client.publish("/chat", { text: "hi" });
 * } catch (err) {
 *   if (err instanceof BayeuxReplyError) console.log(err.bayeuxError?.code);
 * }
 */
export class BayeuxReplyError extends BayeuxClientError {
  readonly reply: BayeuxMessage;
  readonly bayeuxError: ParsedBayeuxError | undefined;

  constructor(reply: BayeuxMessage) {
    const field = typeof reply.error === "string" ? reply.error : "";
    const parsed = field ? parseBayeuxError(field) : undefined;
    super("ERR_BAYEUX_REPLY", `${reply.channel} failed: ${field || "unsuccessful reply"}`);
    this.reply = reply;
    this.bayeuxError = parsed;
  }

  /** Whether the server no longer knows this client, so a new handshake is due. */
  get unknownClient(): boolean {
    return (
      this.reply.advice?.reconnect === "handshake" ||
      (this.bayeuxError !== undefined && UNKNOWN_CLIENT_CODES.has(this.bayeuxError.code))
    );
  }
}

/** A transport could not carry a message: network error, HTTP status, socket closed, bad body. */
export class BayeuxTransportError extends BayeuxClientError {
  /** HTTP status when the server answered with one other than 200. */
  readonly status: number | undefined;

  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super("ERR_BAYEUX_TRANSPORT", message, options);
    this.status = options?.status;
  }
}

/** No reply came within the allowed time (advice timeout plus `maxNetworkDelay`). */
export class BayeuxTimeoutError extends BayeuxClientError {
  constructor(channel: string, ms: number) {
    super("ERR_BAYEUX_TIMEOUT", `no reply to ${channel} within ${ms} ms`);
  }
}

/** The client was disconnected (by `disconnect()` or the server's `reconnect: "none"`). */
export class BayeuxDisconnectedError extends BayeuxClientError {
  constructor(message = "client disconnected") {
    super("ERR_BAYEUX_DISCONNECTED", message);
  }
}

/** A channel name the protocol does not allow for this operation. */
export class BayeuxChannelError extends BayeuxClientError {
  readonly channel: string;

  constructor(channel: unknown, reason: string) {
    super("ERR_BAYEUX_CHANNEL_INVALID", `invalid channel ${JSON.stringify(channel)}: ${reason}`);
    this.channel = String(channel);
  }
}

/** An outgoing extension dropped the message, so it was never sent. */
export class BayeuxMessageDroppedError extends BayeuxClientError {
  constructor(channel: string) {
    super("ERR_BAYEUX_MESSAGE_DROPPED", `an extension dropped the message to ${channel}`);
  }
}

/** A delivery arrived on a channel no subscription matches. */
export class BayeuxUnhandledMessageError extends BayeuxClientError {
  constructor(channel: string) {
    super("ERR_BAYEUX_UNHANDLED", `no subscription for a message on ${channel}`);
  }
}

/** A subscriber's callback threw; the client catches it and reports it here. */
export class BayeuxCallbackError extends BayeuxClientError {
  constructor(channel: string, cause: unknown) {
    super("ERR_BAYEUX_CALLBACK", `subscriber of ${channel} threw`, { cause });
  }
}

/** The offline queue is full; the publish was refused. */
export class OfflineQueueFullError extends LimitExceededError {
  constructor(max: number) {
    super("offlineQueueLimit", max, `offline queue full (${max} messages)`);
  }
}
