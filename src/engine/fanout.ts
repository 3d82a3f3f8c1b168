/**
 * One prepared message to a fixed list of engine sockets, the per-recipient
 * loop of a broadcast to a large room. Each socket's websocket, where the
 * frame can go to it as built, is looked up once when the list is made; a
 * broadcast then visits per recipient only that websocket and its TCP stream
 * (what a bare `ws` server's own loop visits) through the engine server's
 * `WebSocketWriter`, and the socket's tick mark
 * (shared with its own writes, so a second write in a tick corks and a
 * volatile packet sees the write in flight). Any other socket (polling, compression,
 * per-packet listeners, closing) takes its own `_sendPrepared`.
 *
 * A list goes stale when a socket it holds changes how it must be written to
 * (an upgrade, a per-packet listener): `stale` tells the owner to make a new one.
 *
 * @example
 * const targets = new FanoutTargets(conns);
 * targets.send(prepared, true, false, -1);
 */

import { frameBytes } from "../transport/ws-frame.js";
import type { WebSocket } from "../transport/ws-types.js";
import { OVERFLOW, UNAVAILABLE } from "../transport/ws-writer.js";
import type { PreparedMessage } from "./prepared-message.js";
import { directEpoch, type ListenerTable, type Socket } from "./socket.js";

export class FanoutTargets {
  readonly #conns: readonly Socket[];
  readonly #direct: (WebSocket | null)[];
  readonly #epoch: number;

  constructor(conns: readonly Socket[]) {
    this.#conns = conns;
    this.#epoch = directEpoch();
    this.#direct = conns.map((conn) => conn._directSocket());
  }

  /** A socket of the list changed how it is written to since the list was made. */
  get stale(): boolean {
    return this.#epoch !== directEpoch();
  }

  /**
   * Writes `prepared` to every socket of the list but the one at index `skip`
   * (-1: none). `compress` and `volatile` are the broadcast's flags.
   * Returns how many it was written to (a volatile message skips busy ones).
   */
  send(prepared: PreparedMessage, compress: boolean, volatile: boolean, skip: number): number {
    const conns = this.#conns;
    const count = conns.length;
    if (count === 0) return 0;
    const host = conns[0].server;
    const events = (host as unknown as ListenerTable)._events;
    // Listeners on the server's per-packet events: every socket takes its own path.
    const direct =
      events.flush === undefined && events.drain === undefined ? this.#direct : undefined;
    const max = host.opts.maxBufferedBytes;
    // One writer per engine server, one frame per broadcast: both read once here.
    const writer = conns[0].transport.config.writer;
    const frames = direct === undefined ? null : prepared.websocketFrame();
    let skipped = skip >= 0 && skip < count ? 1 : 0;
    let written = 0;
    for (let i = 0; i < count; i++) {
      if (i === skip) continue;
      const conn = conns[i];
      // Read for volatile broadcasts only: a recipient with a write in flight misses it.
      if (volatile && !conn._acceptsVolatile()) {
        skipped++;
        // The Socket.IO layer counts the drops; the slow-consumer list names who missed it.
        host.stats?.slow.add(conn.id);
        continue;
      }
      const ws = direct?.[i];
      const status =
        ws == null || frames === null ? UNAVAILABLE : writer.writeFrames(ws, frames, conn, max);
      if (status === UNAVAILABLE) conn._sendPrepared(prepared, compress, volatile);
      else {
        written++;
        if (status === OVERFLOW) conn._overflow();
      }
    }
    // The frames written as built, counted once (the others counted themselves).
    if (written > 0) conns[0].transport.config.counters.bytesOut += written * frameBytes(frames!);
    return count - skipped;
  }
}
