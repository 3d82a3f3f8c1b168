/**
 * The one writer of websocket frames: every byte the server sends over a
 * `ws` WebSocket, for Engine.IO and Bayeux alike, goes through a
 * {@link WebSocketWriter}, and this is the only module that reaches into
 * `ws` internals (the TCP stream `_socket`, the sender `_sender`).
 *
 * Three jobs, one place:
 *
 * - **Pre-built frames.** A broadcast's frame is built once (see
 *   `ws-frame.ts`) and written as it is to every recipient's TCP stream, as
 *   ws's own sender writes an uncompressed frame. Without permessage-deflate
 *   that sender holds no queue (its state stays idle), so nothing is
 *   overtaken; with it, callers use {@link WebSocketWriter.send}.
 * - **Tick coalescing.** The first write to a connection in a tick goes out
 *   at once; a second one corks the TCP stream, and one callback at the end of
 *   the tick (`process.nextTick`, after the current callback and its promise
 *   jobs) uncorks every stream corked in it. A connection so costs at most two
 *   stream writes (syscalls) per tick however many frames it is sent, while a
 *   fan-out of one message per tick pays nothing for the coalescing. Order is
 *   unchanged: every frame goes through the same stream, in order.
 * - **Backlog and overflow.** After a write the writer compares the bytes
 *   still waiting in this process (what the kernel did not take) with the
 *   caller's limit and answers {@link OVERFLOW}: the owner then closes the
 *   connection, as a slow consumer. Corked bytes wait in the stream until the
 *   end of the tick although the kernel would take them, so a caller that
 *   wants the true backlog gives a {@link BacklogWatcher}: the measure is then
 *   taken after the uncork, and the watcher told only if it is over the limit.
 *
 * State (the tick number, the corked streams, the watchers) belongs to one
 * writer; each server owns one, so two servers in one process share nothing.
 * A connection is written to by one writer only.
 *
 * @example
 * const writer = new WebSocketWriter();
 * const frames = encodeFrame('42["news","hi"]', false);
 * for (const conn of conns) {
 *   const status = writer.writeFrames(conn.ws, frames, conn, 1 << 20);
 *   if (status === UNAVAILABLE) conn.ws.send('42["news","hi"]');
 *   else if (status === OVERFLOW) conn.ws.terminate();
 * }
 */
import type { WebSocket } from "./ws-types.js";

/** A write's outcome: written (or nothing to do: the connection is not open). */
export const WRITTEN = 0;
/** A write's outcome: no TCP stream to write frames to (a stand-in `ws`): use {@link WebSocketWriter.send}. */
export const UNAVAILABLE = 1;
/** A write's outcome: written, and the connection's backlog is now over the caller's limit. */
export const OVERFLOW = 2;

/** {@link WRITTEN}, {@link UNAVAILABLE} or {@link OVERFLOW}. */
export type WriteStatus = 0 | 1 | 2;

/**
 * Where a connection keeps the tick of its last write (a field of the
 * connection's owner, so no per-connection state lives in the writer). Start
 * it at 0: tick numbers start at 1.
 */
export interface TickMark {
  tickMark: number;
}

/** Told when the backlog measured after the end-of-tick uncork is over the limit. */
export interface BacklogWatcher {
  overflowed(): void;
}

/** The part of a `net.Socket` the writer uses. */
interface Stream {
  write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean;
  readonly writableLength: number;
  readonly writableCorked: number;
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  readonly remoteAddress?: string;
}

/** The part of ws's (untyped) Sender the writer reads: idle is state 0. */
interface Sender {
  _state?: number;
}

/** A `ws` WebSocket with the internals the writer reads. */
type Internals = WebSocket & { _socket?: Stream; _sender?: Sender };

const WS_OPEN = 1;

/** The TCP stream under `ws`, when it has one that frames can be written to. */
function streamOf(ws: WebSocket): Stream | undefined {
  const stream = (ws as Internals)._socket;
  return stream !== undefined && typeof stream.write === "function" ? stream : undefined;
}

/** The remote address of the TCP connection under `ws`. */
export function remoteAddressOf(ws: WebSocket): string | undefined {
  return (ws as Internals)._socket?.remoteAddress;
}

/**
 * Writes a frame's parts (a large frame is `[header, payload]`) in one
 * corked span, so they leave in one writev as ws's sender writes them.
 */
function writeParts(
  stream: Stream,
  frames: readonly Buffer[],
  done?: (err?: Error | null) => void,
): void {
  const last = frames.length - 1;
  if (last === 0) {
    stream.write(frames[0], done);
    return;
  }
  stream.cork();
  for (let i = 0; i < last; i++) stream.write(frames[i]);
  stream.write(frames[last], done);
  stream.uncork();
}

export class WebSocketWriter {
  /** Ticks are numbered by the end-of-tick callback: a mark equal to it was set in this one. */
  #tick = 1;
  #scheduled = false;
  #corked: Stream[] = [];
  #spare: Stream[] = [];
  /** Watchers of connections corked in this tick, with their `ws` and limit (parallel lists). */
  #watchers: BacklogWatcher[] = [];
  #watched: WebSocket[] = [];
  #limits: number[] = [];
  /** One bound callback per writer, not one per tick. */
  readonly #endTick = (): void => this.#uncorkAll();

