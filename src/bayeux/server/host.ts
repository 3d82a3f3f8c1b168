/**
 * What the message processor needs from the server: the session table, the
 * channel router, options, extensions, services and the event sink. Keeping
 * it an interface lets the processor be tested and read without the
 * server's public API around it.
 */
import type { IncomingMessage } from "node:http";
import type { BayeuxMessage } from "../../codec/bayeux/index.js";
import type { Logger } from "../../shared/logger.js";
import type { ChannelRouter } from "./channels.js";
import type { Delivery } from "./delivery.js";
import type { BayeuxExtension, HookGuard } from "./extensions.js";
import type { Latch } from "./latch.js";
import type { ConnectionType, ResolvedOptions } from "./options.js";
import type { BayeuxSession, SessionSocket } from "./session.js";
import type { BayeuxStats } from "./stats.js";

/** Why a session ended. */
export type DisconnectReason =
  | "client disconnect"
  | "expired"
  | "server disconnect"
  | "server close"
  /** The websocket's unsent bytes passed `maxBufferedBytes`; the socket was terminated. */
  | "slow consumer";

/** Where a batch came from. */
export interface ProcessContext {
  /** Transport that carried the batch; null for in-process calls. */
  connectionType: ConnectionType | null;
  /** The HTTP request (or websocket upgrade request), for extensions and policies. */
  request: IncomingMessage | null;
  /** The websocket that carried the batch, which sessions then push through. */
  socket?: SessionSocket;
}

/** The answer to a batch. */
export interface ProcessResult {
  /** Replies in message order, except a held `/meta/connect`. */
  replies: BayeuxMessage[];
  /** Queued deliveries that travel with these replies (encoded once, shared). */
  deliveries: Delivery[];
  /**
   * A `/meta/connect` held until a delivery or its deadline; its reply (after
   * outgoing extensions) and deliveries. Null when nothing is held.
   */
  readonly held: Promise<HeldResult> | null;
  /**
   * The same held connect as a latch, told its release in the tick it
   * happens (the long-polling transport's path: no promise per poll).
   */
  readonly waiting: Latch<HeldResult> | null;
  /** Gives up the held connect (its request went away); deliveries stay queued. */
  readonly abandon: (() => void) | null;
}

/** A released held connect: its reply (null if an extension dropped it) and deliveries. */
export interface HeldResult {
  reply: BayeuxMessage | null;
  deliveries: Delivery[];
}

/** A handler for messages published to `/service/**` channels. */
export type ServiceHandler = (
  message: BayeuxMessage,
  session: BayeuxSession,
) => void | Promise<void>;

export interface ProcessorHost {
  readonly options: ResolvedOptions;
  readonly stats: BayeuxStats;
  /** Where refused handshakes and connects, and failed handlers, are logged. */
  readonly logger: Logger;
  readonly router: ChannelRouter;
  readonly extensions: readonly BayeuxExtension[];
  /** Deadline for asynchronous extension hooks. */
  readonly extensionGuard: HookGuard;
  readonly closed: boolean;
  findSession(clientId: unknown): BayeuxSession | undefined;
  /**
   * A session this node does not hold whose owner died: taken over here
   * (a promise of it, or of undefined when that failed); undefined when
   * there is nothing to try.
   */
  adopt(clientId: unknown): Promise<BayeuxSession | undefined> | undefined;
  /**
   * A new session (recorded in the session store), or undefined when
   * `maxSessions` is reached or the store cannot record it.
   */
  createSession(): BayeuxSession | undefined | Promise<BayeuxSession | undefined>;
  endSession(session: BayeuxSession, reason: DisconnectReason): void;
  /** Delivers a client's publish to subscribers (encoded once). */
  /**
   * `key` (clientId and message id) makes a resend of the publish count
   * once where the route stores it (the channel log).
   */
  route(
    message: BayeuxMessage,
    request: IncomingMessage | null,
    key?: string,
  ): void | Promise<void>;
  /**
   * Claims a client's publish id (option `publishDedupeWindow`): true the
   * first time, false for a resend already delivered.
   */
  claimPublish(clientId: string, id: string): boolean | Promise<boolean>;
  /** Gives a claim up: the publish failed, so its resend must be tried again. */
  releasePublish(clientId: string, id: string): void;
  /** The service handlers whose pattern matches `channel`. */
  servicesFor(channel: string): ServiceHandler[];
  /** Whether a `publish` event has listeners (the per-publish event is skipped otherwise). */
  readonly publishWatched: boolean;
  emitEvent(event: "handshake", clientId: string): void;
  emitEvent(event: "subscribe" | "unsubscribe", clientId: string, channel: string): void;
  emitEvent(event: "publish", clientId: string | null, channel: string, data: unknown): void;
}
