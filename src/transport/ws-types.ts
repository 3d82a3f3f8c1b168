/**
 * The parts of a `ws` WebSocket and WebSocketServer that Switchboard uses and
 * that its public declarations mention, declared here instead of imported
 * from "ws": `ws` ships no types, and its `@types/ws` is a devDependency, so a
 * published `.d.ts` importing "ws" would not compile for a user checking
 * libraries (`skipLibCheck: false`) without installing `@types/ws` by hand.
 * A real `ws` object is assignable to each.
 */
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** A server-side `ws` WebSocket, as the transports drive it. */
export interface WebSocket extends EventEmitter {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet handed to the TCP socket. */
  readonly bufferedAmount: number;
  /** The negotiated extensions (e.g. "permessage-deflate"). */
  readonly extensions: string;
  send(
    data: string | Buffer,
    options?: { binary?: boolean; compress?: boolean; fin?: boolean },
    cb?: (err?: Error) => void,
  ): void;
  close(code?: number, reason?: string | Buffer): void;
  terminate(): void;
}

/** A `ws` WebSocketServer in `noServer` mode: it only completes upgrades handed to it. */
export interface WebSocketServerLike extends EventEmitter {
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (ws: WebSocket, req: IncomingMessage) => void,
  ): void;
  close(cb?: (err?: Error) => void): void;
}
