/**
 * The `websocket` connection type: every batch is one text frame holding a
 * JSON array, in both directions, on one connection to the Bayeux endpoint
 * (same URL with `ws:`/`wss:`). In browsers and Node 22+ the global
 * `WebSocket` is used; in Node 20 the `ws` package, loaded on first use so
 * the browser bundle never contains it.
 */
import { BayeuxTransportError } from "./errors.js";
import {
  parseBatch,
  TransportBase,
  type TransportContext,
  type WebSocketConstructor,
} from "./transport.js";
import type { BayeuxMessage, TimerHandle } from "./types.js";

const OPEN = 1;

/** `http(s)://` → `ws(s)://`. */
export function toWebSocketUrl(url: string): string {
  return url.replace(/^http/i, "ws");
}

async function loadConstructor(ctx: TransportContext): Promise<WebSocketConstructor> {
  if (ctx.WebSocket) return ctx.WebSocket;
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  // A variable specifier keeps bundlers from following it into the browser build.
  const specifier = "ws";
  const mod = (await import(/* @vite-ignore */ specifier)) as { default: unknown };
  return mod.default as WebSocketConstructor;
}

function frameText(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  throw new SyntaxError("binary frame of unknown type");
}

export class WebSocketTransport extends TransportBase {
  readonly connectionType = "websocket" as const;
  #socket: WebSocket | null = null;
  #opening: Promise<void> | null = null;

  protected override openConnection(): Promise<void> {
    if (this.#socket && this.#socket.readyState === OPEN) return Promise.resolve();
    this.#opening ??= this.#connect().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #connect(): Promise<void> {
    const { clock, log } = this.ctx;
    const Ctor = await loadConstructor(this.ctx);
    if (this.closed) throw new BayeuxTransportError("transport closed");
    const url = toWebSocketUrl(this.ctx.url);
    log("websocket opening %s", url);
    const socket = new Ctor(url);
    await new Promise<void>((resolve, reject) => {
      let timer: TimerHandle = null;
      const fail = (reason: string) => {
        clock.clearTimeout(timer);
        socket.onopen = socket.onclose = null;
        // Keep an error listener: `ws` throws on an "error" event nobody listens to.
        socket.onerror = () => {};
        try {
          socket.close();
        } catch {
          // Closing a socket that never opened may throw in some runtimes.
        }
        reject(new BayeuxTransportError(`websocket ${url}: ${reason}`));
      };
      timer = clock.setTimeout(() => fail("open timed out"), this.ctx.openTimeout);
      socket.onopen = () => {
        clock.clearTimeout(timer);
        resolve();
      };
      socket.onerror = () => fail("could not open");
      socket.onclose = (event) => fail(`closed before open (${event.code})`);
    });
    if (this.closed) {
      socket.close(1000);
      throw new BayeuxTransportError("transport closed");
    }
    this.#socket = socket;
    socket.onmessage = (event) => this.#onFrame(event.data);
    socket.onerror = () => {};
    socket.onclose = (event) => this.#onClose(socket, event.code);
    log("websocket open");
  }

  #onFrame(data: unknown): void {
    let batch: unknown[];
    try {
      batch = parseBatch(frameText(data));
    } catch (cause) {
      // A frame we cannot read leaves the stream in an unknown state: drop the connection.
      this.ctx.log("websocket bad frame: %s", cause);
      this.#socket?.close(1002, "bad frame");
      return;
    }
    this.deliver(batch);
  }

  #onClose(socket: WebSocket, code: number): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    this.ctx.log("websocket closed (%d)", code);
    if (!this.closed) {
      this.ctx.host.failed(this, null, new BayeuxTransportError(`websocket closed (${code})`));
    }
  }

  send(messages: BayeuxMessage[]): void {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) {
      // Reported on the next microtask so the caller finishes registering first.
      queueMicrotask(() =>
        this.ctx.host.failed(this, messages, new BayeuxTransportError("websocket not open")),
      );
      return;
    }
    socket.send(JSON.stringify(messages));
  }

  drop(): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#socket = null;
    socket.onmessage = socket.onclose = null;
    // A peer that stopped answering will not complete a closing handshake either.
    const terminate = (socket as unknown as { terminate?: () => void }).terminate;
    if (terminate) terminate.call(socket);
    else socket.close(4000, "unresponsive");
    this.ctx.log("websocket dropped");
    this.ctx.host.failed(this, null, new BayeuxTransportError("websocket unresponsive"));
  }

  override close(): void {
    super.close();
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onmessage = socket.onclose = null;
      socket.close(1000);
    }
  }
}
