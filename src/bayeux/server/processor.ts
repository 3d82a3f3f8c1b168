/**
 * The message processor: `process(messages, context) -> replies`, touching
 * no transport (the split Faye's server makes). A batch is handled in order,
 * each message through the incoming extensions, its channel's handler, and
 * its reply through the outgoing extensions. A `/meta/connect` that has to
 * wait comes back as a pending reply the transport awaits.
 */
import {
  type BayeuxMessage,
  bayeuxError,
  checkMessage,
  isChannelName,
  isMetaChannel,
  isServiceChannel,
  META,
} from "../../codec/bayeux/index.js";
import { createDebug } from "../../shared/debug.js";
import type { Delivery } from "./delivery.js";
import { BayeuxExtensionTimeoutError } from "./errors.js";
import { pipe } from "./extensions.js";
import type { HeldResult, ProcessContext, ProcessorHost, ProcessResult } from "./host.js";
import {
  connect,
  denial,
  disconnect,
  handshake,
  type MetaReply,
  replyTo,
  subscribe,
  unknownClient,
  unsubscribe,
} from "./meta.js";
import type { BayeuxSession, HeldConnect } from "./session.js";

const debug = createDebug("bayeux:processor");

/**
 * The error reply for a message whose handling threw: `500::Extension timed
 * out` when an extension hook never answered, else `500::Internal server
 * error`. Handshake and connect replies carry advice, as clients need it.
 */
function failure(message: BayeuxMessage, err: unknown): BayeuxMessage {
  const timedOut = err instanceof BayeuxExtensionTimeoutError;
  if (timedOut) debug("extension timeout: %s", err.message);
  else debug("handler failed on %s: %O", message.channel, err);
  const reply = replyTo(message, bayeuxError(timedOut ? "extensionTimeout" : "serverError"));
  delete reply.data;
  if (message.channel === META.handshake || message.channel === META.connect) {
    reply.advice = { reconnect: timedOut ? "retry" : "handshake", interval: 0 };
  }
  return reply;
}

export class Processor {
  readonly #host: ProcessorHost;

  constructor(host: ProcessorHost) {
    this.#host = host;
  }

  /**
   * Answers a batch of raw (unchecked) messages.
   *
   * @example
   * const result = await processor.process([{ channel: "/meta/handshake", version: "1.0",
   *   supportedConnectionTypes: ["long-polling"] }], { connectionType: "long-polling", request: null });
   * result.replies[0].clientId;
   */
  async process(raw: readonly unknown[], context: ProcessContext): Promise<ProcessResult> {
    const host = this.#host;
    const request = context.request;
    const replies: BayeuxMessage[] = [];
    let deliveries: Delivery[] = [];
    let held: Promise<HeldResult> | null = null;
    let heldSession: BayeuxSession | null = null;
    let heldToken: HeldConnect | null = null;
    let last: BayeuxSession | undefined;

    for (const item of raw) {
      const checked = checkMessage(item);
      let outcome: MetaReply;
      if (typeof checked === "string") {
        const channel = (item as { channel?: unknown } | null)?.channel;
        const reply: BayeuxMessage = {
          channel: typeof channel === "string" ? channel : "",
          successful: false,
          error: checked,
        };
        const id = (item as { id?: unknown } | null)?.id;
        if (typeof id === "string" || typeof id === "number") reply.id = id;
        outcome = { reply };
      } else {
        try {
          const message =
            host.extensions.length === 0
              ? checked
              : await pipe(host.extensions, "incoming", checked, request, host.extensionGuard);
          if (message === null) continue;
          outcome = await this.#handle(message, context);
        } catch (err) {
          outcome = { reply: failure(checked, err) };
        }
      }
      const session = outcome.session;
      if (session && !session.closed) {
        last = session;
        if (context.socket) session.attach(context.socket);
      }
      if (outcome.held) {
        // A second held connect in one batch supersedes the first, which
        // session.hold() has already answered.
        if (held) {
          const previous = await held;
          if (previous.reply) replies.push(previous.reply);
          deliveries = deliveries.concat(previous.deliveries);
        }
        heldSession = session ?? null;
        heldToken = session?.held ?? null;
        held = outcome.held.then(async (release) => ({
          reply: await this.#outgoing(release.reply, request),
          deliveries: release.deliveries,
        }));
        continue;
      }
      if (outcome.deliveries && outcome.deliveries.length > 0) {
        deliveries =
          deliveries.length === 0 ? outcome.deliveries : deliveries.concat(outcome.deliveries);
      }
      const reply = await this.#outgoing(outcome.reply, request);
      if (reply) replies.push(reply);
    }

    // Deliveries ride on any reply of a session with no connect waiting
    // (CometD does the same); a waiting connect gets them instead.
    if (!held && last && !last.closed && last.held === null) {
      const extra = last.takeForReply();
      if (extra.length > 0) deliveries = deliveries.length === 0 ? extra : deliveries.concat(extra);
    }
    const abandon =
      heldSession && heldToken
        ? () => {
            heldSession.abandon(heldToken);
          }
        : null;
    return { replies, deliveries, held, abandon };
  }

