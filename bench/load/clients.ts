/**
 * The load generator's clients: raw `ws` sockets speaking just enough of each
 * wire protocol, so the generator stays cheap and never becomes the bottleneck.
 *
 * `SioClient` (switchboard and socket.io targets, identical code for both):
 * Engine.IO v4 over `?EIO=4&transport=websocket` — wait for the OPEN packet `0`,
 * answer PING `2` with PONG `3`; Socket.IO v5 — send CONNECT `40` for the main
 * namespace, parse EVENT `42[...]` and ACK `43<id>[...]`, answer an EVENT that
 * carries an ack id with `43<id>[]`, send EVENT `42[...]` / `42<id>[...]`.
 *
 * `BayeuxClient` (switchboard-bayeux and faye targets): Bayeux 1.0 over
 * websocket, in `bayeux-client.ts`.
 *
 * `WsClient` (bare target): the JSON protocol described in `servers/ws.ts`.
 */
import WebSocket from "ws";
import { BAYEUX_CHANNELS, BAYEUX_PATH, type WireProtocol } from "../lib/protocol.js";
import { BayeuxClient } from "./bayeux-client.js";

/** Callbacks a scenario installs; one set is shared by all of its clients. */
export interface ClientHandlers {
  /** A decoded event. When absent, events are only counted through `count`. */
  event?(name: string, data: unknown): void;
  /** An event that was not decoded (cheap path for throughput scenarios). */
  count?(): void;
  /** An ack for a request this client sent with `request`. */
  ack?(client: BenchClient, id: number, data: unknown): void;
}

/** One connection of the load generator, whatever the wire protocol. */
export interface BenchClient {
  /** Resolves once the client can send events (namespace joined / socket open). */
  readonly ready: Promise<void>;
  /** Sends an event without ack. */
  emit(name: string, data: unknown): void;
  /** Sends an event with an ack id; the ack arrives through `handlers.ack`. */
  request(name: string, data: unknown): number;
  /** Publishes `data` to room `room` (the interest scenarios' publisher). */
  publishTo(room: number, data: unknown): void;
  /** Drops the connection at once (no goodbye). */
  close(): void;
  /** Leaves as a client does (the protocol's goodbye, a websocket close); resolves once closed. */
  end(): Promise<void>;
}

const CHAR_0 = 0x30;
const CHAR_2 = 0x32;
const CHAR_3 = 0x33;
const CHAR_4 = 0x34;
const CHAR_9 = 0x39;
const CHAR_OPEN_BRACKET = 0x5b;

const SOCKET_OPTIONS: WebSocket.ClientOptions = {
  perMessageDeflate: false,
  // The generator trusts the servers under test; UTF-8 validation is pure client cost.
  skipUTF8Validation: true,
};

class SioClient implements BenchClient {
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private nextId = 0;

  constructor(
    url: string,
    private readonly handlers: ClientHandlers,
  ) {
    this.ws = new WebSocket(url, SOCKET_OPTIONS);
    this.ready = new Promise((resolve, reject) => {
      this.ws.on("message", (data: Buffer) => {
        if (this.onPacket(data)) resolve();
      });
      // Kept for the socket's life: an "error" without a listener would throw.
      this.ws.on("error", reject);
      this.ws.once("close", (code) => reject(new Error(`closed before connect (${code})`)));
    });
  }

  emit(name: string, data: unknown): void {
    this.ws.send(`42${JSON.stringify([name, data])}`);
  }

  request(name: string, data: unknown): number {
    const id = this.nextId++;
    this.ws.send(`42${id}${JSON.stringify([name, data])}`);
    return id;
  }

  publishTo(room: number, data: unknown): void {
    this.emit("pubto", { r: room, d: data });
  }

  close(): void {
    this.ws.terminate();
  }

  end(): Promise<void> {
    // DISCONNECT of the main namespace, then the websocket closing handshake.
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send("41");
    return closeSocket(this.ws);
  }

  /** Handles one Engine.IO packet; returns true on the namespace CONNECT reply. */
  private onPacket(data: Buffer): boolean {
    const engineType = data[0];
    if (engineType === CHAR_4) {
      const socketType = data[1];
      if (socketType === CHAR_2) this.onEvent(data);
      else if (socketType === CHAR_3) this.onAck(data);
      else if (socketType === CHAR_0) return true;
      else if (socketType === CHAR_4) this.ws.emit("error", new Error(`connect_error ${data}`));
    } else if (engineType === CHAR_2) {
      this.ws.send("3");
    } else if (engineType === CHAR_0) {
      this.ws.send("40");
    }
    return false;
  }

  private onEvent(data: Buffer): void {
    const { event, count } = this.handlers;
    if (event === undefined) {
      count?.();
      return;
    }
    let index = 2;
    let id = -1;
    while (data[index] >= CHAR_0 && data[index] <= CHAR_9) {
      id = (id < 0 ? 0 : id * 10) + data[index] - CHAR_0;
      index++;
    }
    if (data[index] !== CHAR_OPEN_BRACKET) return; // another namespace: not ours
    const args = JSON.parse(data.toString("utf8", index)) as [string, unknown];
    if (id >= 0) this.ws.send(`43${id}[]`);
    event(args[0], args[1]);
  }

