/**
 * Writing a whole HTTP/1.1 response (status line, headers, body) to a
 * socket in one write, with what node:http would add: `Date`,
 * `Content-Length`, and `Connection: keep-alive` with the server's
 * keep-alive timeout as a hint.
 *
 * A broadcast answers many held polls with the same body and the same
 * header list: the bytes of the last such response are kept and written
 * again as they are, so each further recipient costs one socket write.
 */
import { type OutgoingHttpHeader, type OutgoingHttpHeaders, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

/** A header value that would split the response. */
const UNSAFE = /[\r\n\0]/;
/** Anything a UTF-8 string write would not write as one byte. */
const NOT_ASCII = /[\u0080-\uffff]/;

let dateSecond = -1;
let dateLine = "";

/** `Date: …\r\n`, rebuilt once a second. */
function currentDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** Thrown for a header value with CR, LF or NUL (a response splitting attempt). */
export class InvalidHeaderError extends Error {
  override name = "InvalidHeaderError";
  readonly code = "ERR_INVALID_CHAR";
  constructor(header: string) {
    super(`Invalid character in header content ["${header}"]`);
  }
}

interface HeadState {
  head: string;
  length: boolean;
  connection: boolean;
  close: boolean;
  date: boolean;
}

function addLine(state: HeadState, name: string, value: OutgoingHttpHeader): void {
  if (Array.isArray(value)) {
    for (const item of value) addLine(state, name, item);
    return;
  }
  const text = typeof value === "string" ? value : String(value);
  if (UNSAFE.test(text)) throw new InvalidHeaderError(name);
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === "date") state.date = true;
      break;
    case 10:
      if (name.toLowerCase() === "connection") {
        state.connection = true;
        if (text.toLowerCase().includes("close")) state.close = true;
      }
      break;
    case 14:
      if (name.toLowerCase() === "content-length") state.length = true;
      break;
  }
  state.head += `${name}: ${text}\r\n`;
}

/** Whether the list `pending` (flat or object) names `key` (lower case). */
function names(pending: string[] | OutgoingHttpHeaders | null, key: string): boolean {
  if (pending === null) return false;
  if (Array.isArray(pending)) {
    for (let i = 0; i < pending.length; i += 2) if (pending[i].toLowerCase() === key) return true;
    return false;
  }
  for (const name in pending) if (name.toLowerCase() === key) return true;
  return false;
}

/** A response's whole bytes, kept to be written again. */
interface Kept {
  headers: string[];
  body: string | Buffer;
  date: string;
  bytes: Buffer;
}

export class ResponseWriter {
  /** `Keep-Alive: timeout=…` from the server's keep-alive timeout. */
  readonly #keepAliveSeconds: () => number;
  /**
   * The last two responses made from a constant header list: a broadcast's
   * shared body, and the `ok` that answers every POST, alternate.
   */
  #kept: Kept | null = null;
  #keptBefore: Kept | null = null;

  constructor(keepAliveSeconds: () => number) {
    this.#keepAliveSeconds = keepAliveSeconds;
  }

  #find(headers: string[], body: string | Buffer, date: string): Buffer | null {
    const kept = this.#kept;
    if (kept !== null && kept.headers === headers && kept.body === body && kept.date === date) {
      return kept.bytes;
    }
    const before = this.#keptBefore;
    if (
      before !== null &&
      before.headers === headers &&
      before.body === body &&
      before.date === date
    ) {
      this.#keptBefore = kept;
      this.#kept = before;
      return before.bytes;
    }
    return null;
  }

  /**
   * Writes one response; returns whether the connection closes after it
   * (the client asked, or the headers say `Connection: close`). `set` is the
   * flat (lower-case name, name, value) list of `setHeader` calls, `pending`
   * the headers given to `writeHead`, which win over `set` by name.
   */
  write(
    socket: Socket,
    status: number,
    reason: string,
    set: readonly (string | OutgoingHttpHeader)[] | null,
    pending: string[] | OutgoingHttpHeaders | null,
    body: string | Buffer,
    keepAlive: boolean,
  ): boolean {
    const date = currentDate();
    // Only a constant header list (the caller's, reused) marks a response
    // that may come again; a string body compares by value.
    const shareable = status === 200 && set === null && keepAlive && Array.isArray(pending);
    if (shareable) {
      const bytes = this.#find(pending, body, date);
      if (bytes !== null) {
        socket.write(bytes);
        return false;
      }
    }
    const state: HeadState = {
      head: `HTTP/1.1 ${status} ${reason || STATUS_CODES[status] || "unknown"}\r\n`,
      length: false,
      connection: false,
      close: !keepAlive,
      date: false,
    };
    if (set !== null) {
      for (let i = 0; i < set.length; i += 3) {
        if (!names(pending, set[i] as string)) addLine(state, set[i + 1] as string, set[i + 2]);
      }
    }
    if (Array.isArray(pending)) {
      for (let i = 0; i < pending.length; i += 2) addLine(state, pending[i], pending[i + 1]);
    } else if (pending !== null) {
      for (const name in pending) {
        const value = pending[name];
        if (value !== undefined) addLine(state, name, value);
      }
    }
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.length;
    if (!state.length) state.head += `Content-Length: ${size}\r\n`;
    if (!state.date) state.head += date;
    if (!state.connection) {
      state.head += state.close
        ? "Connection: close\r\n"
        : `Connection: keep-alive\r\nKeep-Alive: timeout=${this.#keepAliveSeconds()}\r\n`;
    }
    state.head += "\r\n";
    const head = state.head;
    if (typeof body === "string" && !shareable && !NOT_ASCII.test(head)) {
      socket.write(head + body);
    } else {
      const headSize = Buffer.byteLength(head, "latin1");
      const bytes = Buffer.allocUnsafe(headSize + size);
      bytes.write(head, 0, headSize, "latin1");
      if (typeof body === "string") bytes.write(body, headSize, size, "utf8");
      else body.copy(bytes, headSize);
      if (shareable && !state.close) {
        this.#keptBefore = this.#kept;
        this.#kept = { headers: pending as string[], body, date, bytes };
      }
      socket.write(bytes);
    }
    if (state.close) socket.end();
    return state.close;
  }
}