  async #outgoing(
    reply: BayeuxMessage,
    request: ProcessContext["request"],
  ): Promise<BayeuxMessage | null> {
    const extensions = this.#host.extensions;
    if (extensions.length === 0) return reply;
    try {
      return await pipe(extensions, "outgoing", reply, request, this.#host.extensionGuard);
    } catch (err) {
      // A reply whose outgoing hook timed out becomes an error reply (the
      // client must not wait for it); one whose hook threw goes out as it was.
      if (!(err instanceof BayeuxExtensionTimeoutError)) {
        debug("outgoing extension failed: %O", err);
        return reply;
      }
      return failure(reply, err);
    }
  }

  #handle(message: BayeuxMessage, context: ProcessContext): MetaReply | Promise<MetaReply> {
    const host = this.#host;
    const channel = message.channel;
    // An incoming extension rejected the message by setting its error.
    if (typeof message.error === "string") {
      const reply = replyTo(message, message.error);
      if (channel === META.handshake || channel === META.connect) {
        reply.advice = { reconnect: "handshake", interval: host.options.interval };
      }
      return { reply };
    }
    switch (channel) {
      case META.handshake:
        return handshake(host, message, context);
      case META.connect:
        return connect(host, message);
      case META.subscribe:
        return subscribe(host, message);
      case META.unsubscribe:
        return unsubscribe(host, message);
      case META.disconnect:
        return disconnect(host, message);
    }
    // Clients may not publish to the protocol's own channels (section 2.2.2).
    if (isMetaChannel(channel)) {
      return { reply: replyTo(message, bayeuxError("channelForbidden", [channel])) };
    }
    return this.#publish(message, context);
  }

  async #publish(message: BayeuxMessage, context: ProcessContext): Promise<MetaReply> {
    const host = this.#host;
    const channel = message.channel;
    const answer = (error?: string, session?: BayeuxSession): MetaReply => {
      const reply = replyTo(message, error);
      // A publish reply is {channel, id, successful} (section 5.1); a
      // `data` field would make CometD take it for a delivery.
      delete reply.clientId;
      return { reply, session };
    };
    if (!isChannelName(channel)) return answer(bayeuxError("channelInvalid", [channel]));
    const session = host.findSession(message.clientId);
    if (!session) return { reply: unknownClient(message) };
    if (message.data === undefined)
      return answer(bayeuxError("parameterMissing", ["data"]), session);
    if (isServiceChannel(channel)) {
      // Service messages reach server-side handlers only, never subscribers.
      for (const handler of host.servicesFor(channel)) {
        try {
          await handler(message, session);
        } catch (err) {
          debug("service %s failed: %O", channel, err);
          return answer(bayeuxError("publishFailed", [channel]), session);
        }
      }
      return answer(undefined, session);
    }
    const canPublish = host.options.policy.canPublish;
    if (canPublish) {
      const denied = denial(await canPublish(session, channel, message), "publishDenied", [
        channel,
      ]);
      if (denied !== undefined) return answer(denied, session);
    }
    await host.route(message, context.request);
    host.emitEvent("publish", session.id, channel, message.data);
    return answer(undefined, session);
  }
}
