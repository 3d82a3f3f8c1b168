/**
 * A streaming reader of what a Redis server sends one client connection
 * (RESP2 and RESP3), that counts the bytes of pub/sub message payloads.
 *
 * It is fed the server → client chunks as they pass, split anywhere, and
 * follows the stream's structure without keeping any value: bulk data is
 * skipped by its declared length, simple lines by their LF; it holds only a
 * length header (a few digits), the stack of open aggregates (element counts)
 * and, at the top level, the first element of a 3- or 4-element array or push
 * when it is at most 8 bytes long (the message kind).
 *
 * A payload is the last element, when a bulk string, of a top-level
 * - `*3` array or `>3` push whose first element is the bulk string `message`
 *   or `smessage` (kind, channel, payload), or
 * - `*4` array or `>4` push whose first element is `pmessage` (kind,
 *   pattern, channel, payload)
 * (RESP2 pub/sub messages are arrays, RESP3 ones pushes; a RESP2 reply to a
 * command that is a 3-element array beginning with "message" would be counted
 * too, but a connection in RESP2 pub/sub mode receives no other replies).
 * Its data bytes are counted as they pass, so a count read mid-message
 * includes the part of the payload already seen; the `$<n>` header and CRLFs
 * are not payload.
 *
 * What does not parse stops the counting for good (`error` says why): the
 * byte count goes on, the payload count stays where it was. `write` never
 * throws.
 *
 * @example
 * const counter = new RespPayloadCounter();
 * counter.write(Buffer.from("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhel"));
 * counter.write(Buffer.from("lo\r\n")); // 2 (5 in all)
 * counter.payloadBytes; // 5
 */

/** Why a counter stopped following its stream. */
export type RespStreamErrorCode = "ERR_RESP_TYPE" | "ERR_RESP_LENGTH" | "ERR_RESP_TERMINATOR";

/** The stream is not RESP as this reader knows it; the counter stopped at `offset`. */
export class RespStreamError extends Error {
  override name = "RespStreamError";

