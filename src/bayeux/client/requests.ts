/**
 * Requests waiting for their reply. Every message the client sends carries
 * an `id`; the server's reply repeats it (Bayeux 1.0 section 3.1), which is
 * how a reply finds its request whatever transport or batch it came back in.
 *
 * Messages queued in the same tick leave together as one batch (section 3:
 * messages may be sent in arrays), except `/meta/connect`, which always goes
 * alone: servers answer a batch as a whole, so a connect held for the long
 * poll would hold back the replies of everything batched with it (Faye and
 * CometD both do so, over HTTP and websocket alike).
 */
import { BayeuxTimeoutError } from "./errors.js";
import type { Transport } from "./transport.js";
import type { BayeuxMessage, Clock, TimerHandle } from "./types.js";

/** What happens when a request is answered or fails. */
export interface RequestHandlers {
  reply(reply: BayeuxMessage): void;
  fail(error: Error): void;
}

/**
 * What the publish and subscribe flows need from the client's session; the
 * client implements it over its connect loop.
 */
export interface SessionPort {
  /** Whether a `/meta/connect` has succeeded and the session is live. */
  readonly connected: boolean;
  readonly clientId: string | null;
  /** Time allowed for a reply, ms. */
  readonly replyTimeout: number;
  /** Fills `id` and `clientId`, runs the outgoing extensions, and sends. */
  request(message: BayeuxMessage, timeout: number, handlers: RequestHandlers): void;
  /** Hands a failure to `errorCallback` and the `error` event. */
  report(error: Error, message?: BayeuxMessage): void;
  /** The server no longer knows this client: handshake again. */
  rehandshake(error: Error): void;
}

interface Pending {
  message: BayeuxMessage;
  transport: Transport;
  timer: TimerHandle;
  handlers: RequestHandlers;
}

interface Outgoing {
  message: BayeuxMessage;
  transport: Transport;
  timeout: number;
}

function randomPrefix(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  let out = "";
  for (const byte of bytes) out += byte.toString(36).padStart(2, "0");
  return out;
}

export class RequestTracker {
  #clock: Clock;
  #pending = new Map<string, Pending>();
  #outbox: Outgoing[] = [];
  #flushQueued = false;
  // Ids are unique across clients (random prefix) so that a subscriber can
  // tell a resent publication from a new one.
  readonly #prefix = randomPrefix();
  #counter = 0;

  readonly #maxBatchLength: number;

  /** `maxBatchLength`: most messages per batch; longer batches are split (servers cap them). */
  constructor(clock: Clock, maxBatchLength = 100) {
    this.#clock = clock;
    this.#maxBatchLength = maxBatchLength;
  }

  get size(): number {
    return this.#pending.size;
  }

  nextId(): string {
    return `${this.#prefix}${(++this.#counter).toString(36)}`;
  }

  /**
   * Registers `message` (which must have an id) and sends it over
   * `transport` with the next batch. Fails with a timeout after `timeout` ms.
   */
  track(
    message: BayeuxMessage,
    transport: Transport,
    timeout: number,
    handlers: RequestHandlers,
  ): void {
    const id = String(message.id);
    const timer = this.#clock.setTimeout(() => {
      if (this.#pending.get(id)?.timer !== timer) return;
      this.#pending.delete(id);
      handlers.fail(new BayeuxTimeoutError(message.channel, timeout));
    }, timeout);
    this.#pending.set(id, { message, transport, timer, handlers });
    this.#outbox.push({ message, transport, timeout });
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Hands a reply to its request; false when none waits for it. */
  settle(reply: BayeuxMessage): boolean {
    if (reply.id === undefined) return false;
    const pending = this.#take(String(reply.id));
    if (!pending) return false;
    pending.handlers.reply(reply);
    return true;
  }

  /** Fails the listed messages sent over `transport`, or all of them with `null`. */
  fail(transport: Transport, messages: readonly BayeuxMessage[] | null, error: Error): void {
    const victims: Pending[] = [];
    if (messages) {
      for (const message of messages) {
        const pending = this.#pending.get(String(message.id));
        if (pending && pending.transport === transport) victims.push(pending);
      }
    } else {
      for (const pending of this.#pending.values()) {
        if (pending.transport === transport) victims.push(pending);
      }
    }
    for (const pending of victims) {
      this.#take(String(pending.message.id));
      pending.handlers.fail(error);
    }
  }

  /** Fails every request. */
  failAll(error: Error): void {
    const all = [...this.#pending.values()];
    for (const pending of all) this.#take(String(pending.message.id));
    this.#outbox = [];
    for (const pending of all) pending.handlers.fail(error);
  }

  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    this.#clock.clearTimeout(pending.timer);
    return pending;
  }

  #flush(): void {
    this.#flushQueued = false;
    const outbox = this.#outbox;
    this.#outbox = [];
    const batches = new Map<Transport, { messages: BayeuxMessage[]; timeout: number }>();
    for (const item of outbox) {
      // A request failed or timed out before the flush is not sent at all.
      if (this.#pending.get(String(item.message.id))?.message !== item.message) continue;
      if (item.message.channel === "/meta/connect") {
        item.transport.send([item.message], item.timeout);
        continue;
      }
      const batch = batches.get(item.transport);
      if (batch && batch.messages.length >= this.#maxBatchLength) {
        item.transport.send(batch.messages, batch.timeout);
        batches.set(item.transport, { messages: [item.message], timeout: item.timeout });
      } else if (batch) {
        batch.messages.push(item.message);
        batch.timeout = Math.max(batch.timeout, item.timeout);
      } else {
        batches.set(item.transport, { messages: [item.message], timeout: item.timeout });
      }
    }
    for (const [transport, batch] of batches) transport.send(batch.messages, batch.timeout);
  }
}
