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
import { debugEnabled, type Logger } from "../../shared/logger.js";
import { ChannelLogError } from "./channel-log.js";
import type { Delivery } from "./delivery.js";
import { BayeuxExtensionTimeoutError } from "./errors.js";
import { pipe } from "./extensions.js";
import type { HeldResult, ProcessContext, ProcessorHost, ProcessResult } from "./host.js";
import { Latch, type LatchListener } from "./latch.js";
import { isLate, markLate } from "./late.js";
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
import type { PolicyAnswer } from "./options.js";
import type { BayeuxSession, HeldConnect, HeldRelease } from "./session.js";
import type { BayeuxStats } from "./stats.js";

const debug = createDebug("bayeux:processor");

/**
 * The error reply for a message whose handling threw: `500::Extension timed
 * out` when an extension hook never answered, else `500::Internal server
 * error`. Handshake and connect replies carry advice, as clients need it.
 */
function failure(message: BayeuxMessage, err: unknown, logger: Logger): BayeuxMessage {
  const timedOut = err instanceof BayeuxExtensionTimeoutError;
  const fields = { channel: message.channel, clientId: message.clientId, err };
  if (timedOut) logger.warn(fields, "extension timed out");
  else logger.error(fields, "message handling failed");
  const reply = replyTo(message, bayeuxError(timedOut ? "extensionTimeout" : "serverError"));
  delete reply.data;
  if (message.channel === META.handshake || message.channel === META.connect) {
    reply.advice = { reconnect: timedOut ? "retry" : "handshake", interval: 0 };
  }
  return reply;
}

/** A batch being answered: where it stands and what it has gathered. */
class Batch {
  readonly raw: readonly unknown[];
  readonly context: ProcessContext;
  index = 0;
  readonly replies: BayeuxMessage[] = [];
  deliveries: Delivery[] = NO_DELIVERIES;
  held: Latch<HeldResult> | null = null;
  /** Late outcomes (see late.ts) still to settle before the batch is answered. */
  late: Promise<void>[] | null = null;
  heldSession: BayeuxSession | null = null;
  heldToken: HeldConnect | null = null;
  last: BayeuxSession | null = null;

  constructor(raw: readonly unknown[], context: ProcessContext) {
    this.raw = raw;
    this.context = context;
  }

  addDeliveries(more: Delivery[]): void {
    if (more.length === 0) return;
    this.deliveries = this.deliveries.length === 0 ? more : this.deliveries.concat(more);
  }
}

const NO_DELIVERIES: Delivery[] = [];

/** The error reply of a message that failed its checks, echoing what it can. */
function invalid(item: unknown, error: string): BayeuxMessage {
  const channel = (item as { channel?: unknown } | null)?.channel;
  const reply: BayeuxMessage = {
    channel: typeof channel === "string" ? channel : "",
    successful: false,
    error,
  };
  const id = (item as { id?: unknown } | null)?.id;
  if (typeof id === "string" || typeof id === "number") reply.id = id;
  return reply;
}

/**
 * The reply to a successful publish: `{channel, id, successful}` (section
 * 5.1), built in one literal; a `data` or `clientId` field would make CometD
 * take it for a delivery.
 */
function published(message: BayeuxMessage): BayeuxMessage {
  return message.id === undefined
    ? { channel: message.channel, successful: true }
    : { channel: message.channel, id: message.id, successful: true };
}

/** The session a batch belongs to: that of its first message's `clientId`. */
function ownerId(raw: readonly unknown[]): unknown {
  const first = raw[0];
  return first !== null && typeof first === "object"
    ? (first as { clientId?: unknown }).clientId
    : undefined;
}

export class Processor {
  readonly #host: ProcessorHost;

  constructor(host: ProcessorHost) {
    this.#host = host;
  }

  /**
   * Answers a batch of raw (unchecked) messages. The answer is synchronous
   * while every step is (no asynchronous extension, policy or service), which
   * is the common case: a publish then costs no promise. Batches of one
   * session are answered in the order they arrived, whatever the transport:
   * a batch arriving while an earlier one of its session still waits on an
   * asynchronous step starts once that one is done.
   *
   * @example
   * const result = await processor.process([{ channel: "/meta/handshake", version: "1.0",
   *   supportedConnectionTypes: ["long-polling"] }], { connectionType: "long-polling", request: null });
   * result.replies[0].clientId;
   */
  process(
    raw: readonly unknown[],
    context: ProcessContext,
  ): ProcessResult | Promise<ProcessResult> {
    const id = ownerId(raw);
    const owner = this.#host.findSession(id);
    if (owner === undefined) {
      // Another node's session whose owner died: taken over first, if it can be.
      const adopting = this.#host.adopt(id);
      if (adopting !== undefined) {
        return adopting.then((adopted) => this.#start(raw, context, adopted));
      }
    }
    return this.#start(raw, context, owner);
  }

  #start(
    raw: readonly unknown[],
    context: ProcessContext,
    owner: BayeuxSession | undefined,
  ): ProcessResult | Promise<ProcessResult> {
    if (owner !== undefined && owner.inFlight !== null) {
      const run = () => this.#run(new Batch(raw, context));
      const chained = owner.inFlight.then(run, run);
      track(owner, chained);
      return chained;
    }
    const result = this.#run(new Batch(raw, context));
    // A late batch waits only for stores already issued in order: the next may start.
    if (owner !== undefined && result instanceof Promise && !isLate(result)) track(owner, result);
    return result;
  }

