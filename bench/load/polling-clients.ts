/**
 * The load generator's long-polling receivers for the no-sticky scenario:
 * plain `node:http` requests over one kept-alive agent, speaking just enough
 * of each protocol, so the generator stays cheap next to the servers.
 *
 * `EioPollingClient`: Engine.IO v4 over `transport=polling` — the handshake
 * GET answers the OPEN packet `0{"sid":…}`; the client POSTs the Socket.IO
 * CONNECT `40`, then keeps one GET outstanding; a payload holds packets
 * separated by the record separator 0x1e; PING `2` is answered by a POST of
 * PONG `3`, EVENT `42[...]` goes to the handlers, ACK `43<id>[...]` to the
 * ack handler. At most one POST is in flight (a server may refuse
 * overlapping ones): packets sent meanwhile leave together in the next.
 * It is also a `BenchClient`, so the echo scenario runs over polling.
 *
 * `BayeuxPollingClient`: Bayeux 1.0 long-polling — POSTed batches of
 * `/meta/handshake` (connection type `long-polling`), `/meta/subscribe`, then
 * `/meta/connect` over and over: each connect reply (held by the server until
 * a message arrives) comes with the deliveries, and is followed by the next
 * connect (Bayeux 1.0 §3.5, §4.1). The first connect carries
 * `advice: {timeout: 0}`, so it is answered at once.
 *
 * Every request of a client may reach any node (the round-robin proxy): the
 * servers forward it to the session's owner.
 */
import { type Agent, type ClientRequest, request } from "node:http";
import { BAYEUX_CHANNELS, BAYEUX_PATH } from "../lib/protocol.js";
import type { BenchClient, ClientHandlers } from "./clients.js";

/** A long-polling receiver. */
export interface PollingClient {
  /** Resolves once the client is in the room / subscribed and polling. */
  readonly ready: Promise<void>;
  /** Why the client stopped before `close()`, if it did. */
  readonly failure: Error | undefined;
  /** Stops polling and drops the outstanding poll. */
  close(): void;
}

/** An answer that is not 200, or a protocol failure, of a polling client. */
export class PollingClientError extends Error {
  override name = "PollingClientError";
}

const RECORD_SEPARATOR = "\x1e";

interface Answer {
  status: number;
  body: string;
}

interface Request {
  method: "GET" | "POST";
  path: string;
  body?: string;
  /** Default `text/plain;charset=UTF-8` (Engine.IO's). */
  contentType?: string;
  /** Receives the request as it starts (to abort a held poll). */
  started?: (req: ClientRequest) => void;
}

/** Sends one request to 127.0.0.1:`port` and resolves with the whole answer. */
function send(agent: Agent, port: number, options: Request): Promise<Answer> {
  const { method, path, body } = options;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers["Content-Type"] = options.contentType ?? "text/plain;charset=UTF-8";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    options.started?.(req);
    req.end(body);
  });
}

/** Engine.IO v4 + Socket.IO v5 over long-polling; a receiver of the bench room. */
export class EioPollingClient implements PollingClient, BenchClient {
  readonly ready: Promise<void>;
  failure: Error | undefined;
  private sid = "";
  private closed = false;
  private held: ClientRequest | undefined;
  /** Packets waiting for the POST in flight to finish. */
  private outbox: string[] = [];
  private posting = false;
  private nextId = 0;
  private connected: (() => void) | undefined;
  private failed: ((error: Error) => void) | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly port: number,
    private readonly handlers: ClientHandlers,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.connected = resolve;
      this.failed = reject;
    });
    this.open().catch((error: Error) => this.fail(error));
  }

  close(): void {
    this.closed = true;
    this.held?.destroy();
  }

  emit(name: string, data: unknown): void {
    this.post(`42${JSON.stringify([name, data])}`);
  }

  request(name: string, data: unknown): number {
    const id = this.nextId++;
    this.post(`42${id}${JSON.stringify([name, data])}`);
    return id;
  }

  publishTo(): void {
    throw new PollingClientError("the polling client publishes to no room");
  }

  end(): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  private path(): string {
    const sid = this.sid === "" ? "&role=rx" : `&sid=${encodeURIComponent(this.sid)}`;
    return `/socket.io/?EIO=4&transport=polling${sid}`;
  }

  private async open(): Promise<void> {
    const handshake = await send(this.agent, this.port, { method: "GET", path: this.path() });
    if (handshake.status !== 200 || !handshake.body.startsWith("0")) {
      throw new PollingClientError(`handshake: ${handshake.status} ${handshake.body}`);
    }
    this.sid = (JSON.parse(handshake.body.slice(1)) as { sid: string }).sid;
    this.post("40");
    while (!this.closed) {
      const answer = await send(this.agent, this.port, {
        method: "GET",
        path: this.path(),
        started: (req) => {
          this.held = req;
        },
      });
      if (answer.status !== 200)
        throw new PollingClientError(`poll: ${answer.status} ${answer.body}`);
      for (const packet of answer.body.split(RECORD_SEPARATOR)) this.onPacket(packet);
    }
  }

  /** Queues `packet` for the next POST; starts one unless one is in flight. */
  private post(packet: string): void {
    this.outbox.push(packet);
    if (!this.posting) this.flush().catch((error: Error) => this.fail(error));
  }

  private async flush(): Promise<void> {
    this.posting = true;
    while (this.outbox.length > 0 && !this.closed) {
      const payload = this.outbox.join(RECORD_SEPARATOR);
      this.outbox = [];
      const answer = await send(this.agent, this.port, {
        method: "POST",
        path: this.path(),
        body: payload,
      });
      if (answer.status !== 200)
        throw new PollingClientError(`post: ${answer.status} ${answer.body}`);
    }
    this.posting = false;
  }

  private onPacket(packet: string): void {
    if (packet.startsWith("42")) {
      const [name, data] = JSON.parse(packet.slice(2)) as [string, unknown];
      if (this.handlers.event !== undefined) this.handlers.event(name, data);
      else this.handlers.count?.();
    } else if (packet.startsWith("43")) {
      const open = packet.indexOf("[");
      const args = JSON.parse(packet.slice(open)) as unknown[];
      this.handlers.ack?.(this, Number(packet.slice(2, open)), args[0]);
    } else if (packet === "2") {
      this.post("3");
    } else if (packet.startsWith("40")) {
      this.connected?.();
      this.connected = undefined;
    } else if (packet.startsWith("44")) {
      throw new PollingClientError(`connect_error ${packet}`);
    } else if (packet === "1") {
      throw new PollingClientError("closed by the server");
    }
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    this.failed?.(error);
  }
}

