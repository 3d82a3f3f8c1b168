/**
 * The websocket transport: each text frame is a JSON batch (Bayeux over
 * WebSocket as Faye and CometD speak it). Replies go back as one frame per
 * batch; a held `/meta/connect` answers later in its own frame, and
 * deliveries are pushed as they happen, sharing one pre-encoded buffer across
 * recipients. Handlers are shared functions, not closures per socket.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket as WebSocketClient, WebSocketServer } from "ws";
import { FORWARDED_HEADER, type ForwardTarget, wasForwarded } from "../../cluster/forward.js";
import { isLinkUpgrade, LinkAcceptor } from "../../cluster/link-server.js";
import {
  BayeuxParseError,
  bayeuxError,
  decodeBatch,
  encodeBatch,
  parseErrorReplies,
} from "../../codec/bayeux/index.js";
import { createDebug } from "../../shared/debug.js";
import { useCompactListenerTable } from "../../shared/listener-table.js";
import { refuseUpgrade } from "../../transport/upgrade-refusal.js";
import { encodeFrame } from "../../transport/ws-frame.js";
import type { WebSocket } from "../../transport/ws-types.js";
import {
  type BacklogWatcher,
  OVERFLOW,
  type TickMark,
  UNAVAILABLE,
  type WebSocketWriter,
} from "../../transport/ws-writer.js";
import type { Delivery } from "../server/delivery.js";
import type { HeldResult, ProcessResult } from "../server/host.js";
import { isLate } from "../server/late.js";
import type { BayeuxServer } from "../server/server.js";
import type { BayeuxSession, SessionSocket } from "../server/session.js";
import { BayeuxHttpHandler } from "./http.js";
import { BATCH_BYTES, WebSocketOutbox } from "./ws-outbox.js";

const debug = createDebug("bayeux:ws");

const SOCKET = Symbol("bayeuxSocket");
type TaggedWebSocket = WebSocket & { [SOCKET]?: BayeuxSocket };

/** Close codes (RFC 6455 section 7.4.1). */
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_GOING_AWAY = 1001;

const NO_JSON: string[] = [];

function encode(deliveries: readonly Delivery[], replies: readonly object[]): string {
  try {
    return encodeBatch(deliveries.length === 0 ? NO_JSON : deliveries.map((d) => d.json), replies);
  } catch (err) {
    // A reply an outgoing extension made unencodable (circular, BigInt): the
    // client learns the batch failed; a throw here would be unhandled.
    debug("reply cannot be encoded: %s", (err as Error)?.message);
    return JSON.stringify([{ successful: false, error: bayeuxError("serverError") }]);
  }
}

/** Bytes of a frame written (or read) in parts. */
function framesLength(frames: readonly Buffer[]): number {
  let bytes = 0;
  for (let i = 0; i < frames.length; i++) bytes += frames[i].length;
  return bytes;
}

/** One websocket connection, which sessions push their deliveries through. */
export class BayeuxSocket implements SessionSocket, TickMark, BacklogWatcher {
  readonly ws: WebSocket;
  /**
   * The upgrade request, for extensions and policies; null when the server
   * had neither when the socket opened (an idle socket then does not keep
   * the request, its headers and their strings alive).
   */
  readonly request: IncomingMessage | null;
  readonly #server: BayeuxServer;
  /** The handler's: the writer and the end-of-tick delivery batches. */
  readonly #outbox: WebSocketOutbox;
  /** The tick of the last reply written (see {@link WebSocketWriter}). */
  tickMark = 0;
  /** The session pushing through this socket, or a Set once there are several (rare). */
  #sessions: BayeuxSession | Set<BayeuxSession> | null = null;
  /** The first delivery waiting for the end of the tick (null: none). */
  #first: Delivery | null = null;
  /** All of them once there is more than one (most ticks have one). */
  #more: Delivery[] | null = null;
  /** Frames that arrived while a batch waited on an asynchronous step (null: none waits). */
  #backlog: string[] | null = null;
  /**
   * Replies of late batches (a publish waiting only for its channel-log
   * store, see late.ts) still to be sent, and those queued behind them: the
   * connection goes on reading frames, and replies leave in frame order.
   */
  #replyTail: Promise<void> | null = null;
  /**
   * The owner node's websocket every frame is relayed to, once the first
   * batch named a clientId another node owns (option `forward`); null: none.
   */
  #relay: WebSocketClient | null = null;
  /** The upgrade's path and whether it was forwarded here already (then never relayed). */
  readonly #path: string;
  readonly #forwarded: boolean;

