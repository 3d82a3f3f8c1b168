/**
 * Bayeux messages on the wire (Bayeux 1.0 section 3, "Message Field
 * Definitions"). A request body or websocket frame is a JSON array of message
 * objects, or a single object (section 3: "messages may be sent singly or in
 * batches"). Decoding checks the outer shape and the limits; each message is
 * then checked on its own by {@link checkMessage}, so one bad message in a
 * batch gets its own error reply without failing its neighbours.
 */
import { DEFAULT_MAX_PAYLOAD_DEPTH, jsonDepthExceeds, valueDepthExceeds } from "../json-depth.js";
import { BayeuxParseError, bayeuxError } from "./errors.js";

/** Reconnect advice (section 3.5). */
export interface BayeuxAdvice {
  reconnect?: "retry" | "handshake" | "none";
  interval?: number;
  timeout?: number;
  [field: string]: unknown;
}

/** A message as read from, or written to, the wire. */
export interface BayeuxMessage {
  channel: string;
  id?: string | number;
  clientId?: string;
  data?: unknown;
  ext?: Record<string, unknown>;
  advice?: BayeuxAdvice;
  successful?: boolean;
  error?: string;
  version?: string;
  minimumVersion?: string;
  supportedConnectionTypes?: string[];
  connectionType?: string;
  subscription?: string | string[];
  [field: string]: unknown;
}

/** Limits applied while decoding a batch. */
export interface DecodeLimits {
  /** Most messages in one batch. */
  maxBatchLength: number;
  /**
   * Deepest nesting of arrays and objects in one message, the message object
   * counting as one level (the batch's own array does not count). Default
   * {@link DEFAULT_MAX_PAYLOAD_DEPTH} (64).
   */
  maxPayloadDepth?: number;
}

// Dropping "__proto__" keys keeps a later Object.assign or spread of a
// message from ever reaching Object.prototype.
function stripProto(key: string, value: unknown): unknown {
  return key === "__proto__" ? undefined : value;
}

/** Index of the first character that is not JSON whitespace. */
function firstNonSpace(text: string): number {
  let i = 0;
  for (; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
  }
  return i;
}

function tooDeep(max: number): BayeuxParseError {
  return new BayeuxParseError(
    "ERR_BAYEUX_TOO_DEEP",
    `message nested deeper than ${max} levels`,
    bayeuxError("badRequest", [], "Message nested too deeply"),
  );
}

/**
 * Decodes a request body or websocket frame into a batch of raw messages.
 * Throws {@link BayeuxParseError} for text that is not JSON, holds a message
 * nested deeper than `maxPayloadDepth`, is not an object or an array of
 * values, or holds more than `maxBatchLength` messages.
 *
 * @example
 * decodeBatch('[{"channel":"/meta/handshake"}]', { maxBatchLength: 100 });
 */
export function decodeBatch(text: string, limits: DecodeLimits): unknown[] {
  const maxDepth = limits.maxPayloadDepth ?? DEFAULT_MAX_PAYLOAD_DEPTH;
  const revive = text.includes("__proto__");
  // The reviver walks the value recursively: such text is measured before
  // parsing (a batch's own array is one level more than its messages).
  // Otherwise the parse builds any depth without recursing, and checking
  // the parsed messages costs far less than scanning the text.
  if (revive) {
    const start = firstNonSpace(text);
    const outer = text.charCodeAt(start) === 0x5b ? 1 : 0;
    if (jsonDepthExceeds(text, maxDepth + outer, start)) throw tooDeep(maxDepth);
  }
  let value: unknown;
  try {
    value = revive ? JSON.parse(text, stripProto) : JSON.parse(text);
  } catch (cause) {
    throw new BayeuxParseError("ERR_BAYEUX_JSON", "body is not JSON", bayeuxError("badRequest"), {
      cause,
    });
  }
  const batch = Array.isArray(value) ? value : [value];
  if (value === null || typeof value !== "object") {
    throw new BayeuxParseError(
      "ERR_BAYEUX_SHAPE",
      "body is neither a message nor an array of messages",
      bayeuxError("badRequest"),
    );
  }
  if (batch.length > limits.maxBatchLength) {
    throw new BayeuxParseError(
      "ERR_BAYEUX_BATCH_LENGTH",
      `batch of ${batch.length} messages exceeds ${limits.maxBatchLength}`,
      bayeuxError("badRequest", [String(limits.maxBatchLength)], "Too many messages"),
      { batch },
    );
  }
  for (let i = 0; i < batch.length; i++) {
    if (valueDepthExceeds(batch[i], maxDepth)) throw tooDeep(maxDepth);
  }
  return batch;
}

/**
 * The error replies for input that cannot be processed: one per message
 * (with its `channel` and `id`, as every reply echoes them, section 3) when
 * the input was a readable batch, else one anonymous reply.
 *
 * @example
 * parseErrorReplies(err); // [{ channel: "/meta/connect", id: "7", successful: false, error: "400:100:Too many messages" }, ...]
 */
export function parseErrorReplies(err: BayeuxParseError): BayeuxMessage[] {
  const error = err.bayeuxError;
  if (err.batch === null) return [{ successful: false, error } as BayeuxMessage];
  const out: BayeuxMessage[] = new Array(err.batch.length);
  for (let i = 0; i < err.batch.length; i++) {
    const item = err.batch[i];
    const message = (item !== null && typeof item === "object" ? item : {}) as Record<
      string,
      unknown
    >;
    const reply: BayeuxMessage = {
      channel: typeof message.channel === "string" ? message.channel : "",
      successful: false,
      error,
    };
    const id = message.id;
    if (typeof id === "string" || typeof id === "number") reply.id = id;
    if (typeof message.clientId === "string") reply.clientId = message.clientId;
    out[i] = reply;
  }
  return out;
}

/**
 * Checks the fields every message must have the right type for. Returns the
 * message typed, or an error field to reply with.
 */
export function checkMessage(value: unknown): BayeuxMessage | string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return bayeuxError("badRequest", [], "Message is not an object");
  }
  const message = value as Record<string, unknown>;
  if (typeof message.channel !== "string" || message.channel.length === 0) {
    return bayeuxError("parameterMissing", ["channel"]);
  }
  const { id, clientId, ext } = message;
  if (id !== undefined && typeof id !== "string" && typeof id !== "number") {
    return bayeuxError("badRequest", ["id"], "Bad message id");
  }
  if (clientId !== undefined && typeof clientId !== "string") {
    return bayeuxError("badRequest", ["clientId"], "Bad client id");
  }
  if (ext !== undefined && (ext === null || typeof ext !== "object" || Array.isArray(ext))) {
    return bayeuxError("badRequest", ["ext"], "Bad ext");
  }
  return message as BayeuxMessage;
}

/**
 * Serialises a batch whose first part is already-encoded deliveries (shared,
 * encoded once per publish) and whose second part is per-request replies.
 *
 * @example
 * encodeBatch(['{"channel":"/a","data":1}'], [{ channel: "/meta/connect", successful: true }]);
 */
export function encodeBatch(encoded: readonly string[], replies: readonly object[]): string {
  if (encoded.length === 0) return JSON.stringify(replies);
  let out = "[";
  for (let i = 0; i < encoded.length; i++) {
    if (i > 0) out += ",";
    out += encoded[i];
  }
  for (const reply of replies) out += `,${JSON.stringify(reply)}`;
  return `${out}]`;
}