interface BayeuxMessage {
  channel: string;
  clientId?: string;
  successful?: boolean;
  data?: unknown;
  error?: string;
  advice?: { reconnect?: string };
}

/** A Bayeux long-polling client subscribed to the fan-out channel. */
export class BayeuxPollingClient implements PollingClient {
  readonly ready: Promise<void>;
  failure: Error | undefined;
  private clientId = "";
  private closed = false;
  private held: ClientRequest | undefined;
  private subscribed: (() => void) | undefined;
  private failed: ((error: Error) => void) | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly port: number,
    private readonly handlers: ClientHandlers,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.subscribed = resolve;
      this.failed = reject;
    });
    this.run().catch((error: Error) => this.fail(error));
  }

  close(): void {
    this.closed = true;
    this.held?.destroy();
  }

  private async batch(messages: object[], hold = false): Promise<BayeuxMessage[]> {
    const answer = await send(this.agent, this.port, {
      method: "POST",
      path: BAYEUX_PATH,
      body: JSON.stringify(messages),
      contentType: "application/json",
      started: hold
        ? (req) => {
            this.held = req;
          }
        : undefined,
    });
    if (answer.status !== 200)
      throw new PollingClientError(`bayeux: ${answer.status} ${answer.body}`);
    return JSON.parse(answer.body) as BayeuxMessage[];
  }

  private async run(): Promise<void> {
    const [handshake] = await this.batch([
      { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
    ]);
    this.check(handshake);
    this.clientId = handshake.clientId ?? "";
    const [subscribe] = await this.batch([
      {
        channel: "/meta/subscribe",
        clientId: this.clientId,
        subscription: BAYEUX_CHANNELS.deliveries,
      },
    ]);
    this.check(subscribe);
    const connect = [
      { channel: "/meta/connect", clientId: this.clientId, connectionType: "long-polling" },
    ];
    // The first connect asks not to be held (as CometD's does): Faye would
    // otherwise hold it for the whole timeout before the client counts as ready.
    let next: object[] = [{ ...connect[0], advice: { timeout: 0 } }];
    while (!this.closed) {
      const replies = await this.batch(next, true);
      next = connect;
      for (const message of replies) {
        if (message.channel === "/meta/connect") {
          this.check(message);
          // The first connect returns at once: from here on every delivery reaches us.
          this.subscribed?.();
          this.subscribed = undefined;
        } else if (message.successful === undefined) {
          if (this.handlers.event !== undefined) this.handlers.event("m", message.data);
          else this.handlers.count?.();
        }
      }
    }
  }

  private check(message: BayeuxMessage | undefined): void {
    if (message?.successful !== true) {
      throw new PollingClientError(`${message?.channel ?? "reply"} failed: ${message?.error}`);
    }
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    this.failed?.(error);
  }
}

/**
 * Opens `total` polling clients made by `open` (given the client's index)
 * with at most `concurrency` handshakes in flight; resolves once every one
 * is ready.
 *
 * @example
 * const receivers = await openMany(500, 50, () => new EioPollingClient(agent, port, handlers));
 */
export async function openMany<T extends PollingClient>(
  total: number,
  concurrency: number,
  open: (index: number) => T,
): Promise<T[]> {
  const clients: T[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const client = open(next++);
      clients.push(client);
      await client.ready;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return clients;
}

/** The reason of the first failed client among `clients`, for an error message. */
export function firstFailure(clients: readonly PollingClient[]): string {
  const failed = clients.filter((client) => client.failure !== undefined);
  return failed.length === 0
    ? ""
    : `; ${failed.length} client(s) failed: ${failed[0].failure?.message}`;
}