  /**
   * `outbox` is the one of the socket's handler (every socket of a server
   * shares it); a socket made on its own gets one of its own.
   */
  constructor(
    ws: WebSocket,
    request: IncomingMessage,
    server: BayeuxServer,
    outbox: WebSocketOutbox = new WebSocketOutbox(),
  ) {
    this.ws = ws;
    this.request = server.usesRequest ? request : null;
    this.#server = server;
    this.#outbox = outbox;
    const forwarding = server.forwarder !== null;
    // A node whose first client came over a websocket learns its address here.
    if (forwarding) server.learnAddress(request);
    this.#path = (forwarding && request.url) || "/";
    this.#forwarded = forwarding && wasForwarded(request);
    (ws as TaggedWebSocket)[SOCKET] = this;
    useCompactListenerTable(ws);
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", onError);
  }

  get open(): boolean {
    return this.ws.readyState === 1;
  }

  /** A frame of `bytes` came in. */
  countIn(bytes: number): void {
    this.#server.stats.bytesIn += bytes;
  }

  push(delivery: Delivery): void {
    if (this.ws.readyState !== 1) return;
    const first = this.#first;
    if (first !== null) {
      (this.#more ??= [first]).push(delivery);
      return;
    }
    this.#first = delivery;
    this.#outbox.schedule(this);
  }

  /** Writes what was pushed this tick: one delivery's shared frame, or batches of them. */
  flush(): void {
    const first = this.#first;
    if (first === null) return;
    const pending = this.#more;
    this.#first = this.#more = null;
    const stats = this.#server.stats;
    if (pending === null) {
      stats.messagesOut++;
      this.sendFrame(first.frame, first.wsFrame);
      return;
    }
    stats.messagesOut += pending.length;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < pending.length; i++) {
      const size = pending[i].frame.length;
      if (i > start && bytes + size > BATCH_BYTES) {
        this.#sendBatch(pending, start, i);
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    this.#sendBatch(pending, start, pending.length);
  }

  #sendBatch(list: readonly Delivery[], start: number, end: number): void {
    if (end - start === 1) {
      this.sendFrame(list[start].frame, list[start].wsFrame);
      return;
    }
    const outbox = this.#outbox;
    const payload = outbox.batch(list, start, end);
    this.sendFrame(payload, outbox.batchWsFrame());
  }

  /**
   * Writes one text frame of shared bytes: `frames` is its complete encoding,
   * built once for every recipient and written as it is (this server never
   * negotiates permessage-deflate). At the end of the tick there is nothing
   * left to coalesce with, so it goes out at once and the backlog is
   * measured right after; unless a reply corked the socket this tick, whose
   * uncork measures it.
   */
  sendFrame(payload: Buffer, frames: readonly Buffer[]): void {
    this.#write(payload, frames, null);
  }

  /**
   * Writes a frame through the server's writer, coalesced with this tick's
   * other writes when `mark` (this socket) is given; the slow-consumer limit
   * is checked once the bytes had their chance to leave.
   */
  #write(payload: string | Buffer, frames: readonly Buffer[], mark: TickMark | null): void {
    const ws = this.ws;
    if (ws.readyState !== 1) return;
    const writer = this.#outbox.writer;
    const server = this.#server;
    const max = server.options.maxBufferedBytes;
    server.stats.bytesOut += frames.length === 1 ? frames[0].length : framesLength(frames);
    let status = writer.writeFrames(ws, frames, mark, max, this);
    if (status === UNAVAILABLE)
      status = writer.send(ws, payload, false, false, mark, max, undefined, this);
    if (status === OVERFLOW) this.#cut();
  }

  /** The backlog measured after the end-of-tick uncork passed `maxBufferedBytes`. */
  overflowed(): void {
    this.#cut();
  }