  /**
   * Writes complete frames (from `encodeFrame`) straight to the TCP stream
   * under `ws`; the caller makes sure permessage-deflate is off. `mark` is the
   * connection's tick mark (null: no coalescing, write as it comes). The
   * backlog is measured against `maxBacklog` after the write, or, when the
   * stream is corked until the end of the tick and `watcher` is given, after
   * the uncork (give the same watcher on every write to a connection).
   *
   * This is the per-recipient work of a fan-out: it visits `ws`, its stream
   * and `mark`, nothing else.
   */
  writeFrames(
    ws: WebSocket,
    frames: readonly Buffer[],
    mark: TickMark | null,
    maxBacklog: number,
    watcher?: BacklogWatcher,
  ): WriteStatus {
    if (ws.readyState !== WS_OPEN) return WRITTEN;
    const stream = streamOf(ws);
    if (stream === undefined) return UNAVAILABLE;
    if (mark !== null && this.#coalesce(stream, mark) && watcher !== undefined) {
      this.#watch(watcher, ws, maxBacklog);
    }
    if (frames.length === 1) stream.write(frames[0]);
    else writeParts(stream, frames);
    if (watcher !== undefined && stream.writableCorked !== 0) return WRITTEN;
    return stream.writableLength > maxBacklog ? OVERFLOW : WRITTEN;
  }

  /**
   * {@link writeFrames} for a single writer's own packets: `done` runs once
   * the last frame is handed to the kernel (or with the write's error). Only
   * while ws's sender is idle, so no frame it queued is overtaken; otherwise
   * nothing is written and the answer is {@link UNAVAILABLE} (use
   * {@link send}).
   */
  writeFramesThen(
    ws: WebSocket,
    frames: readonly Buffer[],
    mark: TickMark | null,
    maxBacklog: number,
    done?: (err?: Error | null) => void,
  ): WriteStatus {
    if (ws.readyState !== WS_OPEN) return WRITTEN;
    const stream = streamOf(ws);
    const sender = (ws as Internals)._sender;
    if (stream === undefined || sender === undefined || sender._state !== 0) return UNAVAILABLE;
    if (mark !== null) this.#coalesce(stream, mark);
    writeParts(stream, frames, done);
    return stream.writableLength > maxBacklog ? OVERFLOW : WRITTEN;
  }

  /**
   * Sends a message through ws's own `send` (framed, and compressed when
   * `compress` and permessage-deflate are on), coalesced like
   * {@link writeFrames}; the backlog is ws's `bufferedAmount` after it
   * (measured after the uncork when `watcher` is given and the stream is corked).
   */
  send(
    ws: WebSocket,
    data: string | Buffer,
    binary: boolean,
    compress: boolean,
    mark: TickMark | null,
    maxBacklog: number,
    done?: (err?: Error | null) => void,
    watcher?: BacklogWatcher,
  ): WriteStatus {
    if (ws.readyState !== WS_OPEN) return WRITTEN;
    const stream = (ws as Internals)._socket;
    if (mark !== null && stream !== undefined && typeof stream.cork === "function") {
      if (this.#coalesce(stream, mark) && watcher !== undefined)
        this.#watch(watcher, ws, maxBacklog);
    }
    ws.send(data, { binary, compress }, done);
    if (watcher !== undefined && stream !== undefined && stream.writableCorked !== 0)
      return WRITTEN;
    return ws.bufferedAmount > maxBacklog ? OVERFLOW : WRITTEN;
  }

  /**
   * Whether a write to the connection is in flight: written to in this tick
   * (its write callback runs on the next one at the earliest), bytes the
   * kernel has not taken yet, or ws's sender busy (compressing). Engine.IO's
   * websocket transport is not `writable` over that span, and socket.io drops
   * a volatile packet meanwhile.
   */
  busy(ws: WebSocket, mark: TickMark): boolean {
    if (mark.tickMark === this.#tick) return true;
    const stream = (ws as Internals)._socket;
    if (stream !== undefined && stream.writableLength > 0) return true;
    const state = (ws as Internals)._sender?._state;
    return state !== undefined && state !== 0;
  }

  /** Whether the stream under `ws` is corked until the end of the tick. */
  corked(ws: WebSocket): boolean {
    const stream = (ws as Internals)._socket;
    return (
      stream !== undefined && stream.writableCorked !== undefined && stream.writableCorked !== 0
    );
  }

  /**
   * Marks a write to the connection of `mark` in this tick; on its second
   * one, corks `stream` until the end of the tick. Returns whether this call
   * corked it.
   */
  #coalesce(stream: Stream, mark: TickMark): boolean {
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#endTick);
    }
    const tick = this.#tick;
    if (mark.tickMark !== tick) {
      mark.tickMark = tick;
      return false;
    }
    // Corked already: by an earlier write this tick (ws's own cork around a
    // two-part frame is released before its send returns).
    if (stream.writableCorked !== 0 || stream.destroyed || typeof stream.cork !== "function") {
      return false;
    }
    stream.cork();
    this.#corked.push(stream);
    return true;
  }

  #watch(watcher: BacklogWatcher, ws: WebSocket, maxBacklog: number): void {
    this.#watchers.push(watcher);
    this.#watched.push(ws);
    this.#limits.push(maxBacklog);
  }

  #uncorkAll(): void {
    // Swap lists first: an uncork may write, and a write may cork anew for
    // the next tick.
    const list = this.#corked;
    this.#corked = this.#spare;
    this.#spare = list;
    this.#scheduled = false;
    this.#tick++;
    for (let i = 0; i < list.length; i++) list[i].uncork();
    list.length = 0;
    const watchers = this.#watchers;
    if (watchers.length === 0) return;
    const watched = this.#watched;
    const limits = this.#limits;
    this.#watchers = [];
    this.#watched = [];
    this.#limits = [];
    for (let i = 0; i < watchers.length; i++) {
      const ws = watched[i];
      if (ws.readyState === WS_OPEN && ws.bufferedAmount > limits[i]) watchers[i].overflowed();
    }
  }
}
