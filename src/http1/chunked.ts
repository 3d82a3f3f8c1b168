/**
 * The decoder of a chunked request body (RFC 9112 §7.1) for the kept-alive
 * connection layer. Incremental (a chunk line may be split at any byte across
 * arrivals), zero-copy (data comes back as subarrays of the input), strict
 * (sizes, CRLFs and trailer lines must be well formed) and bounded (chunk
 * extensions and trailers have size limits). It stops at the end of the body,
 * leaving any pipelined request after it unconsumed.
 */
import { COLON, CR, FIELD_VALUE, HEX_PLUS_ONE, HTAB, LF, SEMICOLON, SP, TOKEN } from "./chars.js";
import { HttpParseError } from "./errors.js";

/** Bounds on one chunked body. */
export interface ChunkedLimits {
  /** Most bytes of extensions on one chunk line (from after the size to the CR). */
  maxExtensionSize: number;
  /** Most bytes of trailer field lines (CRLFs included, the closing blank line not). */
  maxTrailerSize: number;
}

/** The limits used for any field not given. */
export const DEFAULT_CHUNKED_LIMITS: Readonly<ChunkedLimits> = {
  maxExtensionSize: 1024,
  maxTrailerSize: 16384,
};

/** Most hex digits of a chunk size, leading zeros included. */
export const MAX_CHUNK_SIZE_DIGITS = 15;

// Decoder states: where in the chunked grammar the next byte falls.
const SIZE = 0; // chunk-size digits
const EXTENSION = 1; // BWS / chunk-ext after the size, up to CR
const SIZE_LF = 2; // the LF ending a chunk line
const DATA = 3; // chunk-data
const DATA_CR = 4; // the CR after chunk-data
const DATA_LF = 5; // the LF after chunk-data
const TRAILER_LINE = 6; // start of a trailer field line, or the closing blank line
const TRAILER_NAME = 7;
const TRAILER_VALUE = 8;
const TRAILER_LF = 9; // the LF ending a trailer field line
const END_LF = 10; // the LF of the closing blank line
const DONE = 11;

/** What one {@link ChunkedDecoder.push} found. */
export interface ChunkedPushResult {
  /** The chunk data found, as subarrays of the pushed buffer (no copies). */
  chunks: Buffer[];
  /** Bytes consumed from `offset`; bytes after the body's end are left alone. */
  consumed: number;
  /** Whether the body ended (last chunk, trailers and final CRLF all read). */
  done: boolean;
}

/**
 * Incremental decoder of one chunked body. After it throws, it stays failed:
 * the stream can no longer be framed and the connection must close.
 */
export class ChunkedDecoder {
  private readonly maxExtensionSize: number;
  private readonly maxTrailerSize: number;
  private state = SIZE;
  private digits = 0;
  private size = 0;
  private remaining = 0;
  private extensionLength = 0;
  private extensionStarted = false;
  private trailerLength = 0;
  private failure: HttpParseError | null = null;

  constructor(limits?: Partial<ChunkedLimits>) {
    this.maxExtensionSize = limits?.maxExtensionSize ?? DEFAULT_CHUNKED_LIMITS.maxExtensionSize;
    this.maxTrailerSize = limits?.maxTrailerSize ?? DEFAULT_CHUNKED_LIMITS.maxTrailerSize;
  }

  /** Whether the whole body has been read. */
  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Decodes from buf[offset..]: returns the data found, the bytes consumed and
   * whether the body ended. Throws {@link HttpParseError} on malformed input.
   */
  push(buf: Buffer, offset: number): ChunkedPushResult {
    if (this.failure !== null) throw this.failure;
    try {
      return this.decode(buf, offset < 0 ? 0 : offset);
    } catch (error) {
      this.failure = error as HttpParseError;
      throw error;
    }
  }