  #run(b: Batch): ProcessResult | Promise<ProcessResult> {
    while (b.index < b.raw.length) {
      const pending = this.#one(b, b.raw[b.index++]);
      if (pending !== undefined) return pending.then(() => this.#run(b));
    }
    return this.#finish(b);
  }

  #finish(b: Batch): ProcessResult | Promise<ProcessResult> {
    const late = b.late;
    if (late !== null) {
      b.late = null;
      return markLate(Promise.all(late).then(() => this.#finish(b)));
    }
    const last = b.last;
    // Deliveries ride on any reply of a session with no connect waiting
    // (CometD does the same); a waiting connect gets them instead.
    if (b.held === null && last !== null && !last.closed && last.held === null) {
      b.addDeliveries(last.takeForReply());
    }
    return new BatchResult(b.replies, b.deliveries, b.held, b.heldSession, b.heldToken);
  }

  /** Answers one message; a promise when some step of it is asynchronous. */
  #one(b: Batch, item: unknown): void | Promise<void> {
    this.#host.stats.messagesIn++;
    const checked = checkMessage(item);
    if (typeof checked === "string") return this.#settle(b, { reply: invalid(item, checked) });
    const host = this.#host;
    if (host.extensions.length === 0) return this.#handled(b, checked, checked);
    let piped: BayeuxMessage | null | Promise<BayeuxMessage | null>;
    try {
      piped = pipe(host.extensions, "incoming", checked, b.context.request, host.extensionGuard);
    } catch (err) {
      return this.#settle(b, { reply: failure(checked, err, this.#host.logger) });
    }
    if (piped instanceof Promise) {
      return piped.then(
        (message) => (message === null ? undefined : this.#handled(b, checked, message)),
        (err) => this.#settle(b, { reply: failure(checked, err, this.#host.logger) }),
      );
    }
    if (piped === null) return;
    return this.#handled(b, checked, piped);
  }

  #handled(b: Batch, checked: BayeuxMessage, message: BayeuxMessage): void | Promise<void> {
    let outcome: MetaReply | Promise<MetaReply>;
    try {
      outcome = this.#handle(message, b.context);
    } catch (err) {
      return this.#settle(b, { reply: failure(checked, err, this.#host.logger) });
    }
    if (outcome instanceof Promise) {
      const settled = outcome.then(
        (o) => this.#settle(b, o),
        (err) => this.#settle(b, { reply: failure(checked, err, this.#host.logger) }),
      );
      if (!isLate(outcome)) return settled;
      // Its store is issued: the batch goes on, and is answered once it settles.
      (b.late ??= []).push(settled);
      return;
    }
    return this.#settle(b, outcome);
  }

