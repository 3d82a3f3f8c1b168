/**
 * The publishers of the node-death test (test/cluster/kill.test.ts): each
 * sends one message at a time, in order, and retries it with the same id
 * until it is acknowledged: socket.io-client (event `publish` with an ack)
 * and Switchboard's Bayeux client (the Bayeux message `id` reused on retry).
 * Reached through the proxy, tagged like the subscribers.
 */
import { io as ioc, type Socket } from "socket.io-client";
import { BayeuxClient } from "../../src/bayeux/client/index.js";
import { holdsBy, settledWithin, sleep } from "./fault-plan.js";
import { SOCKET_IO_RECONNECT, TAG_PARAM, tagged } from "./kill-clients.js";
import { CHANNEL, type KillMessage, PUBLISH_EVENT, type PublishReply } from "./kill-protocol.js";

/** Pause before a refused publish (Redis down, say) is sent again: a backoff, not a wait. */
const REFUSED_RETRY_AFTER = 50;
/** Longest a publisher's goodbye may take at the end of the run, ms. */
const CLOSE_WITHIN = 3000;

/**
 * One publisher's stream: messages are added on a schedule (`add`) and sent
 * one at a time, in order, each retried with its id until acknowledged.
 */
export class PublishStream {
  readonly name: string;
  readonly tag: string;
  /** Sequence numbers acknowledged before `stop()`. */
  readonly acked = new Set<number>();
  /** When each acknowledged message was acknowledged (Date.now()). */
  readonly ackedAt = new Map<number, number>();
  /** Messages added. */
  added = 0;
  /** Attempts beyond the first of a message. */
  retries = 0;
  /** Milliseconds from each acknowledged message's first attempt to its ack. */
  readonly ackDelays: number[] = [];
  /** Whether the message at the head of the queue was sent at least once. */
  #headSent = false;
  readonly #queue: KillMessage[] = [];
  readonly #send: (message: KillMessage, stopped: AbortSignal) => Promise<boolean>;
  readonly #close: () => Promise<void>;
  readonly #stop = new AbortController();
  /** Resolves false once stopped: raced against each attempt. */
  readonly #stopped = new Promise<boolean>((resolve) =>
    this.#stop.signal.addEventListener("abort", () => resolve(false), { once: true }),
  );
  #wake: () => void = () => {};
  #loop: Promise<void>;

  constructor(
    name: string,
    tag: string,
    send: (message: KillMessage, stopped: AbortSignal) => Promise<boolean>,
    close: () => Promise<void>,
  ) {
    this.name = name;
    this.tag = tag;
    this.#send = send;
    this.#close = close;
    this.#loop = this.#run();
  }

  /** Messages added and not acknowledged (yet, or ever once stopped). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Of {@link pending}, those never sent: the backlog behind the one being sent. */
  get unsent(): number {
    return this.#queue.length - (this.#headSent ? 1 : 0);
  }

  /** Adds the next message to the stream. */
  add(): void {
    const seq = this.added++;
    this.#queue.push({ id: `${this.name}-${seq}`, seq, publisher: this.name });
    this.#wake();
  }

  /** Stops sending (what is unacknowledged stays so) and closes the client. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake();
    await this.#loop;
    await this.#close();
  }

  async #run(): Promise<void> {
    const stopped = this.#stop.signal;
    let attempt = 0;
    let firstSent = 0;
    while (!stopped.aborted) {
      const message = this.#queue[0];
      if (!message) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      if (attempt > 0) this.retries++;
      else firstSent = Date.now();
      attempt++;
      this.#headSent = true;
      const ok = await Promise.race([
        this.#send(message, stopped).catch(() => false),
        this.#stopped,
      ]);
      if (stopped.aborted) break;
      if (!ok) {
        // A refusal (Redis down, say) comes back at once: do not spin on it.
        await Promise.race([sleep(REFUSED_RETRY_AFTER), this.#stopped]);
        continue;
      }
      this.acked.add(message.seq);
      this.ackedAt.set(message.seq, Date.now());
      this.ackDelays.push(Date.now() - firstSent);
      this.#queue.shift();
      this.#headSent = false;
      attempt = 0;
    }
  }
}

/**
 * A socket.io-client publisher: `publish` with an ack (2 s), sent only while
 * connected, retried with the same id after a timeout or a refusal.
 */
export async function socketIoPublisher(base: string, name: string): Promise<PublishStream> {
  const tag = `${name}`;
  const socket: Socket = ioc(base, {
    forceNew: true,
    query: { [TAG_PARAM]: tag },
    ...SOCKET_IO_RECONNECT,
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return new PublishStream(
    name,
    tag,
    async (message, stopped) => {
      await holdsBy(() => socket.connected, Number.POSITIVE_INFINITY, 10, stopped);
      if (stopped.aborted) return false;
      const reply = (await socket
        .timeout(2000)
        .emitWithAck(PUBLISH_EVENT, message)) as PublishReply;
      return reply.ok;
    },
    async () => {
      socket.close();
    },
  );
}

/**
 * A Switchboard Bayeux client publisher on `/kill`: the client resends a
 * publish whose connection failed; a publish that fails anyway is published
 * again, and an extension gives every attempt the message's own id as its
 * Bayeux message `id`.
 */
export async function bayeuxPublisher(base: string, name: string): Promise<PublishStream> {
  const tag = `${name}`;
  const client = new BayeuxClient(tagged(base, "/bayeux", tag), {
    maxNetworkDelay: 3000,
    backoff: { initialDelay: 100, maxDelay: 2000 },
  });
  client.on("error", () => {});
  client.addExtension({
    outgoing(message) {
      const id = (message.data as { id?: unknown } | undefined)?.id;
      if (message.channel === CHANNEL && typeof id === "string") message.id = id;
      return message;
    },
  });
  await client.init();
  return new PublishStream(
    name,
    tag,
    async (message) => {
      const reply = await client.publish(CHANNEL, message);
      return reply.successful === true;
    },
    async () => {
      await settledWithin(client.disconnect(), CLOSE_WITHIN);
    },
  );
}
