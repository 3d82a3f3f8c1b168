/**
 * The websocket transport: each text frame is a JSON batch (Bayeux over
 * WebSocket as Faye and CometD speak it). Replies go back as one frame per
 * batch; a held `/meta/connect` answers later in its own frame, and
 * deliveries are pushed as they happen, sharing one pre-encoded buffer across
 * recipients. Handlers are shared functions, not closures per socket.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import {
  BayeuxParseError,
  bayeuxError,
  decodeBatch,
  encodeBatch,
  parseErrorReplies,
} from "../../codec/bayeux/index.js";
import { createDebug } from "../../shared/debug.js";
import type { Delivery } from "../server/delivery.js";
import type { BayeuxServer } from "../server/server.js";
import type { BayeuxSession, SessionSocket } from "../server/session.js";

const debug = createDebug("bayeux:ws");

const SOCKET = Symbol("bayeuxSocket");
type TaggedWebSocket = WebSocket & { [SOCKET]?: BayeuxSocket };

// Shared send options: a delivery's frame bytes are JSON text, sent as a text
// frame; one object for every send keeps the per-recipient path allocation-free.
const TEXT_FRAME = { binary: false } as const;

/** Close codes (RFC 6455 section 7.4.1). */
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_GOING_AWAY = 1001;

function encode(deliveries: readonly Delivery[], replies: readonly object[]): string {
  return encodeBatch(
    deliveries.map((d) => d.json),
    replies,
  );
}

/** One websocket connection, which sessions push their deliveries through. */
export class BayeuxSocket implements SessionSocket {
  readonly ws: WebSocket;
  readonly request: IncomingMessage;
  readonly #server: BayeuxServer;
  #sessions: Set<BayeuxSession> | null = null;

  constructor(ws: WebSocket, request: IncomingMessage, server: BayeuxServer) {
    this.ws = ws;
    this.request = request;
    this.#server = server;
    (ws as TaggedWebSocket)[SOCKET] = this;
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", onError);
  }

  get open(): boolean {
    return this.ws.readyState === 1;
  }

  sendFrame(frame: Buffer): void {
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    ws.send(frame, TEXT_FRAME);
    if (ws.bufferedAmount > this.#server.options.maxBufferedBytes) this.#cut();
  }

  /**
   * A slow consumer: the peer reads slower than we publish, so unsent bytes
   * pile up in this process. Terminating (no closing handshake: the peer is
   * not reading) frees them, and ending its sessions tells the application
   * why; a client that comes back handshakes anew.
   */
  #cut(): void {
    const ws = this.ws;
    debug("slow consumer: %d bytes unsent, terminating", ws.bufferedAmount);
    ws.terminate();
    const sessions = this.#sessions;
    this.#sessions = null;
    if (sessions) for (const session of sessions) this.#server.endSession(session, "slow consumer");
  }

  attached(session: BayeuxSession): void {
    (this.#sessions ??= new Set()).add(session);
  }

  async receive(text: string): Promise<void> {
    const server = this.#server;
    let batch: unknown[];
    try {
      batch = decodeBatch(text, { maxBatchLength: server.options.maxBatchLength });
    } catch (err) {
      const replies =
        err instanceof BayeuxParseError
          ? parseErrorReplies(err)
          : [{ successful: false, error: bayeuxError("badRequest") }];
      this.#sendText(JSON.stringify(replies));
      return;
    }
    // Faye keeps the connection alive with empty batches.
    if (batch.length === 0) return;
    const result = await server.process(batch, {
      connectionType: "websocket",
      request: this.request,
      socket: this,
    });
    if (result.replies.length > 0 || result.deliveries.length > 0) {
      this.#sendText(encode(result.deliveries, result.replies));
    }
    if (result.held) {
      const released = await result.held;
      const replies = released.reply ? [released.reply] : [];
      if (replies.length > 0 || released.deliveries.length > 0) {
        this.#sendText(encode(released.deliveries, replies));
      }
    }
  }

  #sendText(text: string): void {
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    ws.send(text);
    if (ws.bufferedAmount > this.#server.options.maxBufferedBytes) this.#cut();
  }

  closed(): void {
    const sessions = this.#sessions;
    this.#sessions = null;
    if (sessions) for (const session of sessions) session.detach(this);
  }
}

function onMessage(
  this: TaggedWebSocket,
  data: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
): void {
  const socket = this[SOCKET];
  if (!socket) return;
  if (isBinary) {
    this.close(CLOSE_UNSUPPORTED, "text frames only");
    return;
  }
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString("utf8")
    : Buffer.isBuffer(data)
      ? data.toString("utf8")
      : Buffer.from(data).toString("utf8");
  socket.receive(text).catch((err) => debug("batch failed: %O", err));
}

function onClose(this: TaggedWebSocket): void {
  this[SOCKET]?.closed();
}

function onError(this: TaggedWebSocket, err: Error): void {
  debug("socket error: %s", err.message);
}

export class BayeuxWebSocketHandler {
  readonly #server: BayeuxServer;
  readonly #wss: WebSocketServer;

  constructor(server: BayeuxServer) {
    this.#server = server;
    this.#wss = new WebSocketServer({
      noServer: true,
      // Frames past the limit close the connection with 1009 (RFC 6455).
      maxPayload: server.options.maxMessageSize,
      perMessageDeflate: false,
    });
    server.once("close", () => this.close());
  }

  /** Number of open websockets. */
  get size(): number {
    return this.#wss.clients.size;
  }

  /**
   * Takes over an HTTP upgrade under the Bayeux path.
   *
   * @example
   * httpServer.on("upgrade", (req, socket, head) => wsHandler.handleUpgrade(req, socket, head));
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {});
    const enabled = this.#server.options.connectionTypes.includes("websocket");
    if (
      !enabled ||
      this.#server.closed ||
      (req.headers.upgrade ?? "").toLowerCase() !== "websocket"
    ) {
      const status = this.#server.closed ? "503 Service Unavailable" : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      new BayeuxSocket(ws, req, this.#server);
    });
  }

  /** Closes every websocket (going away). */
  close(): void {
    for (const ws of this.#wss.clients) ws.close(CLOSE_GOING_AWAY, "server closing");
    this.#wss.close();
  }
}
