/**
 * The per-server side of the Bayeux websocket write path: the server's
 * {@link WebSocketWriter}, the sockets with deliveries waiting for the end of
 * the tick, and the batch frame shared by the recipients of one tick's
 * broadcasts. One outbox per websocket handler, so two servers in one
 * process share no mutable state.
 *
 * Deliveries pushed to a socket wait until the end of the tick, then leave as
 * one text frame `[d1,d2,...]` (as Faye batches its queue): a burst costs each
 * recipient one frame instead of one per message. One `process.nextTick` per
 * tick flushes every listed socket.
 *
 * @example
 * const outbox = new WebSocketOutbox();
 * outbox.schedule(socket); // socket.flush() runs at the end of the tick
 */
import { encodeFrame } from "../../transport/ws-frame.js";
import { WebSocketWriter } from "../../transport/ws-writer.js";
import type { Delivery } from "../server/delivery.js";

/** A socket with deliveries to write at the end of the tick. */
export interface Flushable {
  flush(): void;
}

/**
 * Most bytes joined into one batch frame: a longer burst leaves in several
 * frames, so no peer is handed one unbounded frame (a delivery larger than
 * this goes alone, as it would have anyway).
 */
export const BATCH_BYTES = 64 * 1024;

export class WebSocketOutbox {
  /** Writes every frame of the server's websockets. */
  readonly writer: WebSocketWriter;
  #dirty: Flushable[] = [];
  #scheduled = false;
  // The last batch built in a flush and its bytes: recipients of the same
  // broadcasts in the same tick hold the same deliveries in the same order,
  // so the frame is built once and shared, as a single delivery's frame is.
  #lastList: readonly Delivery[] | null = null;
  #lastStart = 0;
  #lastEnd = 0;
  #lastFrame: Buffer | null = null;
  /** The complete websocket frame of `#lastFrame`, built on first use. */
  #lastWsFrame: Buffer[] | null = null;
  /** One bound callback per outbox, not one per tick. */
  readonly #flushAll = (): void => this.#flush();

  constructor(writer: WebSocketWriter = new WebSocketWriter()) {
    this.writer = writer;
  }

  /** Lists `socket` for the end-of-tick flush (once per tick: the caller knows). */
  schedule(socket: Flushable): void {
    this.#dirty.push(socket);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#flushAll);
    }
  }

  /**
   * The text frame `[d1,d2,...]` of `list[start, end)` (two deliveries or
   * more), joined from the deliveries' own shared frames (`[json]` each):
   * bytes are copied, no JSON is encoded again. Shared with the next
   * recipient of the same deliveries in this flush.
   */
  batch(list: readonly Delivery[], start: number, end: number): Buffer {
    if (this.#lastFrame !== null && this.#sameAsLast(list, start, end)) return this.#lastFrame;
    this.#lastFrame = joinFrames(list, start, end);
    this.#lastWsFrame = null;
    this.#lastList = list;
    this.#lastStart = start;
    this.#lastEnd = end;
    return this.#lastFrame;
  }

  /** The complete websocket frame of the last {@link batch}, built once for its recipients. */
  batchWsFrame(): Buffer[] {
    this.#lastWsFrame ??= encodeFrame(this.#lastFrame as Buffer, false);
    return this.#lastWsFrame;
  }

  #flush(): void {
    const list = this.#dirty;
    this.#dirty = [];
    this.#scheduled = false;
    for (let i = 0; i < list.length; i++) list[i].flush();
    this.#lastList = this.#lastFrame = this.#lastWsFrame = null;
  }

  /** Whether `list[start, end)` holds the same deliveries as the last batch built. */
  #sameAsLast(list: readonly Delivery[], start: number, end: number): boolean {
    const last = this.#lastList;
    const lastStart = this.#lastStart;
    if (last === null || end - start !== this.#lastEnd - lastStart) return false;
    for (let i = start, j = lastStart; i < end; i++, j++) if (list[i] !== last[j]) return false;
    return true;
  }
}

/** `[` + the deliveries' JSON joined by `,` + `]`, copied out of their frames. */
function joinFrames(list: readonly Delivery[], start: number, end: number): Buffer {
  let length = 1;
  for (let i = start; i < end; i++) length += list[i].frame.length - 1;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (let i = start; i < end; i++) {
    const frame = list[i].frame;
    // Each frame is `[json]`: its `json`, led by `[` (the first) or `,`.
    out[at++] = i === start ? 0x5b : 0x2c;
    at += frame.copy(out, at, 1, frame.length - 1);
  }
  out[at] = 0x5d;
  return out;
}
