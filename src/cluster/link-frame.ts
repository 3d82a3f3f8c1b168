/**
 * The frames of the node-to-node forwarding link (see forward-link.ts): pure
 * encoding and an incremental decoder, no I/O.
 *
 * Every frame: `u32 length` (of what follows), `u8 type`, `u8 flags`,
 * `u32 exchange id`, then the payload; integers big-endian.
 *
 * - REQUEST (forwarding node → owner): `u8 method length, method`,
 *   `u32 url length, url`, a header block, then the body (the rest).
 * - RESPONSE (owner → forwarding node): `u16 status`, a header block, then
 *   the first body chunk (the rest); flag FIN when the response ends here.
 * - DATA (owner → forwarding node): a body chunk; flag FIN on the last.
 * - CANCEL (either way, no payload): the client went away (to the owner), or
 *   the owner dropped the response (to the forwarding node).
 *
 * A header block: `u16 count`, then per header `u16 name length, name,
 * u32 value length, value`; a header with several values is repeated.
 * Methods, URLs and header fields are latin1, as node:http hands them over
 * (one byte per character, so no byte is changed on the way).
 */
import { ProtocolError } from "../shared/errors.js";

export const FRAME_REQUEST = 1;
export const FRAME_RESPONSE = 2;
export const FRAME_DATA = 3;
export const FRAME_CANCEL = 4;

/** Flag: the response ends with this frame. */
export const FLAG_FIN = 1;

/** Bytes before the payload: length, type, flags, id. */
export const FRAME_HEADER = 10;

export type LinkHeaders = Record<string, string | string[]>;

export interface RequestFrame {
  type: typeof FRAME_REQUEST;
  id: number;
  method: string;
  url: string;
  headers: LinkHeaders;
  body: Buffer;
}

export interface ResponseFrame {
  type: typeof FRAME_RESPONSE;
  id: number;
  fin: boolean;
  status: number;
  headers: LinkHeaders;
  body: Buffer;
}

export interface DataFrame {
  type: typeof FRAME_DATA;
  id: number;
  fin: boolean;
  body: Buffer;
}

export interface CancelFrame {
  type: typeof FRAME_CANCEL;
  id: number;
}

export type LinkFrame = RequestFrame | ResponseFrame | DataFrame | CancelFrame;

/** Bytes on the link that are not a frame this side accepts: the link is closed. */
export class LinkFrameError extends ProtocolError {
  constructor(message: string) {
    super("ERR_LINK_FRAME", message);
  }
}

const EMPTY = Buffer.alloc(0);

/** The encoded size of a header block. */
function headersSize(headers: LinkHeaders): number {
  let size = 2;
  for (const name in headers) {
    const value = headers[name];
    const nameSize = 6 + Buffer.byteLength(name, "latin1");
    if (typeof value === "string") size += nameSize + Buffer.byteLength(value, "latin1");
    else for (const v of value) size += nameSize + Buffer.byteLength(v, "latin1");
  }
  return size;
}

function writeHeaders(out: Buffer, at: number, headers: LinkHeaders): number {
  const countAt = at;
  let count = 0;
  at += 2;
  const one = (name: string, value: string): void => {
    const n = out.write(name, at + 2, "latin1");
    out.writeUInt16BE(n, at);
    at += 2 + n;
    const v = out.write(value, at + 4, "latin1");
    out.writeUInt32BE(v, at);
    at += 4 + v;
    count++;
  };
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === "string") one(name, value);
    else for (const v of value) one(name, v);
  }
  if (count > 0xffff) throw new LinkFrameError(`too many headers (${count})`);
  out.writeUInt16BE(count, countAt);
  return at;
}

function frame(type: number, flags: number, id: number, payload: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload);
  out.writeUInt32BE(6 + payload, 0);
  out[4] = type;
  out[5] = flags;
  out.writeUInt32BE(id, 6);
  return out;
}

/**
 * @example
 * encodeRequest(1, "GET", "/engine.io/?sid=x", { host: "a" }, null);
 */
export function encodeRequest(
  id: number,
  method: string,
  url: string,
  headers: LinkHeaders,
  body: Buffer | string | null,
): Buffer {
  const bodySize = body === null ? 0 : Buffer.byteLength(body);
  const methodSize = Buffer.byteLength(method, "latin1");
  if (methodSize > 0xff) throw new LinkFrameError("method too long");
  const urlSize = Buffer.byteLength(url, "latin1");
  const out = frame(
    FRAME_REQUEST,
    0,
    id,
    1 + methodSize + 4 + urlSize + headersSize(headers) + bodySize,
  );
  let at = FRAME_HEADER;
  out[at] = methodSize;
  at += 1 + out.write(method, at + 1, "latin1");
  out.writeUInt32BE(urlSize, at);
  at += 4 + out.write(url, at + 4, "latin1");
  at = writeHeaders(out, at, headers);
  if (typeof body === "string") out.write(body, at);
  else if (body !== null) body.copy(out, at);
  return out;
}

