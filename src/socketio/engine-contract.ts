/**
 * The part of the Engine.IO server contract (`src/engine/`) the Socket.IO
 * layer relies on: an engine socket per connection, with engine.io 6's names.
 */
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { PreparedMessage, SendOptions } from "../engine/types.js";

/** One Engine.IO connection, as `engine.on("connection")` hands it over. */
export interface EngineSocket extends EventEmitter {
  readonly id: string;
  readonly request: IncomingMessage;
  /** Engine.IO protocol revision: 4, or 3 for socket.io-client v2. */
  readonly protocol: number;
  readonly readyState: string;
  readonly transport: { readonly name: string; readonly writable: boolean };
  write(data: string | Buffer | PreparedMessage, options?: SendOptions, cb?: () => void): unknown;
  /** Switchboard's engine: writes a message prepared for a broadcast, by its shortest path. */
  _sendPrepared?(prepared: PreparedMessage, compress: boolean, volatile?: boolean): void;
  /** Switchboard's engine: whether a volatile packet goes out now (no write in flight). */
  _acceptsVolatile?(): boolean;
  /**
   * Switchboard's engine: holds polling writes until `uncork()`, so packets
   * written in between leave in one response (a recovered session's replay
   * and its CONNECT reply: a client that got the first without the second
   * would keep them and be given them again).
   */
  cork?(): void;
  uncork?(): void;
  close(discard?: boolean): unknown;
}
