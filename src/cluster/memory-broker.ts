/**
 * The in-memory broker: nodes of one process share a `MemoryBrokerHub`. It is
 * the default backend (a hub of one node costs a few map look-ups) and the
 * reference for the broker contract. Payloads are copied on publish so a node
 * can never observe another node's later mutation of a buffer.
 */
import { randomBytes } from "node:crypto";
import { createDebug } from "../shared/debug.js";
import {
  type Broker,
  type BrokerHandler,
  type BrokerResponder,
  BrokerTimeoutError,
  matchTopic,
  type RequestOptions,
  type Unsubscribe,
} from "./broker.js";

const debug = createDebug("cluster:memory");

interface Entry<F> {
  node: string;
  pattern: string;
  fn: F;
}

/**
 * The shared medium of in-memory brokers.
 *
 * @example
 * const hub = new MemoryBrokerHub();
 * const a = hub.connect(); const b = hub.connect();
 * await b.subscribe("news/*", (topic, bytes) => console.log(topic, bytes.toString()));
 * await a.publish("news/today", Buffer.from("hi"));
 */
export class MemoryBrokerHub {
  readonly subscriptions = new Set<Entry<BrokerHandler>>();
  readonly responders = new Set<Entry<BrokerResponder>>();

  /** A new node on this hub. */
  connect(nodeId: string = randomBytes(8).toString("hex")): MemoryBroker {
    return new MemoryBroker(this, nodeId);
  }
}

export class MemoryBroker implements Broker {
  readonly nodeId: string;
  readonly #hub: MemoryBrokerHub;
  readonly #own = new Set<Entry<BrokerHandler> | Entry<BrokerResponder>>();
  #closed = false;

  constructor(
    hub: MemoryBrokerHub = new MemoryBrokerHub(),
    nodeId = randomBytes(8).toString("hex"),
  ) {
    this.#hub = hub;
    this.nodeId = nodeId;
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.#closed) return;
    for (const entry of this.#hub.subscriptions) {
      if (entry.node === this.nodeId || !matchTopic(entry.pattern, topic)) continue;
      const copy = Buffer.from(payload);
      // Delivery is asynchronous, as over a network: a handler never runs inside publish().
      queueMicrotask(() => {
        try {
          entry.fn(topic, copy, this.nodeId);
        } catch (err) {
          debug("handler on %s failed: %s", topic, err);
        }
      });
    }
  }

  async subscribe(pattern: string, handler: BrokerHandler): Promise<Unsubscribe> {
    return this.#add(this.#hub.subscriptions, { node: this.nodeId, pattern, fn: handler });
  }

  async respond(pattern: string, responder: BrokerResponder): Promise<Unsubscribe> {
    return this.#add(this.#hub.responders, { node: this.nodeId, pattern, fn: responder });
  }

  #add<F>(set: Set<Entry<F>>, entry: Entry<F>): Unsubscribe {
    if (this.#closed) return async () => {};
    set.add(entry);
    this.#own.add(entry as Entry<BrokerHandler>);
    return async () => {
      set.delete(entry);
      this.#own.delete(entry as Entry<BrokerHandler>);
    };
  }

  request(topic: string, payload: Uint8Array, options: RequestOptions = {}): Promise<Buffer[]> {
    const timeout = options.timeout ?? 5000;
    const targets = [...this.#hub.responders].filter(
      (e) => e.node !== this.nodeId && matchTopic(e.pattern, topic),
    );
    if (this.#closed || targets.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const responses: Buffer[] = [];
      let pending = targets.length;
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(new BrokerTimeoutError(topic, timeout, responses));
      }, timeout);
      const settle = (answer: Buffer | undefined) => {
        if (done) return;
        if (answer) responses.push(Buffer.from(answer));
        if (--pending === 0) {
          done = true;
          clearTimeout(timer);
          resolve(responses);
        }
      };
      for (const entry of targets) {
        const copy = Buffer.from(payload);
        queueMicrotask(() => {
          Promise.resolve()
            .then(() => entry.fn(topic, copy, this.nodeId))
            .then(settle, (err) => {
              debug("responder on %s failed: %s", topic, err);
              settle(undefined);
            });
        });
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#own) {
      this.#hub.subscriptions.delete(entry as Entry<BrokerHandler>);
      this.#hub.responders.delete(entry as Entry<BrokerResponder>);
    }
    this.#own.clear();
  }
}
