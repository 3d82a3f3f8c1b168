/**
 * The in-memory broker: nodes of one process share a `MemoryBrokerHub`. It is
 * the reference for the broker contract and what tests of several nodes in one
 * process use. Payloads are copied on publish so a node can never observe
 * another node's later mutation of a buffer, and every delivery is
 * asynchronous, as over a network.
 */
import { randomBytes } from "node:crypto";
import { createDebug } from "../shared/debug.js";
import {
  type Broker,
  type BrokerHandler,
  type BrokerResponder,
  type BrokerStats,
  countRequest,
  matchTopic,
  type NodeListener,
  newBrokerStats,
  type Reply,
  type RequestOptions,
  type RequestResult,
  type SubscribeOptions,
  type Unsubscribe,
} from "./broker.js";

const debug = createDebug("cluster:memory");

interface Entry<F> {
  node: MemoryBroker;
  topic: string;
  pattern: boolean;
  fn: F;
}

function matches(entry: Entry<unknown>, topic: string): boolean {
  return entry.pattern ? matchTopic(entry.topic, topic) : entry.topic === topic;
}

/**
 * The shared medium of in-memory brokers.
 *
 * @example
 * const hub = new MemoryBrokerHub();
 * const a = hub.connect(); const b = hub.connect();
 * await b.subscribe("news/*", (topic, bytes) => console.log(topic, bytes.toString()), { pattern: true });
 * await a.publish("news/today", Buffer.from("hi"));
 */
export class MemoryBrokerHub {
  readonly subscriptions = new Set<Entry<BrokerHandler>>();
  readonly responders = new Set<Entry<BrokerResponder>>();
  /** Open nodes of this hub. */
  readonly members = new Set<MemoryBroker>();

  /** A new node on this hub. */
  connect(nodeId: string = randomBytes(8).toString("hex")): MemoryBroker {
    return new MemoryBroker(this, nodeId);
  }

  /** @internal Tells every other member that `node` came or went. */
  _announce(node: MemoryBroker, event: "up" | "down"): void {
    for (const member of this.members) if (member !== node) member._heard(event, node.nodeId);
  }
}

export class MemoryBroker implements Broker {
  readonly nodeId: string;
  readonly stats: BrokerStats = newBrokerStats();

  /** Until closed: an in-process hub is always reachable. */
  get connected(): boolean {
    return !this.#closed;
  }
  readonly #hub: MemoryBrokerHub;
  readonly #own = new Set<Entry<BrokerHandler> | Entry<BrokerResponder>>();
  readonly #listeners = new Set<NodeListener>();
  #closed = false;

  constructor(
    hub: MemoryBrokerHub = new MemoryBrokerHub(),
    nodeId = randomBytes(8).toString("hex"),
  ) {
    this.#hub = hub;
    this.nodeId = nodeId;
    hub._announce(this, "up");
    hub.members.add(this);
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.#closed) return;
    this.stats.published++;
    let sent: number | undefined;
    for (const entry of this.#hub.subscriptions) {
      if (entry.node === this || !matches(entry, topic)) continue;
      sent ??= performance.now();
      const started = sent;
      const copy = Buffer.from(payload);
      const receiver = entry.node;
      queueMicrotask(() => {
        if (!receiver.#hub.subscriptions.has(entry)) return;
        receiver.stats.received++;
        // One process, one clock: the time the message waited in the queue.
        receiver.stats.receiveLatency?.observe((performance.now() - started) / 1000);
        try {
          entry.fn(topic, copy, this.nodeId);
        } catch (err) {
          debug("handler on %s failed: %s", topic, err);
        }
      });
    }
  }

  async subscribe(
    topic: string,
    handler: BrokerHandler,
    options: SubscribeOptions = {},
  ): Promise<Unsubscribe> {
    return this.#add(this.#hub.subscriptions, {
      node: this,
      topic,
      pattern: options.pattern === true,
      fn: handler,
    });
  }

  async respond(pattern: string, responder: BrokerResponder): Promise<Unsubscribe> {
    return this.#add(this.#hub.responders, {
      node: this,
      topic: pattern,
      pattern: true,
      fn: responder,
    });
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

  request(
    topic: string,
    payload: Uint8Array,
    options: RequestOptions = {},
  ): Promise<RequestResult> {
    const timeout = options.timeout ?? 5000;
    const targets = this.#closed ? [] : [...this.#hub.members].filter((m) => m !== this);
    if (targets.length === 0) return Promise.resolve({ replies: [], missing: [] });
    return countRequest(
      this.stats,
      performance.now(),
      this.#gather(topic, payload, targets, timeout),
    );
  }

  #gather(
    topic: string,
    payload: Uint8Array,
    targets: MemoryBroker[],
    timeout: number,
  ): Promise<RequestResult> {
    return new Promise((resolve) => {
      const replies: Reply[] = [];
      const pending = new Set(targets.map((t) => t.nodeId));
      const finish = () => {
        clearTimeout(timer);
        resolve({ replies, missing: [...pending] });
      };
      const timer = setTimeout(finish, timeout);
      for (const node of targets) {
        const copy = Buffer.from(payload);
        const answered = (answer: Uint8Array | undefined) => {
          if (!pending.delete(node.nodeId)) return;
          if (answer !== undefined)
            replies.push({ node: node.nodeId, payload: Buffer.from(answer) });
          if (pending.size === 0) finish();
        };
        queueMicrotask(() => node._answer(topic, copy, this.nodeId).then(answered));
      }
    });
  }

  /** @internal Runs this node's first responder matching `topic`. */
  async _answer(topic: string, payload: Buffer, origin: string): Promise<Uint8Array | undefined> {
    for (const entry of this.#hub.responders) {
      if (entry.node !== this || !matches(entry, topic)) continue;
      try {
        return await entry.fn(topic, payload, origin);
      } catch (err) {
        debug("responder on %s failed: %s", topic, err);
        return undefined;
      }
    }
    return undefined;
  }

  nodes(): string[] {
    const out: string[] = [];
    if (this.#closed) return out;
    for (const member of this.#hub.members) if (member !== this) out.push(member.nodeId);
    return out;
  }

  onNodes(listener: NodeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** @internal Another node of the hub came or went. */
  _heard(event: "up" | "down", node: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(event, node);
      } catch (err) {
        debug("node listener failed: %s", err);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.members.delete(this);
    for (const entry of this.#own) {
      this.#hub.subscriptions.delete(entry as Entry<BrokerHandler>);
      this.#hub.responders.delete(entry as Entry<BrokerResponder>);
    }
    this.#own.clear();
    this.#listeners.clear();
    this.#hub._announce(this, "down");
  }
}