  private decode(buf: Buffer, offset: number): ChunkedPushResult {
    const chunks: Buffer[] = [];
    const len = buf.length;
    let i = offset;
    let c = 0;
    while (i < len && this.state !== DONE) {
      switch (this.state) {
        case SIZE: {
          c = buf[i];
          const hex = HEX_PLUS_ONE[c];
          if (hex !== 0) {
            if (++this.digits > MAX_CHUNK_SIZE_DIGITS) chunkError("chunk size too long");
            this.size = this.size * 16 + (hex - 1);
            if (this.size > Number.MAX_SAFE_INTEGER) chunkError("chunk size too large");
            i++;
          } else if (this.digits === 0) {
            chunkError("chunk size expected");
          } else if (c === CR) {
            this.state = SIZE_LF;
            i++;
          } else if (c === SEMICOLON || c === SP || c === HTAB) {
            this.state = EXTENSION;
            this.extensionLength = 0;
            this.extensionStarted = false;
          } else {
            chunkError("bad chunk size");
          }
          break;
        }
        case EXTENSION:
          c = buf[i++];
          if (c === CR) {
            if (!this.extensionStarted) chunkError("whitespace after a chunk size");
            this.state = SIZE_LF;
          } else if (++this.extensionLength > this.maxExtensionSize) {
            chunkError("chunk extension too long");
          } else if (this.extensionStarted) {
            if (FIELD_VALUE[c] !== 1) chunkError("control character in a chunk extension");
          } else if (c === SEMICOLON) {
            this.extensionStarted = true;
          } else if (c !== SP && c !== HTAB) {
            chunkError("bad chunk extension");
          }
          break;
        case SIZE_LF:
          if (buf[i++] !== LF) chunkError("bare CR in a chunk line");
          if (this.size === 0) {
            this.state = TRAILER_LINE;
          } else {
            this.state = DATA;
            this.remaining = this.size;
          }
          break;
        case DATA: {
          const n = Math.min(this.remaining, len - i);
          chunks.push(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (buf[i++] !== CR) chunkError("chunk data not followed by CRLF");
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i++] !== LF) chunkError("chunk data not followed by CRLF");
          this.state = SIZE;
          this.size = 0;
          this.digits = 0;
          break;
        case TRAILER_LINE:
          c = buf[i];
          if (c === CR) {
            this.state = END_LF;
            i++;
          } else if (c === LF) {
            chunkError("bare LF ending the chunked body");
          } else if (c === SP || c === HTAB) {
            headerError("obs-fold or whitespace before a trailer field name");
          } else {
            this.state = TRAILER_NAME;
            this.digits = 0; // reused: the name's length
          }
          break;
        case TRAILER_NAME:
          c = buf[i++];
          this.countTrailerByte();
          if (c === COLON) {
            if (this.digits === 0) headerError("empty trailer field name");
            this.state = TRAILER_VALUE;
          } else if (TOKEN[c] === 1) {
            this.digits++;
          } else {
            headerError("bad trailer field name");
          }
          break;
        case TRAILER_VALUE:
          c = buf[i++];
          this.countTrailerByte();
          if (c === CR) this.state = TRAILER_LF;
          else if (FIELD_VALUE[c] !== 1) headerError("control character in a trailer field value");
          break;
        case TRAILER_LF:
          this.countTrailerByte();
          if (buf[i++] !== LF) headerError("bare CR in a trailer field");
          this.state = TRAILER_LINE;
          break;
        case END_LF:
          if (buf[i++] !== LF) chunkError("bare CR ending the chunked body");
          this.state = DONE;
          break;
      }
    }
    return { chunks, consumed: i - offset, done: this.state === DONE };
  }

  private countTrailerByte(): void {
    if (++this.trailerLength > this.maxTrailerSize) {
      throw new HttpParseError("TRAILERS_TOO_LARGE", `trailers over ${this.maxTrailerSize} bytes`);
    }
  }
}

function chunkError(message: string): never {
  throw new HttpParseError("BAD_CHUNK", message);
}

function headerError(message: string): never {
  throw new HttpParseError("BAD_HEADER", message);
}
