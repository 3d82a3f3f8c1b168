/**
 * Handlers of the meta channels (Bayeux 1.0 section 4): handshake, connect,
 * subscribe, unsubscribe, disconnect. Each takes a checked message and
 * answers with a reply, or for a held `/meta/connect` with a pending reply.
 */
import {
  BAYEUX_VERSION,
  type BayeuxMessage,
  bayeuxError,
  isMetaChannel,
  isServiceChannel,
  isSubscribable,
} from "../../codec/bayeux/index.js";
import { connectReply } from "./connect-reply.js";
import type { Delivery } from "./delivery.js";
import type { ProcessContext, ProcessorHost } from "./host.js";
import type { ConnectionType, PolicyAnswer } from "./options.js";
import type { BayeuxSession, HeldConnect } from "./session.js";
import { PENDING_CONNECTION } from "./stats.js";

/** A reply with the deliveries that go with it. */
export interface MetaReply {
  reply: BayeuxMessage;
  deliveries?: Delivery[];
  held?: HeldConnect;
  session?: BayeuxSession;
}

/** The reply skeleton every answer starts from (section 3: id and channel echoed). */
export function replyTo(message: BayeuxMessage, error?: string): BayeuxMessage {
  const reply: BayeuxMessage = { channel: message.channel };
  if (message.id !== undefined) reply.id = message.id;
  if (typeof message.clientId === "string") reply.clientId = message.clientId;
  reply.successful = error === undefined;
  if (error !== undefined) reply.error = error;
  return reply;
}

// Ids are put in error arguments only when they are plain tokens.
function idArg(clientId: unknown): string[] {
  return typeof clientId === "string" && /^[A-Za-z0-9\-_]{1,64}$/.test(clientId) ? [clientId] : [];
}

/** `402:<id>:Unknown client` with the advice to handshake again (section 3.5.1). */
export function unknownClient(message: BayeuxMessage): BayeuxMessage {
  const reply = replyTo(message, bayeuxError("clientUnknown", idArg(message.clientId)));
  reply.advice = { reconnect: "handshake", interval: 0 };
  return reply;
}

/** Turns a policy answer into an error field, or undefined when allowed. */
export function denial(
  answer: PolicyAnswer,
  name: "handshakeDenied" | "subscribeDenied" | "publishDenied",
  args: string[] = [],
): string | undefined {
  if (answer === undefined || answer === true) return undefined;
  return bayeuxError(name, args, typeof answer === "string" ? answer : undefined);
}

function retryAdvice(host: ProcessorHost): BayeuxMessage["advice"] {
  return { reconnect: "retry", interval: host.options.interval, timeout: host.options.timeout };
}

export async function handshake(
  host: ProcessorHost,
  message: BayeuxMessage,
  context: ProcessContext,
): Promise<MetaReply> {
  const fail = (error: string, reconnect: "handshake" | "none" = "handshake"): MetaReply => {
    const reply = replyTo(message, error);
    reply.advice = { reconnect, interval: reconnect === "none" ? 0 : 1000 };
    return { reply };
  };
  // Section 4.1.1: version and supportedConnectionTypes are required.
  if (typeof message.version !== "string")
    return fail(bayeuxError("parameterMissing", ["version"]));
  if (!/^\d+(\.[A-Za-z0-9][A-Za-z0-9\-_]*)*$/.test(message.version)) {
    return fail(bayeuxError("versionMismatch", [BAYEUX_VERSION]));
  }
  const offered = message.supportedConnectionTypes;
  if (!Array.isArray(offered) || offered.length === 0) {
    return fail(bayeuxError("parameterMissing", ["supportedConnectionTypes"]));
  }
  const types = host.options.connectionTypes;
  if (!offered.some((type) => (types as readonly unknown[]).includes(type))) {
    return fail(bayeuxError("conntypeMismatch", types as string[]));
  }
  const canHandshake = host.options.policy.canHandshake;
  if (canHandshake) {
    const denied = denial(await canHandshake(message, context.request), "handshakeDenied");
    if (denied !== undefined) return fail(denied, "none");
  }
  const session = await host.createSession();
  if (!session) return fail(bayeuxError("serverBusy"));
  const reply = replyTo(message);
  reply.clientId = session.id;
  reply.version = BAYEUX_VERSION;
  reply.minimumVersion = BAYEUX_VERSION;
  reply.supportedConnectionTypes = [...types];
  reply.advice = retryAdvice(host);
  // The acknowledgement extension is on when both sides ask for it.
  if (host.options.ackExtension && message.ext?.ack === true) {
    session.enableAcks();
    reply.ext = { ack: true };
  }
  host.stats.handshakes++;
  host.emitEvent("handshake", session.id);
  return { reply, session };
}