  private onAck(data: Buffer): void {
    let index = 2;
    let id = 0;
    while (data[index] >= CHAR_0 && data[index] <= CHAR_9) {
      id = id * 10 + data[index] - CHAR_0;
      index++;
    }
    const args = JSON.parse(data.toString("utf8", index)) as unknown[];
    this.handlers.ack?.(this, id, args[0]);
  }
}

interface WsMessage {
  e?: string;
  id?: number;
  d?: unknown;
}

class WsClient implements BenchClient {
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private nextId = 0;

  constructor(
    url: string,
    private readonly handlers: ClientHandlers,
  ) {
    this.ws = new WebSocket(url, SOCKET_OPTIONS);
    this.ready = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      // Kept for the socket's life: an "error" without a listener would throw.
      this.ws.on("error", reject);
      this.ws.once("close", (code) => reject(new Error(`closed before open (${code})`)));
    });
    this.ws.on("message", (data: Buffer) => this.onMessage(data));
  }

  emit(name: string, data: unknown): void {
    this.ws.send(JSON.stringify({ e: name, d: data }));
  }

  request(name: string, data: unknown): number {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ e: name, id, d: data }));
    return id;
  }

  publishTo(): void {
    throw new Error("the bare ws target has no rooms (it runs no cluster scenario)");
  }

  close(): void {
    this.ws.terminate();
  }

  end(): Promise<void> {
    return closeSocket(this.ws);
  }

  private onMessage(data: Buffer): void {
    const { event, count } = this.handlers;
    // `{"e":` starts every event; acks start with `{"id":`.
    if (event === undefined && data[2] === 0x65) {
      count?.();
      return;
    }
    const message = JSON.parse(data.toString()) as WsMessage;
    if (message.e !== undefined) event?.(message.e, message.d);
    else if (message.id !== undefined) this.handlers.ack?.(this, message.id, message.d);
  }
}

/** Starts the websocket closing handshake (code 1000) and resolves once the socket is closed. */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once("close", () => resolve());
    ws.close(1000);
  });
}

/**
 * Where a client of `protocol` connects on a target listening at `port`; a
 * Socket.IO receiver given a `room` asks the application to join it.
 */
export function clientUrl(
  protocol: WireProtocol,
  port: number,
  controller: boolean,
  room?: number,
): string {
  const role = controller ? "role=ctl" : `role=rx${room === undefined ? "" : `&room=${room}`}`;
  if (protocol === "bayeux") return `ws://127.0.0.1:${port}${BAYEUX_PATH}`;
  return protocol === "sio"
    ? `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&${role}`
    : `ws://127.0.0.1:${port}/?${role}`;
}

let ownChannels = 0;

/**
 * The channel a Bayeux client subscribes to: receivers (clients that count or
 * decode deliveries) join their room's channel, or else the fan-out channel;
 * controllers, echo and idle clients each get a channel of their own, which
 * nobody publishes to.
 */
function bayeuxSubscription(
  controller: boolean,
  handlers: ClientHandlers,
  room: number | undefined,
): string {
  const receiver = !controller && (handlers.event !== undefined || handlers.count !== undefined);
  if (!receiver) return `${BAYEUX_CHANNELS.own}${ownChannels++}`;
  return room === undefined ? BAYEUX_CHANNELS.deliveries : `${BAYEUX_CHANNELS.rooms}${room}`;
}

function createClient(
  protocol: WireProtocol,
  url: string,
  controller: boolean,
  handlers: ClientHandlers,
  room: number | undefined,
): BenchClient {
  switch (protocol) {
    case "sio":
      return new SioClient(url, handlers);
    case "bayeux":
      return new BayeuxClient(url, bayeuxSubscription(controller, handlers, room), handlers);
    case "ws":
      return new WsClient(url, handlers);
  }
}

/**
 * Opens one client and waits until it can send.
 *
 * @example
 * const client = await connect("sio", port, false, { count: () => received++ });
 */
export async function connect(
  protocol: WireProtocol,
  port: number,
  controller: boolean,
  handlers: ClientHandlers,
  room?: number,
): Promise<BenchClient> {
  const url = clientUrl(protocol, port, controller, room);
  const client = createClient(protocol, url, controller, handlers, room);
  await client.ready;
  return client;
}

/**
 * Opens `total` receiving clients with at most `concurrency` handshakes in
 * flight, so the server's listen backlog never overflows. Given several
 * ports (the nodes of a cluster), client i connects to `ports[i % n]`.
 */
export async function connectMany(
  protocol: WireProtocol,
  ports: number | readonly number[],
  total: number,
  concurrency: number,
  handlers: ClientHandlers,
): Promise<BenchClient[]> {
  const list = typeof ports === "number" ? [ports] : ports;
  const clients: BenchClient[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const port = list[next % list.length];
      next++;
      clients.push(await connect(protocol, port, false, handlers));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return clients;
}