  /** Records a message's outcome in the batch. */
  #settle(b: Batch, outcome: MetaReply): void | Promise<void> {
    if (outcome.reply.successful === false) this.#refused(outcome.reply);
    const session = outcome.session;
    if (session && !session.closed) {
      b.last = session;
      const socket = b.context.socket;
      if (socket) session.attach(socket);
    }
    const held = outcome.held;
    if (held) {
      // A second held connect in one batch supersedes the first, which
      // session.hold() has already answered.
      const previous = b.held;
      if (previous === null) return this.#hold(b, held, session);
      return previous.promise().then((release) => {
        if (release.reply) b.replies.push(release.reply);
        b.addDeliveries(release.deliveries);
        this.#hold(b, held, session);
      });
    }
    if (outcome.deliveries) b.addDeliveries(outcome.deliveries);
    const reply = outcome.reply;
    if (reply.successful === false) countError(this.#host.stats, reply);
    if (this.#host.extensions.length === 0) {
      b.replies.push(outcome.reply);
      return;
    }
    return this.#outgoing(outcome.reply, b.context.request).then((reply) => {
      if (reply) b.replies.push(reply);
    });
  }

  /** A refused handshake or connect, at debug (they are per connection). */
  #refused(reply: BayeuxMessage): void {
    const channel = reply.channel;
    if (channel !== META.handshake && channel !== META.connect) return;
    const logger = this.#host.logger;
    if (!debugEnabled(logger)) return;
    logger.debug(
      { channel, clientId: reply.clientId, error: reply.error },
      channel === META.handshake ? "handshake refused" : "connect refused",
    );
  }

  #hold(b: Batch, held: HeldConnect, session: BayeuxSession | undefined): void {
    b.heldSession = session ?? null;
    b.heldToken = session?.held ?? null;
    // Without outgoing extensions the release is the result: no extra hop.
    if (this.#host.extensions.length === 0) {
      b.held = held;
      return;
    }
    const out = new Latch<HeldResult>();
    held.listen(new Outgoing(this, out, b.context.request));
    b.held = out;
  }

  /** Package-internal ({@link Outgoing}): a released connect's reply through the outgoing extensions. */
  outgoing(
    reply: BayeuxMessage,
    request: ProcessContext["request"],
  ): Promise<BayeuxMessage | null> {
    return this.#outgoing(reply, request);
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
        this.#host.logger.error({ channel: reply.channel, err }, "outgoing extension failed");
        return reply;
      }
      return failure(reply, err, this.#host.logger);
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

  #publish(message: BayeuxMessage, context: ProcessContext): MetaReply | Promise<MetaReply> {
    const host = this.#host;
    host.stats.publishes++;
    const channel = message.channel;
    if (!isChannelName(channel))
      return failedPublish(message, bayeuxError("channelInvalid", [channel]));
    const session = host.findSession(message.clientId);
    if (!session) return { reply: unknownClient(message) };
    if (message.data === undefined) {
      return failedPublish(message, bayeuxError("parameterMissing", ["data"]), session);
    }
    const id = message.id;
    if (id === undefined || id === "" || host.options.publishDedupeWindow === 0) {
      return this.#fresh(message, session, context);
    }
    return this.#once(message, session, context, String(id));
  }

  /**
   * A publish with an `id`: delivered only when its claim is new; a resend
   * (a reply lost on the way, the batch sent again) gets the reply of the
   * first. A claim the backend cannot answer lets the publish through: a
   * Redis outage costs possible duplicates, never lost messages. A publish
   * that fails gives its claim up, so its resend is tried again.
   */
  #once(
    message: BayeuxMessage,
    session: BayeuxSession,
    context: ProcessContext,
    id: string,
  ): MetaReply | Promise<MetaReply> {
    const host = this.#host;
    const decided = (first: boolean): MetaReply | Promise<MetaReply> => {
      if (!first) {
        debug("publish %s of %s is a resend: not delivered again", id, session.id);
        return { reply: published(message), session };
      }
      const outcome = this.#fresh(message, session, context);
      if (outcome instanceof Promise) {
        const wrapped = outcome.then(
          (o) => released(o),
          (err) => {
            host.releasePublish(session.id, id);
            throw err;
          },
        );
        return isLate(outcome) ? markLate(wrapped) : wrapped;
      }
      return released(outcome);
    };
    const released = (outcome: MetaReply): MetaReply => {
      if (outcome.reply.successful === false) host.releasePublish(session.id, id);
      return outcome;
    };
    let claimed: boolean | Promise<boolean>;
    try {
      claimed = host.claimPublish(session.id, id);
    } catch (err) {
      debug("cannot claim publish %s of %s: %s", id, session.id, err);
      return this.#fresh(message, session, context);
    }
    if (claimed instanceof Promise) {
      return claimed.then(decided, (err) => {
        debug("cannot claim publish %s of %s: %s", id, session.id, err);
        return this.#fresh(message, session, context);
      });
    }
    return decided(claimed);
  }

  /** A publish seen for the first time: to services, or past the policy to subscribers. */
  #fresh(
    message: BayeuxMessage,
    session: BayeuxSession,
    context: ProcessContext,
  ): MetaReply | Promise<MetaReply> {
    const host = this.#host;
    const channel = message.channel;
    // Service messages reach server-side handlers only, never subscribers.
    if (isServiceChannel(channel)) return this.#service(message, session);
    const canPublish = host.options.policy.canPublish;
    if (canPublish) {
      const answer = canPublish(session, channel, message);
      if (answer instanceof Promise) {
        return answer.then((a) => this.#allowed(a, message, session, context));
      }
      return this.#allowed(answer, message, session, context);
    }
    return this.#route(message, session, context);
  }

  #allowed(
    answer: PolicyAnswer,
    message: BayeuxMessage,
    session: BayeuxSession,
    context: ProcessContext,
  ): MetaReply | Promise<MetaReply> {
    const denied = denial(answer, "publishDenied", [message.channel]);
    if (denied !== undefined) return failedPublish(message, denied, session);
    return this.#route(message, session, context);
  }

  #route(
    message: BayeuxMessage,
    session: BayeuxSession,
    context: ProcessContext,
  ): MetaReply | Promise<MetaReply> {
    const id = message.id;
    const key = id === undefined || id === "" ? undefined : `${session.id}:${String(id)}`;
    const routed = this.#host.route(message, context.request, key);
    if (routed instanceof Promise) {
      const replied = routed.then(
        () => this.#published(message, session),
        (err: unknown) => {
          // The channel log could not store it: the client may publish it again.
          if (!(err instanceof ChannelLogError)) throw err;
          return failedPublish(message, bayeuxError("publishFailed", [message.channel]), session);
        },
      );
      return isLate(routed) ? markLate(replied) : replied;
    }
    return this.#published(message, session);
  }

  #published(message: BayeuxMessage, session: BayeuxSession): MetaReply {
    const host = this.#host;
    if (host.publishWatched) host.emitEvent("publish", session.id, message.channel, message.data);
    return { reply: published(message), session };
  }

  async #service(message: BayeuxMessage, session: BayeuxSession): Promise<MetaReply> {
    const channel = message.channel;
    for (const handler of this.#host.servicesFor(channel)) {
      try {
        await handler(message, session);
      } catch (err) {
        this.#host.logger.error({ channel, clientId: session.id, err }, "service handler failed");
        return failedPublish(message, bayeuxError("publishFailed", [channel]), session);
      }
    }
    return { reply: published(message), session };
  }
}