  /**
   * A slow consumer: the peer reads slower than we publish, so unsent bytes
   * pile up in this process. Terminating (no closing handshake: the peer is
   * not reading) frees them, and ending its sessions tells the application
   * why (and names them in the node's slow-consumer list); a client that
   * comes back handshakes anew.
   */
  #cut(): void {
    const ws = this.ws;
    debug("slow consumer: %d bytes unsent, terminating", ws.bufferedAmount);
    this.#server.stats.overflows++;
    ws.terminate();
    this.#first = this.#more = null;
    const sessions = this.#sessions;
    this.#sessions = null;
    if (sessions === null) return;
    const slow = this.#server.stats.slow;
    if (sessions instanceof Set) {
      for (const session of sessions) {
        slow.add(session.id);
        this.#server.endSession(session, "slow consumer");
      }
    } else {
      slow.add(sessions.id);
      this.#server.endSession(sessions, "slow consumer");
    }
  }

  ended(session: BayeuxSession): void {
    const sessions = this.#sessions;
    if (sessions === session) this.#sessions = null;
    else if (sessions instanceof Set) {
      sessions.delete(session);
      if (sessions.size === 1) this.#sessions = sessions.values().next().value ?? null;
      else if (sessions.size === 0) this.#sessions = null;
    }
  }

  attached(session: BayeuxSession): void {
    const sessions = this.#sessions;
    if (sessions === null) this.#sessions = session;
    else if (sessions instanceof Set) sessions.add(session);
    else if (sessions !== session) this.#sessions = new Set([sessions, session]);
  }

  /**
   * Answers one frame. Frames of a connection are handled one after the
   * other in the order they arrived: while a batch waits on an asynchronous
   * step, later frames queue here, so a client's publishes reach
   * subscribers in the order it sent them (a reconnecting client flushes its
   * offline queue as several frames at once).
   */
  receive(text: string): void {
    if (this.#relay !== null) {
      this.#relay.send(text);
      return;
    }
    if (this.#backlog !== null) {
      this.#backlog.push(text);
      return;
    }
    const pending = this.#answer(text);
    if (pending !== undefined) this.#wait(pending);
  }

  #wait(pending: Promise<void>): void {
    this.#backlog = [];
    pending.then(
      () => this.#drain(),
      (err) => {
        this.#server.logger.error({ err }, "websocket batch failed");
        this.#drain();
      },
    );
  }

  /** The batch that was waiting is answered: handle the frames that queued behind it. */
  #drain(): void {
    const backlog = this.#backlog;
    this.#backlog = null;
    if (backlog === null) return;
    if (this.#relay !== null) {
      for (const text of backlog) this.#relay.send(text);
      return;
    }
    for (let i = 0; i < backlog.length; i++) {
      let pending: Promise<void> | undefined;
      try {
        pending = this.#answer(backlog[i]);
      } catch (err) {
        this.#server.logger.error({ err }, "websocket batch failed");
      }
      if (pending !== undefined) {
        this.#wait(pending);
        // Whatever queued behind this one still waits, ahead of later frames.
        for (let j = i + 1; j < backlog.length; j++) this.#backlog!.push(backlog[j]);
        return;
      }
    }
  }

  /** Answers one frame: synchronously when its batch is, else a promise. */
  #answer(text: string): Promise<void> | undefined {
    const server = this.#server;
    let batch: unknown[];
    try {
      batch = decodeBatch(text, server.options);
    } catch (err) {
      const replies =
        err instanceof BayeuxParseError
          ? parseErrorReplies(err)
          : [{ successful: false, error: bayeuxError("badRequest") }];
      this.#sendText(JSON.stringify(replies));
      return undefined;
    }
    // Faye keeps the connection alive with empty batches.
    if (batch.length === 0) return undefined;
    // A client that handshook over HTTP on another node (Faye does, then
    // moves to a websocket): this connection becomes a relay to the owner.
    if (this.#sessions === null && !this.#forwarded && server.forwarder !== null) {
      const foreign = server.foreignClientId(batch);
      if (foreign !== undefined) return this.#forward(foreign, text, batch);
    }
    return this.#process(batch);
  }

  #process(batch: unknown[]): Promise<void> | undefined {
    const server = this.#server;
    const result = server.processBatch(batch, {
      connectionType: "websocket",
      request: this.request,
      socket: this,
    });
    if (result instanceof Promise) {
      if (!isLate(result)) return result.then((r) => this.#inOrder(r));
      this.#inOrder(result);
      return undefined;
    }
    this.#inOrder(result);
    return undefined;
  }

  /** Sends a batch's replies now, or after the late replies before it. */
  #inOrder(result: ProcessResult | Promise<ProcessResult>): void {
    const before = this.#replyTail;
    if (before === null && !(result instanceof Promise)) {
      this.#reply(result);
      return;
    }
    const tail: Promise<void> = (before ?? Promise.resolve())
      .then(() => result)
      .then(
        (r) => this.#reply(r),
        (err) => this.#server.logger.error({ err }, "websocket batch failed"),
      )
      .then(() => {
        if (this.#replyTail === tail) this.#replyTail = null;
      });
    this.#replyTail = tail;
  }

  /**
   * Opens a websocket to the owner of `clientId` and relays this frame and
   * every later one there, its frames back here; without an owner to reach,
   * the batch is answered here (402).
   */
  #forward(clientId: string, text: string, batch: unknown[]): Promise<void> {
    const server = this.#server;
    return new Promise<ForwardTarget | null>((resolve) =>
      server.locateOwner(clientId, resolve),
    ).then((target) => {
      if (target === null || this.ws.readyState !== 1) return this.#process(batch);
      return new Promise<void>((resolve) => {
        const host = target.host.includes(":") ? `[${target.host}]` : target.host;
        const remote = new WebSocketClient(`ws://${host}:${target.port}${this.#path}`, {
          headers: { [FORWARDED_HEADER]: server.nodeId },
          perMessageDeflate: false,
        });
        let open = false;
        remote.on("open", () => {
          open = true;
          if (this.ws.readyState !== 1) {
            remote.close();
            resolve();
            return;
          }
          this.#relay = remote;
          remote.send(text);
          resolve();
        });
        remote.on("message", (data: Buffer, isBinary: boolean) => {
          if (!isBinary) this.#sendText(data.toString("utf8"));
        });
        remote.on("close", () => {
          if (open) this.ws.close(CLOSE_GOING_AWAY, "owner closed");
        });
        remote.on("error", (err) => {
          debug("relay to %s:%d failed: %s", target.host, target.port, err.message);
          if (open) return;
          // An owner that is gone: its session is adopted here, if it can be.
          server.ownerUnreachable(clientId, err);
          void Promise.resolve(this.#process(batch)).then(resolve, resolve);
        });
      });
    });
  }

  #reply(result: ProcessResult): void {
    if (result.replies.length > 0 || result.deliveries.length > 0) {
      this.#server.stats.messagesOut += result.replies.length + result.deliveries.length;
      this.#sendText(encode(result.deliveries, result.replies));
    }
    // Not awaited here: an idle client's held connect would keep this frame
    // (the batch text, its parsed messages and the result) alive for the hold.
    if (result.held) result.held.then((released) => this.#sendReleased(released), heldFailed);
  }

  #sendReleased(released: HeldResult): void {
    const replies = released.reply ? [released.reply] : [];
    if (replies.length > 0 || released.deliveries.length > 0) {
      this.#server.stats.messagesOut += replies.length + released.deliveries.length;
      this.#sendText(encode(released.deliveries, replies));
    }
  }

  #sendText(text: string): void {
    // Deliveries pushed earlier in this tick go first, as they happened first.
    this.flush();
    if (this.ws.readyState !== 1) return;
    // The whole frame in one buffer and one write (ws's sender would write
    // header and payload as two buffers, a writev). A second reply in a tick
    // corks the socket until the tick ends.
    this.#write(text, encodeFrame(text, false), this);
  }

  closed(): void {
    this.#relay?.close();
    this.#relay = null;
    const sessions = this.#sessions;
    this.#sessions = null;
    if (sessions === null) return;
    if (sessions instanceof Set) for (const session of sessions) session.detach(this);
    else sessions.detach(this);
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
  socket.countIn(Array.isArray(data) ? framesLength(data) : data.byteLength);
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString("utf8")
    : Buffer.isBuffer(data)
      ? data.toString("utf8")
      : Buffer.from(data).toString("utf8");
  try {
    socket.receive(text);
  } catch (err) {
    debug("batch failed: %O", err);
  }
}

