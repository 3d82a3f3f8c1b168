/**
 * The Socket.IO server's counters, plain fields bumped where things happen:
 * a packet in, a packet written, a broadcast (once, with its recipient count,
 * never per recipient), an acknowledgement, a refused connect. Bytes are
 * counted below, by the engine's transports (`EngineStats`). The node stats
 * and the metrics exposition read them on demand.
 */
import { ErrorTally } from "../shared/error-tally.js";
import { FANOUT_BUCKETS, Histogram } from "../shared/histogram.js";

export class SocketIoStats {
  /** Sockets connected to a namespace (recovered ones included). */
  connects = 0;
  /** Refused namespace connects, by code (`ERR_SIO_INVALID_NAMESPACE`, `ERR_SIO_MIDDLEWARE`). */
  readonly errors = new ErrorTally();
  /** Socket.IO packets received (events, acks, connects, disconnects). */
  messagesIn = 0;
  /** Packets written to connections: direct emits and replies, plus every broadcast delivery. */
  messagesOut = 0;
  /** EVENT packets received from clients. */
  eventsIn = 0;
  /** Broadcasts made on this node (to rooms, a namespace, or a socket with recovery on). */
  broadcasts = 0;
  /** Recipients of those broadcasts and of other nodes' broadcasts delivered here. */
  deliveries = 0;
  /** Recipients per broadcast. */
  readonly fanout = new Histogram(FANOUT_BUCKETS);
  /** Acknowledgements sent to clients (answers to their emits with a callback). */
  acksSent = 0;
  /** Acknowledgements received from clients. */
  acksReceived = 0;
  /** Emits and broadcasts whose acknowledgement did not come in time. */
  ackTimeouts = 0;
  /** Volatile packets not written because the connection was busy. */
  volatileDrops = 0;
  /** Sessions restored by connection state recovery, and resumes that found none. */
  recovered = 0;
  recoveryFailed = 0;
}