  constructor(
    readonly code: RespStreamErrorCode,
    message: string,
    /** Bytes of the stream before the one that did not parse. */
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

const CR = 0x0d;
const LF = 0x0a;

/** Longest length header kept (sign and digits of a 64-bit count, CR). */
const MAX_HEADER = 24;

/** Pub/sub message kinds and the element count of their messages. */
const MESSAGE_KINDS: ReadonlyMap<string, number> = new Map([
  ["message", 3],
  ["smessage", 3],
  ["pmessage", 4],
]);

/** Longest kind name: a longer first element is not a message kind. */
const MAX_KIND = 8;

/**
 * What the top-level aggregate is known to be: maybe a message (kind not read
 * yet), a message, or something else.
 */
type TopLevel = "other" | "candidate" | "message";

/**
 * What the reader expects next: a type byte (a value starts), the rest of a
 * length header up to its LF, the rest of a simple line (`+ - : , # ( _`) up
 * to its LF, bulk data bytes, the CRLF after them, or nothing (the stream did
 * not parse).
 */
type Mode = "type" | "header" | "line" | "data" | "dataEnd" | "stopped";

/** An open aggregate: elements still expected, and whether it is an attribute (`|`). */
interface Aggregate {
  count: number;
  remaining: number;
  attribute: boolean;
}

/** Type bytes whose value is a length header followed by that many data bytes and CRLF. */
const BULK_TYPES = new Set(["$", "=", "!"]);
/** Type bytes whose value is a count header followed by that many values (twice for maps). */
const AGGREGATE_TYPES = new Set(["*", ">", "~", "%", "|"]);
/** Type bytes whose value ends at the line's end. */
const LINE_TYPES = new Set(["+", "-", ":", ",", "#", "(", "_"]);

export class RespPayloadCounter {
  #bytes = 0;
  #payloadBytes = 0;
  #messages = 0;
  #error: RespStreamError | undefined;

  #mode: Mode = "type";
  /** Type byte of the header being read. */
  #type = "";
  /** The header's characters read so far (without the type byte). */
  #header = "";
  /** Bulk data bytes still to come. */
  #left = 0;
  /** CRLF bytes still expected after bulk data (2, then 1). */
  #endLeft = 0;
  readonly #stack: Aggregate[] = [];
  #topLevel: TopLevel = "other";
  /** The bytes of the kind being read, while the first element of a candidate passes. */
  #kind: number[] | undefined;
  /** Whether the bulk data passing is a message payload. */
  #inPayload = false;

  /** Every byte fed, parsed or not. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Data bytes of pub/sub message payloads seen so far. */
  get payloadBytes(): number {
    return this.#payloadBytes;
  }

  /** Everything else: framing, kinds, channels, patterns, replies, and what was not parsed. */
  get otherBytes(): number {
    return this.#bytes - this.#payloadBytes;
  }

  /** Pub/sub messages whose payload began so far. */
  get messages(): number {
    return this.#messages;
  }

  /** Why counting stopped, or undefined while it goes on. */
  get error(): RespStreamError | undefined {
    return this.#error;
  }

  /** Reads the next chunk of the stream; returns the payload bytes in it. */
  write(chunk: Uint8Array): number {
    const start = this.#bytes;
    this.#bytes += chunk.length;
    let payload = 0;
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.#mode) {
        case "type":
          this.#startValue(chunk[pos], start + pos);
          pos += 1;
          break;
        case "header": {
          const byte = chunk[pos];
          pos += 1;
          if (byte === LF) this.#endHeader(start + pos - 1);
          else if (this.#header.length >= MAX_HEADER) {
            this.#stop("ERR_RESP_LENGTH", "length header too long", start + pos - 1);
          } else this.#header += String.fromCharCode(byte);
          break;
        }
        case "line": {
          const lf = chunk.indexOf(LF, pos);
          if (lf < 0) pos = end;
          else {
            pos = lf + 1;
            this.#mode = "type";
            this.#valueDone();
          }
          break;
        }
        case "data": {
          const take = Math.min(this.#left, end - pos);
          if (this.#kind !== undefined) {
            for (let i = pos; i < pos + take; i++) this.#kind.push(chunk[i]);
          }
          if (this.#inPayload) payload += take;
          this.#left -= take;
          pos += take;
          if (this.#left === 0) this.#mode = "dataEnd";
          break;
        }
        case "dataEnd": {
          const expected = this.#endLeft === 2 ? CR : LF;
          if (chunk[pos] !== expected) {
            this.#stop("ERR_RESP_TERMINATOR", "bulk data not followed by CRLF", start + pos);
            break;
          }
          pos += 1;
          this.#endLeft -= 1;
          if (this.#endLeft === 0) this.#endBulk();
          break;
        }
        case "stopped":
          pos = end;
          break;
      }
    }
    this.#payloadBytes += payload;
    return payload;
  }

  #startValue(byte: number, offset: number): void {
    const type = String.fromCharCode(byte);
    // The first element of a candidate is its kind only as a bulk string.
    if (
      this.#topLevel === "candidate" &&
      this.#directIndex() === 0 &&
      type !== "$" &&
      type !== "|"
    ) {
      this.#topLevel = "other";
    }
    if (LINE_TYPES.has(type)) {
      this.#mode = "line";
    } else if (BULK_TYPES.has(type) || AGGREGATE_TYPES.has(type)) {
      this.#type = type;
      this.#header = "";
      this.#mode = "header";
    } else {
      this.#stop("ERR_RESP_TYPE", `unknown type byte 0x${byte.toString(16)}`, offset);
    }
  }

  #endHeader(offset: number): void {
    const header = this.#header;
    if (!header.endsWith("\r")) {
      this.#stop("ERR_RESP_TERMINATOR", "header not ended by CRLF", offset);
      return;
    }
    const digits = header.slice(0, -1);
    // Streamed strings and aggregates (`$?`, `*?`) are not followed.
    if (!/^-?\d+$/.test(digits)) {
      this.#stop("ERR_RESP_LENGTH", `bad length ${JSON.stringify(digits)}`, offset);
      return;
    }
    const n = Number(digits);
    if (n < -1 || !Number.isSafeInteger(n)) {
      this.#stop("ERR_RESP_LENGTH", `bad length ${digits}`, offset);
      return;
    }
    this.#mode = "type";
    if (BULK_TYPES.has(this.#type)) this.#startBulk(n);
    else this.#startAggregate(n);
  }

  #startBulk(length: number): void {
    const index = this.#directIndex();
    if (length === -1) {
      // A null (RESP2): no data, no CRLF.
      if (this.#topLevel === "candidate" && index === 0) this.#topLevel = "other";
      this.#valueDone();
      return;
    }
    if (this.#topLevel === "candidate" && index === 0) {
      if (length <= MAX_KIND) this.#kind = [];
      else this.#topLevel = "other";
    }
    if (this.#topLevel === "message" && this.#type === "$" && index === this.#stack[0].count - 1) {
      this.#inPayload = true;
      this.#messages += 1;
    }
    this.#left = length;
    this.#endLeft = 2;
    this.#mode = length === 0 ? "dataEnd" : "data";
  }

  #endBulk(): void {
    this.#mode = "type";
    const kind = this.#kind;
    if (kind !== undefined) {
      this.#kind = undefined;
      const count = MESSAGE_KINDS.get(String.fromCharCode(...kind));
      this.#topLevel = count === this.#stack[0].count ? "message" : "other";
    }
    this.#inPayload = false;
    this.#valueDone();
  }

  #startAggregate(n: number): void {
    const attribute = this.#type === "|";
    const count = this.#type === "%" || attribute ? 2 * n : n;
    if (count <= 0) {
      // Null or empty: complete already (an empty attribute annotates the next value).
      if (!attribute) this.#valueDone();
      return;
    }
    if (
      this.#stack.length === 0 &&
      (this.#type === "*" || this.#type === ">") &&
      (count === 3 || count === 4)
    ) {
      this.#topLevel = "candidate";
    }
    this.#stack.push({ count, remaining: count, attribute });
  }

  /** A value ended: close every aggregate it completes. */
  #valueDone(): void {
    for (;;) {
      const top = this.#stack.at(-1);
      if (top === undefined) return;
      top.remaining -= 1;
      if (top.remaining > 0) return;
      this.#stack.pop();
      // An attribute is not a value of its parent: the value it annotates follows.
      if (top.attribute) return;
      if (this.#stack.length === 0) {
        this.#topLevel = "other";
        return;
      }
    }
  }

  /** Index of the value starting now in the top-level aggregate, or -1 when nested deeper. */
  #directIndex(): number {
    if (this.#stack.length !== 1) return -1;
    const top = this.#stack[0];
    return top.count - top.remaining;
  }

  #stop(code: RespStreamErrorCode, message: string, offset: number): void {
    this.#error = new RespStreamError(code, message, offset);
    this.#mode = "stopped";
    this.#inPayload = false;
    this.#kind = undefined;
  }
}
