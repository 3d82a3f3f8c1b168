/**
 * Publishing (Bayeux 1.0 section 5.1): a message with `channel`, `data`,
 * `clientId` and `id` goes to the server, whose reply resolves or rejects
 * the caller's promise. Without a live session the publish waits in the
 * bounded offline queue and goes out after the next successful connect.
 *
 * Publishes reach the server in the order they were made: one batch is in
 * flight at a time (what is published meanwhile waits and leaves together as
 * the next batch), and a batch whose connection failed goes out again, in
 * its order and ahead of everything published since, only after the next
 * successful connect. Two HTTP requests could otherwise arrive out of order,
 * and a resend could land behind newer messages.
 */
import {
  BayeuxMessageDroppedError,
  BayeuxReplyError,
  BayeuxTimeoutError,
  OfflineQueueFullError,
} from "./errors.js";
import { OfflineQueue } from "./offline-queue.js";
import type { SessionPort } from "./requests.js";
import type { BayeuxMessage } from "./types.js";

interface QueuedPublish {
  message: BayeuxMessage;
  /** Order of the publish call, to put failed ones back in their order. */
  seq: number;
  resolve(reply: BayeuxMessage): void;
  reject(error: Error): void;
}

export class Publisher {
  readonly #port: SessionPort;
  readonly #queue: OfflineQueue<QueuedPublish>;
  readonly #nextId: () => string;
  readonly #maxBatch: number;
  #seq = 0;
  /** Publishes sent and not yet answered (one batch). */
  #inFlight = 0;
  /** Publishes of the batch in flight whose connection failed; resent after the next connect. */
  #failed: QueuedPublish[] = [];
  /** Set when a batch failed: nothing is sent until the next successful connect. */
  #stalled = false;

  constructor(port: SessionPort, offlineQueueLimit: number, nextId: () => string, maxBatch = 100) {
    this.#port = port;
    this.#queue = new OfflineQueue(offlineQueueLimit);
    this.#nextId = nextId;
    this.#maxBatch = maxBatch;
  }

  /** Publishes waiting for a connection or for the batch ahead of them. */
  get queued(): number {
    return this.#queue.size + this.#failed.length;
  }

  /** Sends now when connected and nothing is in flight, else queues. The channel is already validated. */
  publish(channel: string, data: unknown): Promise<BayeuxMessage> {
    return new Promise((resolve, reject) => {
      const item: QueuedPublish = {
        message: { channel, data, id: this.#nextId() },
        seq: this.#seq++,
        resolve,
        reject,
      };
      // The limit bounds what waits for a connection; behind a batch in
      // flight a publish waits one round trip only.
      const live = this.#port.connected && !this.#stalled;
      if (!this.#queue.push(item, live)) {
        this.#refuse([item]);
        return;
      }
      if (live) this.#pump();
    });
  }

  /** After a successful connect: send everything that waited. */
  resume(): void {
    this.flush();
    this.#stalled = false;
    this.#pump();
  }

  /** Rejects every waiting publish (the client is going away). */
  rejectAll(error: Error): void {
    this.flush();
    for (const item of this.#queue.drain()) item.reject(error);
  }

  /** Puts failed publishes back in front of the queue, in their order, synchronously. */
  flush(): void {
    const failed = this.#failed;
    if (failed.length === 0) return;
    this.#failed = [];
    failed.sort((a, b) => a.seq - b.seq);
    this.#queue.unshift(failed, true);
  }

  /** Sends the next batch when connected and no batch is in flight. */
  #pump(): void {
    if (this.#inFlight > 0 || this.#stalled || !this.#port.connected || this.#queue.size === 0) {
      return;
    }
    const batch = this.#queue.take(this.#maxBatch);
    this.#inFlight = batch.length;
    for (const item of batch) this.#send(item);
  }

  /** One publish of the batch in flight is settled; the next batch goes once all are. */
  #settled(): void {
    if (--this.#inFlight > 0) return;
    this.flush();
    this.#pump();
  }

  /** The server never took it, or its connection failed: it goes again after the next connect. */
  #retry(item: QueuedPublish): void {
    this.#failed.push(item);
    this.#stalled = true;
    this.#settled();
  }

  #refuse(items: QueuedPublish[]): void {
    for (const item of items) {
      const error = new OfflineQueueFullError(this.#queue.limit);
      this.#port.report(error, item.message);
      item.reject(error);
    }
  }

  #send(item: QueuedPublish): void {
    this.#port.request(item.message, this.#port.replyTimeout, {
      reply: (reply) => {
        if (reply.successful === true) {
          item.resolve(reply);
          this.#settled();
          return;
        }
        const error = new BayeuxReplyError(reply);
        if (error.unknownClient) {
          // The server never took it: send it again in the new session.
          this.#retry(item);
          this.#port.rehandshake(error);
          return;
        }
        this.#port.report(error, reply);
        item.reject(error);
        this.#settled();
      },
      fail: (error) => {
        if (error instanceof BayeuxTimeoutError || error instanceof BayeuxMessageDroppedError) {
          this.#port.report(error, item.message);
          item.reject(error);
          this.#settled();
          return;
        }
        // The connection failed under it: keep it for after the reconnection
        // (at-least-once; the id stays the same so a resend is recognisable).
        this.#retry(item);
      },
    });
  }
}
