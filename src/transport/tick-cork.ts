/**
 * Write coalescing for websockets: the first write to a connection in a tick
 * goes out at once, a second one corks its TCP socket, and one shared callback
 * at the end of the tick uncorks them all, so a connection gets at most two
 * syscalls per tick however many frames were sent to it (a burst of ten
 * broadcasts is two writes per recipient, not ten), while a fan-out of one
 * message per tick pays nothing for the coalescing.
 *
 * Ordering is unchanged: every frame still goes through the same stream, in
 * order; only the moment the kernel sees the later ones moves to the end of the tick
 * (`process.nextTick`, which runs once the current callback and its promise
 * jobs are done). One module-level list and one scheduled callback serve every
 * connection of every protocol: no per-socket closure or timer.
 *
 * The bytes of the tick wait in the stream's buffer until then, so they count
 * in `ws.bufferedAmount`: a slow-consumer check made right after a corked
 * write sees bytes the kernel would have taken at once. A caller that wants
 * the true backlog passes a {@link TickWatcher}, told once the socket is
 * uncorked, and checks then.
 *
 * @example
 * corkForTick(ws);
 * ws.send(frame); // reaches the kernel with the tick's other frames to `ws`
 */
import type { WebSocket } from "./ws-types.js";

/** The part of a `net.Socket` used to coalesce one tick's writes. */
export interface Corkable {
  /** The tick of this stream's last write through {@link corkForTick}. */
  [kTick]?: number;
  writableCorked?: number;
  destroyed?: boolean;
  cork?: () => void;
  uncork?: () => void;
}

/** Told after the end-of-tick uncork (one shared object per socket, no closure). */
export interface TickWatcher {
  uncorked(): void;
}

const kTick = Symbol("switchboard.tick");

// Ticks are numbered by the end-of-tick callback: a stream whose mark equals
// `tick` was written to earlier in this one.
let tick = 1;
let corked: Corkable[] = [];
let spare: Corkable[] = [];
// Only callers that ask are listed: the Socket.IO path never fills this.
let watchers: TickWatcher[] = [];
let uncorkScheduled = false;

function uncorkAll(): void {
  // Swap lists first: an uncork may write, and a write may cork anew for
  // the next tick.
  const list = corked;
  corked = spare;
  spare = list;
  uncorkScheduled = false;
  tick++;
  for (let i = 0; i < list.length; i++) list[i].uncork?.();
  list.length = 0;
  if (watchers.length === 0) return;
  const told = watchers;
  watchers = [];
  for (let i = 0; i < told.length; i++) told[i].uncorked();
}

/** The TCP stream under a ws WebSocket (`_socket`, untyped in ws). */
function streamOf(socket: WebSocket): Corkable | undefined {
  return (socket as unknown as { _socket?: Corkable })._socket;
}

/**
 * Whether the TCP socket under `socket` is corked until the end of the tick
 * (then what was written to it is still in this process until the uncork).
 */
export function isCorkedForTick(socket: WebSocket): boolean {
  const stream = streamOf(socket);
  return stream !== undefined && stream.writableCorked !== undefined && stream.writableCorked !== 0;
}

/**
 * Called before each write to `socket`: the first write of a tick goes out at
 * once (a fan-out of one message per tick costs what a bare `ws` write costs:
 * no cork, no deferred uncork); a second write in the same tick corks the TCP
 * socket until the end of the tick, so the rest of the tick's frames leave in
 * one writev. `watcher`, given on the call that corks, is told after the
 * uncork.
 *
 * Returns whether the socket is corked until the end of the tick (false:
 * this write goes out as it is made).
 */
export function corkForTick(socket: WebSocket, watcher?: TickWatcher): boolean {
  // A stand-in without a TCP socket (or without cork) is written to as it is.
  const stream = streamOf(socket);
  if (stream === undefined || stream.destroyed || typeof stream.cork !== "function") return false;
  // Corked already: by an earlier call this tick (ws's own cork around a
  // frame is released before its send returns).
  if (stream.writableCorked !== 0) return true;
  scheduleUncork();
  if (stream[kTick] !== tick) {
    stream[kTick] = tick;
    return false;
  }
  return corkUntilTickEnd(stream, watcher);
}

/** A writer that keeps the tick of its last write itself (a transport field). */
export interface TickMark {
  tickMark: number;
}

/**
 * For a writer that keeps its own {@link TickMark}: whether it already wrote
 * in this tick. The first call of a tick marks it and returns false (write at
 * once, nothing of the stream read); a later one returns true: the caller
 * corks with {@link corkStream}.
 */
export function markWrittenThisTick(mark: TickMark): boolean {
  scheduleUncork();
  if (mark.tickMark === tick) return true;
  mark.tickMark = tick;
  return false;
}

/**
 * Whether the writer of `mark` wrote in this tick (without marking). Its
 * frames then wait for the end-of-tick uncork, or, written at once, for the
 * write callback that Node runs on the next tick: a write is in flight (see
 * the websocket transport's `writing`).
 */
export function wroteThisTick(mark: TickMark): boolean {
  return mark.tickMark === tick;
}

/** Corks `stream` until the end of the tick (once; a corked stream is left as it is). */
export function corkStream(stream: Corkable): void {
  if (stream.destroyed || typeof stream.cork !== "function" || stream.writableCorked !== 0) return;
  corkUntilTickEnd(stream, undefined);
}

function scheduleUncork(): void {
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    process.nextTick(uncorkAll);
  }
}

function corkUntilTickEnd(stream: Corkable, watcher: TickWatcher | undefined): boolean {
  (stream.cork as () => void)();
  corked.push(stream);
  if (watcher !== undefined) watchers.push(watcher);
  return true;
}
