/**
 * The load generator's Bayeux client: a raw `ws` socket speaking just enough
 * Bayeux 1.0 over websocket, the same code for switchboard-bayeux and faye.
 *
 * On open it sends `/meta/handshake` (version 1.0, connection type
 * `websocket`); on the reply it sends `/meta/subscribe` and `/meta/connect`
 * (connectionType `websocket`) in two frames, and is ready once the
 * subscription is acknowledged. Like Faye's and CometD's clients it keeps one
 * `/meta/connect` outstanding: each connect reply is answered with the next
 * connect (Bayeux 1.0 §3.5 and §4.1). Publishes carry an `id`; the server's
 * reply (`successful` with the same `id`, §5.1.2) is the request's "ack".
 * Deliveries are the messages on a non-meta channel without `successful`.
 */
import WebSocket from "ws";
import { BAYEUX_CHANNELS } from "../lib/protocol.js";
import { type BenchClient, type ClientHandlers, closeSocket } from "./clients.js";

interface BayeuxMessage {
  channel: string;
  clientId?: string;
  successful?: boolean;
  id?: string;
  data?: unknown;
  error?: string;
}

const SOCKET_OPTIONS: WebSocket.ClientOptions = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
};

/** Longest wait for the `/meta/disconnect` reply before the socket is closed anyway. */
const DISCONNECT_TIMEOUT_MS = 10_000;

/** Bytes that mark a frame carrying a meta message (never inside our payloads). */
const META = Buffer.from('"/meta/');
/** Bytes that start every delivery on the fan-out channel, however the server batches. */
const DELIVERY = Buffer.from(`"channel":"${BAYEUX_CHANNELS.deliveries}"`);

const HANDSHAKE = JSON.stringify([
  { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["websocket"] },
]);

/** Counts occurrences of `needle` in `data`. */
function occurrences(data: Buffer, needle: Buffer): number {
  let found = 0;
  let at = data.indexOf(needle);
  while (at !== -1) {
    found++;
    at = data.indexOf(needle, at + needle.length);
  }
  return found;
}

/**
 * One Bayeux client over websocket, subscribed to `subscription`.
 *
 * @example
 * const client = new BayeuxClient("ws://127.0.0.1:8000/bayeux", "/bench/m", { count: () => n++ });
 * await client.ready;
 */
export class BayeuxClient implements BenchClient {
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private clientId = "";
  private nextId = 0;
  /** Data of the publishes awaiting their reply, by id (the reply carries no data). */
  private readonly pending = new Map<string, unknown>();
  private connectFrame = "";
  private subscribed: (() => void) | undefined;
  /** Set by `end()`: called on the `/meta/disconnect` reply. */
  private disconnected: (() => void) | undefined;

  constructor(
    url: string,
    private readonly subscription: string,
    private readonly handlers: ClientHandlers,
  ) {
    this.ws = new WebSocket(url, SOCKET_OPTIONS);
    this.ready = new Promise((resolve, reject) => {
      this.subscribed = resolve;
      // Kept for the socket's life: an "error" without a listener would throw.
      this.ws.on("error", reject);
      this.ws.once("close", (code) => reject(new Error(`closed before subscribing (${code})`)));
    });
    this.ws.once("open", () => this.ws.send(HANDSHAKE));
    this.ws.on("message", (data: Buffer) => this.onFrame(data));
  }

  /** Publishes `data` (fan-out: to the delivery channel; else a control request). */
  emit(name: string, data: unknown): void {
    const channel =
      name === "pub" ? BAYEUX_CHANNELS.deliveries : `${BAYEUX_CHANNELS.control}${name}`;
    const id = String(this.nextId++);
    this.ws.send(JSON.stringify([{ channel, clientId: this.clientId, data, id }]));
  }

  /** Publishes `data` to the channel of room `room`; the reply is not awaited. */
  publishTo(room: number, data: unknown): void {
    const id = String(this.nextId++);
    const channel = `${BAYEUX_CHANNELS.rooms}${room}`;
    this.ws.send(JSON.stringify([{ channel, clientId: this.clientId, data, id }]));
  }

  /** Publishes to the echo channel (no subscriber); the reply arrives through `handlers.ack`. */
  request(_name: string, data: unknown): number {
    const id = this.nextId++;
    const key = String(id);
    this.pending.set(key, data);
    this.ws.send(
      JSON.stringify([{ channel: BAYEUX_CHANNELS.echo, clientId: this.clientId, data, id: key }]),
    );
    return id;
  }

  close(): void {
    this.ws.terminate();
  }

  /**
   * Ends the session as Faye and CometD clients do: `/meta/disconnect`
   * (Bayeux 1.0 section 3.8), then, on its reply, the websocket close.
   */
  end(): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN || this.clientId === "") {
      return closeSocket(this.ws);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.disconnected?.(), DISCONNECT_TIMEOUT_MS);
      this.disconnected = () => {
        clearTimeout(timer);
        this.disconnected = undefined;
        closeSocket(this.ws).then(resolve, resolve);
      };
      this.ws.send(JSON.stringify([{ channel: "/meta/disconnect", clientId: this.clientId }]));
    });
  }

  private onFrame(data: Buffer): void {
    const { event, count } = this.handlers;
    // Throughput path: count deliveries without decoding when no meta message is in the frame.
    if (event === undefined && count !== undefined && data.indexOf(META) === -1) {
      for (let n = occurrences(data, DELIVERY); n > 0; n--) count();
      return;
    }
    const decoded = JSON.parse(data.toString()) as BayeuxMessage | BayeuxMessage[];
    const messages = Array.isArray(decoded) ? decoded : [decoded];
    for (const message of messages) this.onMessage(message);
  }

  private onMessage(message: BayeuxMessage): void {
    const { channel } = message;
    if (channel.startsWith("/meta/")) {
      this.onMeta(message);
    } else if (message.successful === undefined) {
      if (this.handlers.event !== undefined) this.handlers.event("m", message.data);
      else this.handlers.count?.();
    } else if (!message.successful) {
      this.fail(`publish to ${channel} failed: ${message.error}`);
    } else if (message.id !== undefined && this.pending.has(message.id)) {
      const data = this.pending.get(message.id);
      this.pending.delete(message.id);
      this.handlers.ack?.(this, Number(message.id), data);
    }
  }

  private onMeta(message: BayeuxMessage): void {
    if (this.disconnected !== undefined) {
      // Leaving: the disconnect reply ends the session; the held connect's
      // answer (if any) is not followed by another connect.
      if (message.channel === "/meta/disconnect") this.disconnected();
      return;
    }
    if (!message.successful) {
      this.fail(`${message.channel} failed: ${message.error}`);
      return;
    }
    switch (message.channel) {
      case "/meta/handshake": {
        this.clientId = message.clientId ?? "";
        const connect = { channel: "/meta/connect", clientId: this.clientId };
        this.connectFrame = JSON.stringify([{ ...connect, connectionType: "websocket" }]);
        const subscribe = {
          channel: "/meta/subscribe",
          clientId: this.clientId,
          subscription: this.subscription,
        };
        // Two frames: a server may answer a batch only once every reply in it
        // is ready (Faye does), and the connect is held.
        this.ws.send(JSON.stringify([subscribe]));
        this.ws.send(this.connectFrame);
        break;
      }
      case "/meta/subscribe":
        this.subscribed?.();
        this.subscribed = undefined;
        break;
      case "/meta/connect":
        // Keep one connect outstanding, as Faye and CometD clients do.
        if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.connectFrame);
        break;
    }
  }

  private fail(reason: string): void {
    this.ws.emit("error", new Error(reason));
  }
}