/**
 * Counts an error reply by its Bayeux error code (`402::Unknown client` is
 * `ERR_BAYEUX_402`), its channel and error text kept among the recent ones.
 */
function countError(stats: BayeuxStats, reply: BayeuxMessage): void {
  const error = typeof reply.error === "string" ? reply.error : "";
  const colon = error.indexOf(":");
  const code = /^\d{3}$/.test(colon === -1 ? error : error.slice(0, colon))
    ? error.slice(0, 3)
    : "unknown";
  stats.errors.add(`ERR_BAYEUX_${code}`, `${reply.channel ?? ""} ${error}`.trim());
}

/** A publish's error reply: `{channel, id, successful: false, error}`, no clientId. */
function failedPublish(message: BayeuxMessage, error: string, session?: BayeuxSession): MetaReply {
  const reply: BayeuxMessage = { channel: message.channel };
  if (message.id !== undefined) reply.id = message.id;
  reply.successful = false;
  reply.error = error;
  return { reply, session };
}

/** A released connect, passed through the outgoing extensions into the batch's result. */
class Outgoing implements LatchListener<HeldRelease> {
  readonly #processor: Processor;
  readonly #out: Latch<HeldResult>;
  readonly #request: ProcessContext["request"];

  constructor(processor: Processor, out: Latch<HeldResult>, request: ProcessContext["request"]) {
    this.#processor = processor;
    this.#out = out;
    this.#request = request;
  }

  resolved(release: HeldRelease): void {
    const out = this.#out;
    this.#processor.outgoing(release.reply, this.#request).then(
      (reply) => out.resolve({ reply, deliveries: release.deliveries }),
      (err: unknown) => out.reject(err),
    );
  }

  rejected(err: unknown): void {
    this.#out.reject(err);
  }
}

/**
 * The answer to a batch. A held connect is a latch; its promise and the
 * function that abandons it are made only when asked for.
 */
class BatchResult implements ProcessResult {
  readonly replies: BayeuxMessage[];
  readonly deliveries: Delivery[];
  readonly waiting: Latch<HeldResult> | null;
  readonly #session: BayeuxSession | null;
  readonly #token: HeldConnect | null;

  constructor(
    replies: BayeuxMessage[],
    deliveries: Delivery[],
    waiting: Latch<HeldResult> | null,
    session: BayeuxSession | null,
    token: HeldConnect | null,
  ) {
    this.replies = replies;
    this.deliveries = deliveries;
    this.waiting = waiting;
    this.#session = session;
    this.#token = token;
  }

  get held(): Promise<HeldResult> | null {
    return this.waiting === null ? null : this.waiting.promise();
  }

  get abandon(): (() => void) | null {
    const session = this.#session;
    const token = this.#token;
    if (session === null || token === null) return null;
    return () => {
      session.abandon(token);
    };
  }
}

/** Marks `session` busy until `pending` settles, so its next batch waits its turn. */
function track(session: BayeuxSession, pending: Promise<unknown>): void {
  session.inFlight = pending;
  const done = () => {
    if (session.inFlight === pending) session.inFlight = null;
  };
  pending.then(done, done);
}