/** A RESPONSE frame: status, headers and the first chunk of the body. */
export function encodeResponse(
  id: number,
  status: number,
  headers: LinkHeaders,
  body: Buffer | string,
  fin: boolean,
): Buffer {
  const bodySize = Buffer.byteLength(body);
  const out = frame(FRAME_RESPONSE, fin ? FLAG_FIN : 0, id, 2 + headersSize(headers) + bodySize);
  out.writeUInt16BE(status, FRAME_HEADER);
  const at = writeHeaders(out, FRAME_HEADER + 2, headers);
  if (typeof body === "string") out.write(body, at);
  else body.copy(out, at);
  return out;
}

/** A DATA frame: one more chunk of a response's body. */
export function encodeData(id: number, body: Buffer | string, fin: boolean): Buffer {
  const bodySize = Buffer.byteLength(body);
  const out = frame(FRAME_DATA, fin ? FLAG_FIN : 0, id, bodySize);
  if (typeof body === "string") out.write(body, FRAME_HEADER);
  else body.copy(out, FRAME_HEADER);
  return out;
}

export function encodeCancel(id: number): Buffer {
  return frame(FRAME_CANCEL, 0, id, 0);
}

/** Reads a frame's fields; throws {@link LinkFrameError} on anything malformed. */
class Cursor {
  at: number;
  constructor(
    readonly buf: Buffer,
    at: number,
    readonly end: number,
  ) {
    this.at = at;
  }

  need(n: number): void {
    if (this.at + n > this.end) throw new LinkFrameError("truncated frame");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  latin1(n: number): string {
    this.need(n);
    const s = this.buf.toString("latin1", this.at, this.at + n);
    this.at += n;
    return s;
  }

  headers(): LinkHeaders {
    const headers: LinkHeaders = {};
    const count = this.u16();
    for (let i = 0; i < count; i++) {
      const name = this.latin1(this.u16());
      const value = this.latin1(this.u32());
      const had = headers[name];
      if (had === undefined) headers[name] = value;
      else if (typeof had === "string") headers[name] = [had, value];
      else had.push(value);
    }
    return headers;
  }

  rest(): Buffer {
    const body = this.at === this.end ? EMPTY : this.buf.subarray(this.at, this.end);
    this.at = this.end;
    return body;
  }
}

/** What one side accepts: the frame types it reads, and their size. */
export interface DecoderLimits {
  /** Largest frame (bytes after the length field). */
  maxFrame: number;
  /** Frame types this side reads; any other is a protocol error. */
  accepts: readonly number[];
}

/**
 * Turns the bytes of a link, in chunks split anywhere, into frames.
 *
 * @example
 * const decoder = new FrameDecoder({ maxFrame: 1 << 20, accepts: [FRAME_REQUEST, FRAME_CANCEL] });
 * socket.on("data", (chunk) => { for (const f of decoder.push(chunk)) handle(f); });
 */
export class FrameDecoder {
  readonly #limits: DecoderLimits;
  #pending: Buffer = EMPTY;

  constructor(limits: DecoderLimits) {
    this.#limits = limits;
  }

  /** The frames completed by `chunk`; throws {@link LinkFrameError} (the link is then unusable). */
  push(chunk: Buffer): LinkFrame[] {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const frames: LinkFrame[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32BE(at);
      // Checked before the frame is buffered: a peer cannot make this side hold more.
      if (length < 6) throw new LinkFrameError(`frame length ${length} below its header`);
      if (length > this.#limits.maxFrame) {
        throw new LinkFrameError(
          `frame of ${length} bytes over the limit (${this.#limits.maxFrame})`,
        );
      }
      if (buf.length - at - 4 < length) break;
      frames.push(this.#decode(buf, at + 4, at + 4 + length));
      at += 4 + length;
    }
    this.#pending = at === buf.length ? EMPTY : buf.subarray(at);
    return frames;
  }

  /** Bytes of an incomplete frame held. */
  get buffered(): number {
    return this.#pending.length;
  }

  #decode(buf: Buffer, start: number, end: number): LinkFrame {
    const c = new Cursor(buf, start, end);
    const type = c.u8();
    const flags = c.u8();
    const id = c.u32();
    if (!this.#limits.accepts.includes(type))
      throw new LinkFrameError(`unexpected frame type ${type}`);
    if ((flags & ~FLAG_FIN) !== 0) throw new LinkFrameError(`unknown flags ${flags}`);
    const fin = (flags & FLAG_FIN) !== 0;
    switch (type) {
      case FRAME_REQUEST: {
        const method = c.latin1(c.u8());
        const url = c.latin1(c.u32());
        const headers = c.headers();
        return { type, id, method, url, headers, body: c.rest() };
      }
      case FRAME_RESPONSE: {
        const status = c.u16();
        const headers = c.headers();
        return { type, id, fin, status, headers, body: c.rest() };
      }
      case FRAME_DATA:
        return { type, id, fin, body: c.rest() };
      default:
        if (c.at !== end) throw new LinkFrameError("cancel frame with a payload");
        return { type: FRAME_CANCEL, id };
    }
  }
}
