/**
 * The Bayeux server's counters, plain fields bumped where things happen: a
 * message in, a reply or delivery out, a publish routed (once, with its
 * recipient count), a queue overflowing, a session adopted. Sessions by
 * connection type are maintained as sessions open, connect and end, so a
 * scrape reads them in O(1). The node stats and metrics read them on demand.
 */
import { ErrorTally } from "../../shared/error-tally.js";
import { FANOUT_BUCKETS, Histogram } from "../../shared/histogram.js";
import { SlowConsumers } from "../../shared/slow-consumers.js";
import { TopicTraffic } from "../../shared/topic-traffic.js";

/** The connection type of a session before its first `/meta/connect`. */
export const PENDING_CONNECTION = "pending";

export class BayeuxStats {
  /** Sessions handshaken. */
  handshakes = 0;
  /** Error replies, by Bayeux error code (`ERR_BAYEUX_402`, ...). */
  readonly errors = new ErrorTally();
  /** Messages received (every message of every batch). */
  messagesIn = 0;
  /** Bytes of the batches they came in (request bodies, websocket frames). */
  bytesIn = 0;
  /** Replies and deliveries sent. */
  messagesOut = 0;
  /** Bytes of the responses and websocket frames that carried them. */
  bytesOut = 0;
  /** Client publishes received (messages on non-meta channels). */
  publishes = 0;
  /** Recipients of publishes routed on this node (subscribers and server listeners). */
  deliveries = 0;
  /** Recipients per publish routed on this node. */
  readonly fanout = new Histogram(FANOUT_BUCKETS);
  /** Deliveries dropped because a session's queue was full (`maxQueuedMessages`). */
  queueDrops = 0;
  /** Websockets cut for falling `maxBufferedBytes` behind. */
  overflows = 0;
  /** The clientIds that dropped most. */
  readonly slow = new SlowConsumers();
  /** Sessions taken over from a dead node, and takeovers that failed. */
  adopted = 0;
  adoptFailed = 0;
  /** Publishes per channel, bounded. */
  readonly traffic = new TopicTraffic();
  /** Live sessions by connection type ({@link PENDING_CONNECTION} before the first connect). */
  readonly open: Record<string, number> = { [PENDING_CONNECTION]: 0 };

  /** A session moved from connection type `from` to `to` ("" for none). */
  moved(from: string, to: string): void {
    const open = this.open;
    if (from !== "") open[from] = (open[from] ?? 1) - 1;
    if (to !== "") open[to] = (open[to] ?? 0) + 1;
  }
}