export function connect(host: ProcessorHost, message: BayeuxMessage): MetaReply {
  const session = host.findSession(message.clientId);
  if (!session) return { reply: unknownClient(message) };
  const type = message.connectionType;
  if (typeof type !== "string") {
    // A failed connect advises a new handshake, as Faye's server does: a
    // `retry` would resend the same broken connect forever.
    const reply = replyTo(message, bayeuxError("parameterMissing", ["connectionType"]));
    reply.advice = { reconnect: "handshake", interval: 0 };
    return { reply, session };
  }
  if (!(host.options.connectionTypes as readonly string[]).includes(type)) {
    const reply = replyTo(message, bayeuxError("conntypeMismatch", [type]));
    reply.advice = { reconnect: "handshake", interval: 0 };
    return { reply, session };
  }
  session.touch();
  if (session.connectionType !== type) {
    host.stats.moved(session.connectionType || PENDING_CONNECTION, type);
    session.connectionType = type as ConnectionType;
  }
  if (session.ackEnabled) session.acknowledge(message.ext?.ack);
  // Without extensions nothing changes the reply: it is encoded by template.
  const o = host.options;
  const reply = connectReply(message, o.interval, o.timeout, host.extensions.length === 0);
  const first = !session.connected;
  session.connected = true;
  // The client may ask for a shorter hold (CometD sends timeout 0 on its
  // first connect); it never gets a longer one than advised.
  const asked = message.advice?.timeout;
  const timeout =
    typeof asked === "number" && asked >= 0
      ? Math.min(asked, host.options.timeout)
      : host.options.timeout;
  // The first connect returns at once (the client learns it is connected),
  // as do connects that find deliveries waiting.
  if (first || timeout === 0 || session.hasPending || host.closed) {
    return { reply, deliveries: session.takeForConnect(reply), session };
  }
  return { reply, held: session.hold(reply, timeout), session };
}

function subscriptionList(message: BayeuxMessage): string[] | undefined {
  const value = message.subscription;
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
    return value;
  }
  return undefined;
}

function checkChannels(channels: string[]): string | undefined {
  for (const channel of channels) {
    if (!isSubscribable(channel)) return bayeuxError("channelInvalid", [channel]);
    // Clients may not listen to the protocol's own traffic (section 2.2.2).
    if (isMetaChannel(channel)) return bayeuxError("channelForbidden", [channel]);
  }
  return undefined;
}

/**
 * `402` for a (un)subscribe: the reply still echoes `subscription`, which
 * section 4.4.2 / 4.5.2 make mandatory in every subscribe reply, failed or not.
 */
function unknownSubscriber(message: BayeuxMessage): MetaReply {
  const reply = unknownClient(message);
  reply.subscription = message.subscription ?? [];
  return { reply };
}

export async function subscribe(host: ProcessorHost, message: BayeuxMessage): Promise<MetaReply> {
  const session = host.findSession(message.clientId);
  if (!session) return unknownSubscriber(message);
  const answer = (error?: string): MetaReply => {
    const reply = replyTo(message, error);
    reply.subscription = message.subscription ?? [];
    return { reply, session };
  };
  const channels = subscriptionList(message);
  if (!channels) return answer(bayeuxError("parameterMissing", ["subscription"]));
  const invalid = checkChannels(channels);
  if (invalid) return answer(invalid);
  // Service channels are server-addressed: a subscription to them is a no-op
  // that succeeds, as Faye answers.
  const wanted = channels.filter(
    (c) => !isServiceChannel(c) && !host.router.isSubscribed(session, c),
  );
  const max = host.options.maxSubscriptionsPerClient;
  if (host.router.count(session) + new Set(wanted).size > max) {
    return answer(bayeuxError("tooManySubscriptions", [String(max)]));
  }
  const canSubscribe = host.options.policy.canSubscribe;
  if (canSubscribe) {
    for (const channel of wanted) {
      const denied = denial(await canSubscribe(session, channel, message), "subscribeDenied", [
        channel,
      ]);
      if (denied !== undefined) return answer(denied);
    }
  }
  if (session.closed) return unknownSubscriber(message);
  for (const channel of wanted) {
    if (host.router.subscribe(session, channel)) host.emitEvent("subscribe", session.id, channel);
  }
  return answer();
}

export function unsubscribe(host: ProcessorHost, message: BayeuxMessage): MetaReply {
  const session = host.findSession(message.clientId);
  if (!session) return unknownSubscriber(message);
  const reply = replyTo(message);
  reply.subscription = message.subscription ?? [];
  const channels = subscriptionList(message);
  const invalid = channels
    ? checkChannels(channels)
    : bayeuxError("parameterMissing", ["subscription"]);
  if (invalid || !channels) {
    reply.successful = false;
    reply.error = invalid;
    return { reply, session };
  }
  for (const channel of channels) {
    if (host.router.unsubscribe(session, channel))
      host.emitEvent("unsubscribe", session.id, channel);
  }
  return { reply, session };
}

export function disconnect(host: ProcessorHost, message: BayeuxMessage): MetaReply {
  const session = host.findSession(message.clientId);
  if (!session) return { reply: unknownClient(message) };
  host.endSession(session, "client disconnect");
  return { reply: replyTo(message) };
}
