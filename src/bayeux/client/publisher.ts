/**
 * Publishing (Bayeux 1.0 section 5.1): a message with `channel`, `data`,
 * `clientId` and `id` goes to the server, whose reply resolves or rejects
 * the caller's promise. Without a live session the publish waits in the
 * bounded offline queue and goes out after the next successful connect.
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
  resolve(reply: BayeuxMessage): void;
  reject(error: Error): void;
}

export class Publisher {
  readonly #port: SessionPort;
  readonly #queue: OfflineQueue<QueuedPublish>;
  readonly #nextId: () => string;
  #requeued: QueuedPublish[] | null = null;

  constructor(port: SessionPort, offlineQueueLimit: number, nextId: () => string) {
    this.#port = port;
    this.#queue = new OfflineQueue(offlineQueueLimit);
    this.#nextId = nextId;
  }

  /** Publishes waiting for a connection. */
  get queued(): number {
    return this.#queue.size + (this.#requeued?.length ?? 0);
  }

  /** Sends now when connected, else queues. The channel is already validated. */
  publish(channel: string, data: unknown): Promise<BayeuxMessage> {
    return new Promise((resolve, reject) => {
      const item: QueuedPublish = {
        message: { channel, data, id: this.#nextId() },
        resolve,
        reject,
      };
      if (this.#port.connected) this.#send(item);
      else this.#enqueue([item], false);
    });
  }

  /** After a successful connect: send everything that waited. */
  resume(): void {
    this.#flushRequeued();
    if (this.#queue.size === 0) return;
    for (const item of this.#queue.drain()) this.#send(item);
  }

  /** Rejects every waiting publish (the client is going away). */
  rejectAll(error: Error): void {
    this.#flushRequeued();
    for (const item of this.#queue.drain()) item.reject(error);
  }

  /** Puts failed publishes back in front of the queue, synchronously. */
  flush(): void {
    this.#flushRequeued();
  }

  /** Queues publishes: new ones last, failed ones back in front. */
  #enqueue(items: QueuedPublish[], front: boolean): void {
    if (front) {
      // Requests fail one by one; gather those failing together so they go
      // back in front in their original order.
      if (!this.#requeued) {
        this.#requeued = [];
        queueMicrotask(() => this.#flushRequeued());
      }
      this.#requeued.push(...items);
      return;
    }
    this.#refuse(items.filter((item) => !this.#queue.push(item)));
  }

  #flushRequeued(): void {
    const burst = this.#requeued;
    if (!burst) return;
    this.#requeued = null;
    this.#refuse(this.#queue.unshift(burst));
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
          return;
        }
        const error = new BayeuxReplyError(reply);
        if (error.unknownClient) {
          // The server never took it: send it again in the new session.
          this.#enqueue([item], true);
          this.#port.rehandshake(error);
          return;
        }
        this.#port.report(error, reply);
        item.reject(error);
      },
      fail: (error) => {
        if (error instanceof BayeuxTimeoutError || error instanceof BayeuxMessageDroppedError) {
          this.#port.report(error, item.message);
          item.reject(error);
          return;
        }
        // The connection failed under it: keep it for after the reconnection
        // (at-least-once; the id stays the same so a resend is recognisable).
        this.#enqueue([item], true);
      },
    });
  }
}