function onClose(this: TaggedWebSocket): void {
  this[SOCKET]?.closed();
}

function onError(this: TaggedWebSocket, err: Error): void {
  debug("socket error: %s", err.message);
}

function heldFailed(err: unknown): void {
  debug("held connect failed: %O", err);
}

/** Errors on a stream before ws takes it over: the upgrade just fails. */
function ignoreError(): void {}

export class BayeuxWebSocketHandler {
  readonly #server: BayeuxServer;
  readonly #wss: WebSocketServer;
  /** Writes every frame of this server's websockets, and batches their deliveries. */
  readonly #outbox = new WebSocketOutbox();
  /** The links peers forward requests over (option `forward`), opened on first use. */
  #links: LinkAcceptor | null = null;

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
    if (this.#server.forwarder !== null && !this.#server.closed && isLinkUpgrade(req)) {
      this.#acceptLink(req, socket, head);
      return;
    }
    const enabled = this.#server.options.connectionTypes.includes("websocket");
    if (
      !enabled ||
      this.#server.closed ||
      (req.headers.upgrade ?? "").toLowerCase() !== "websocket"
    ) {
      refuseUpgrade(socket, this.#server.closed ? 503 : 400);
      return;
    }
    socket.on("error", ignoreError);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      // ws listens for errors on the stream from here on.
      socket.removeListener("error", ignoreError);
      new BayeuxSocket(ws, req, this.#server, this.#outbox);
    });
  }

  /**
   * A peer's forwarding link: its requests are served by the long-polling
   * handler as if they came in here (link-server.ts).
   */
  #acceptLink(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#links === null) {
      const http = new BayeuxHttpHandler(this.#server);
      this.#links = new LinkAcceptor({
        handler: (r, res) =>
          http.handleRequest(r as unknown as IncomingMessage, res as unknown as ServerResponse),
        maxBody: this.#server.options.maxMessageSize,
      });
    }
    this.#links.accept(req, socket, head);
  }

  /** Closes every websocket (going away) and every forwarding link. */
  close(): void {
    this.#links?.close();
    for (const ws of this.#wss.clients) ws.close(CLOSE_GOING_AWAY, "server closing");
    this.#wss.close();
  }
}
