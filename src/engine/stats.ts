/**
 * The Engine.IO server's counters, plain fields bumped where things happen
 * (a handshake, an upgrade, a session opened or closed): the node stats and
 * the metrics exposition read them, nothing on the hot path calls out.
 * Open sessions per transport are maintained on open, upgrade and close so a
 * scrape reads them in O(1) however many sessions there are.
 */
import { ErrorTally } from "../shared/error-tally.js";
import { SlowConsumers } from "../shared/slow-consumers.js";
import type { WireCounters } from "../transport/transport.js";

export class EngineStats implements WireCounters {
  /** Bytes received: websocket frame payloads, polling request bodies. */
  bytesIn = 0;
  /** Bytes written: websocket frames, polling response bodies (before HTTP compression). */
  bytesOut = 0;
  /** Sessions opened (handshakes answered). */
  handshakes = 0;
  /** Sessions upgraded from polling to websocket. */
  upgrades = 0;
  /** Open sessions by current transport. */
  readonly open: Record<string, number> = { polling: 0, websocket: 0 };
  /** Refused requests and upgrades (`connection_error`), by code name (`ERR_EIO_*`). */
  readonly errors = new ErrorTally();
  /** Connections closed for falling `maxBufferedBytes` behind. */
  overflows = 0;
  /** The sessions closed as slow consumers (sid → closes). */
  readonly slow = new SlowConsumers();

  /** A session opened on `transport`. */
  opened(transport: string): void {
    this.open[transport] = (this.open[transport] ?? 0) + 1;
  }

  /** A session on `transport` closed. */
  closed(transport: string): void {
    this.open[transport] = (this.open[transport] ?? 1) - 1;
  }
}
