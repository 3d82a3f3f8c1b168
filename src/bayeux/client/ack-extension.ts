/**
 * The acknowledgement extension, as CometD servers and Switchboard's server
 * implement it. The client offers `ext.ack = true` on `/meta/handshake`; a
 * server that supports it answers `ext.ack = true` (or `{ enabled: true,
 * batch }`), then numbers the batches it sends and puts the number in
 * `ext.ack` of each `/meta/connect` reply. The client echoes the last number
 * received in `ext.ack` of its next `/meta/connect`, and the server keeps
 * every later message until it is acknowledged, resending them after a
 * connection that dropped mid-stream. Nothing is lost.
 *
 * A resent message may already have been received (it came before the
 * connection dropped, its acknowledgement did not), and a publisher whose
 * connection dropped before its reply came sends the same message (same
 * `id`) again after reconnecting, so this extension also drops deliveries
 * whose `channel` and `id` it has seen among the last `limit` to `2 × limit`
 * deliveries (a count, not a number of batches: a publisher's resend may
 * come many batches later). It only does so while acknowledgements are on:
 * without them the server never resends, and message ids chosen by other
 * publishers (often plain counters) are not unique enough to filter on.
 */
import type { BayeuxExtension, BayeuxMessage } from "./types.js";

const HANDSHAKE = "/meta/handshake";
const CONNECT = "/meta/connect";

/**
 * One client's acknowledgement state. `limit` bounds the ids remembered per
 * batch generation; past it the generation turns over early.
 */
export class AckExtension implements BayeuxExtension {
  readonly limit: number;
  #enabled = false;
  #batch = 0;
  #current = new Set<string>();
  #previous = new Set<string>();
  #dropped = 0;
  readonly #log: (text: string, ...values: unknown[]) => void;

  constructor(limit = 10_000, log: (text: string, ...values: unknown[]) => void = () => {}) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError("duplicateWindow must be an integer >= 1");
    }
    this.limit = limit;
    this.#log = log;
  }

  /** Whether the server agreed to acknowledgements in the last handshake. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The last batch number received from the server. */
  get batch(): number {
    return this.#batch;
  }

  /** Deliveries dropped as duplicates so far. */
  get duplicatesDropped(): number {
    return this.#dropped;
  }

  outgoing(message: BayeuxMessage): BayeuxMessage {
    if (message.channel === HANDSHAKE) {
      this.#enabled = false;
      this.#batch = 0;
      this.#current.clear();
      this.#previous.clear();
      message.ext = { ...message.ext, ack: true };
    } else if (message.channel === CONNECT && this.#enabled) {
      message.ext = { ...message.ext, ack: this.#batch };
    }
    return message;
  }

  incoming(message: BayeuxMessage): BayeuxMessage | null {
    const channel = message.channel;
    const ack = message.ext?.ack;
    if (channel === HANDSHAKE) {
      if (message.successful !== true) return message;
      if (ack === true) this.#enabled = true;
      else if (typeof ack === "object" && ack !== null) {
        const { enabled, batch } = ack as { enabled?: unknown; batch?: unknown };
        this.#enabled = enabled === true;
        if (typeof batch === "number") this.#batch = batch;
      }
      this.#log("ack extension %s", this.#enabled ? "on" : "off");
      return message;
    }
    if (!this.#enabled) return message;
    if (channel === CONNECT) {
      if (message.successful === true && typeof ack === "number") this.#batch = ack;
      return message;
    }
    // Replies (they carry `successful`) and meta traffic are never filtered.
    if ("successful" in message || channel.startsWith("/meta/") || message.id === undefined) {
      return message;
    }
    const key = `${channel} ${message.id}`;
    if (this.#current.has(key) || this.#previous.has(key)) {
      this.#dropped++;
      this.#log("dropped duplicate %s", key);
      return null;
    }
    this.#current.add(key);
    if (this.#current.size >= this.limit) this.#turnOver();
    return message;
  }

  #turnOver(): void {
    const old = this.#previous;
    this.#previous = this.#current;
    old.clear();
    this.#current = old;
  }
}
