/**
 * The reply to a `/meta/connect`, encoded by template. Every long-poll ends
 * with one, and its shape is fixed (`channel`, `id`, `clientId`,
 * `successful`, `advice`): only the id and clientId change, so it is
 * written as text around them instead of walked by `JSON.stringify`. The
 * text is the same, byte for byte, as `JSON.stringify` gives.
 */
import type { BayeuxMessage } from "../../codec/bayeux/index.js";

/** On a reply as {@link connectReply} built it: the JSON of its advice. */
const ADVICE_JSON = Symbol("switchboard.bayeuxAdviceJson");

type Branded = BayeuxMessage & { [ADVICE_JSON]?: string };

let cachedInterval = Number.NaN;
let cachedTimeout = Number.NaN;
let cachedJson = "";

/** The JSON of `{ reconnect: "retry", interval, timeout }`, kept for the last pair asked. */
function retryAdviceJson(interval: number, timeout: number): string {
  if (interval !== cachedInterval || timeout !== cachedTimeout) {
    cachedJson = JSON.stringify({ reconnect: "retry", interval, timeout });
    cachedInterval = interval;
    cachedTimeout = timeout;
  }
  return cachedJson;
}

/**
 * The successful reply to `message`, a `/meta/connect`, advising `retry`.
 * With `template`, it is marked for {@link encodeReply} (which trusts it to
 * keep its shape: no extension may see it).
 */
export function connectReply(
  message: BayeuxMessage,
  interval: number,
  timeout: number,
  template: boolean,
): BayeuxMessage {
  const reply: Branded = { channel: message.channel };
  if (message.id !== undefined) reply.id = message.id;
  if (typeof message.clientId === "string") reply.clientId = message.clientId;
  reply.successful = true;
  reply.advice = { reconnect: "retry", interval, timeout };
  if (template) reply[ADVICE_JSON] = retryAdviceJson(interval, timeout);
  return reply;
}

/**
 * A reply's JSON: by template for a connect reply built for one (and not
 * given an `ext` since, as the ack extension does), else `JSON.stringify`.
 *
 * @example
 * encodeReply(connectReply(message, 0, 30000, true));
 */
export function encodeReply(reply: BayeuxMessage): string {
  const advice = (reply as Branded)[ADVICE_JSON];
  if (advice === undefined || reply.ext !== undefined) return JSON.stringify(reply);
  let out = `{"channel":${quote(reply.channel)}`;
  const id = reply.id;
  if (id !== undefined) out += `,"id":${typeof id === "string" ? quote(id) : JSON.stringify(id)}`;
  if (reply.clientId !== undefined) out += `,"clientId":${quote(reply.clientId)}`;
  return `${out},"successful":true,"advice":${advice}}`;
}

/** Printable ASCII other than `"` and `\`: what JSON writes as it is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string as JSON: quoted as it is when nothing in it needs escaping. */
function quote(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}
