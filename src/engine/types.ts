/**
 * The public contract of Switchboard's Engine.IO server (`switchboard/engine`).
 * It mirrors the `engine.io` 6 package so that code written for it works
 * unchanged; the Socket.IO layer is built on exactly this contract.
 */

import type { IncomingMessage } from "node:http";
import type { SessionStore } from "../cluster/session-store.js";
import type { Logger } from "../shared/logger.js";

export type TransportName = "polling" | "websocket";

/** Engine.IO socket states, as engine.io names them. */
export type ReadyState = "opening" | "open" | "closing" | "closed";

/** Reasons a socket closes, with engine.io's strings. */
export type CloseReason =
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "server shutting down";

export interface CorsOptions {
  origin?:
    | boolean
    | string
    | RegExp
    | (string | RegExp)[]
    | ((
        origin: string | undefined,
        cb: (err: Error | null, allow?: boolean | string) => void,
      ) => void);
  methods?: string | string[];
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
  credentials?: boolean;
  maxAge?: number;
  preflightContinue?: boolean;
  optionsSuccessStatus?: number;
}

export interface CookieOptions {
  name?: string;
  path?: string | false;
  httpOnly?: boolean;
  sameSite?: boolean | "lax" | "strict" | "none";
  secure?: boolean;
  domain?: string;
  maxAge?: number;
  expires?: Date;
}

export interface EngineOptions {
  /** Milliseconds between two server pings. Default 25000. */
  pingInterval?: number;
  /** Milliseconds to wait for a pong before closing. Default 20000. */
  pingTimeout?: number;
  /** Milliseconds an upgrade may take before it is cancelled. Default 10000. */
  upgradeTimeout?: number;
  /** Largest message (and polling POST body) accepted, in bytes. Default 1e6. */
  maxHttpBufferSize?: number;
  /**
   * Whether Switchboard reads the connections of a plain `http.Server` it is
   * attached to itself, serving the polls and posts of open polling sessions
   * (and handshakes) below node:http, at a fraction of the CPU; any other
   * request hands its connection to node:http unchanged. Default true.
   */
  fastPolling?: boolean;
  /** Transports to accept. Default ["polling", "websocket"]. */
  transports?: TransportName[];
  /** Whether to allow transport upgrades. Default true. */
  allowUpgrades?: boolean;
  /** Decides whether a handshake or upgrade may proceed. */
  allowRequest?: (
    req: IncomingMessage,
    fn: (err: string | null | undefined, success: boolean) => void,
  ) => void;
  /** Send an `io` cookie with the handshake. Default false. */
  cookie?: boolean | CookieOptions;
  /** CORS for polling requests. Default: none (same-origin only). */
  cors?: CorsOptions;
  /** permessage-deflate for websocket. Default false. */
  perMessageDeflate?: boolean | { threshold?: number };
  /** Compression of polling responses. Default true (threshold 1024 bytes). */
  httpCompression?: boolean | { threshold?: number };
  /** Accept Engine.IO v3 clients (socket.io-client v2). Default false. */
  allowEIO3?: boolean;
  /** Path the engine is attached at. Default "/engine.io" (Socket.IO: "/socket.io"). */
  path?: string;
  /** Whether the attached path ends with "/" ("/engine.io/"). Default true. */
  addTrailingSlash?: boolean;
  /** Destroy websocket upgrade requests for other paths. Default true when attached. */
  destroyUpgrade?: boolean;
  /** Milliseconds before an unhandled upgrade socket is destroyed. Default 1000. */
  destroyUpgradeTimeout?: number;
  /** Largest number of open sessions; further handshakes get 503. Default 100000. */
  maxConnections?: number;
  /**
   * Most bytes allowed to wait for one slow client, default 16 MiB (16777216).
   * Over websocket this is ws's `bufferedAmount` after a write (what the kernel
   * would not take yet); over long-polling, the bytes of the packets queued
   * while the client holds no GET. Past it the session closes with reason
   * "transport error" (description "outgoing buffer full") and its buffers are
   * freed, so a consumer that stops reading cannot grow the server's memory
   * without bound. `Infinity` turns the check off.
   *
   * @example
   * new Server({ maxBufferedBytes: 1024 * 1024 }); // drop clients 1 MiB behind
   */
  maxBufferedBytes?: number;
  /** Data appended to the `open` packet's handshake (engine.io `initialPacket`). */
  initialPacket?: unknown;
  /**
   * Where sids are recorded so any node finds a session's owner. Default: an
   * in-memory store of this server alone.
   *
   * @example
   * new Server({ sessionStore: new RedisSessionStore(redis), nodeId: "node-1" });
   */
  sessionStore?: SessionStore;
  /** This node's id in the session store. Default: 16 random hex digits. */
  nodeId?: string;
  /**
   * Milliseconds a sid's store record outlives its node (records are
   * refreshed every third of it). Default 60000.
   */
  sessionStoreTtl?: number;
  /**
   * No sticky sessions: a request or websocket upgrade naming a sid another
   * node owns is forwarded to that node (one hop, bodies streamed) instead
   * of refused with 400 "Session ID unknown". Needs a `sessionStore` shared
   * by the nodes. `advertise` is the `http://host:port` peers reach this
   * node at, recorded with each sid; default: derived from the address the
   * attached HTTP server listens on (a wildcard address gives this host's
   * first non-internal IPv4 address). Default: off.
   *
   * @example
   * new Server({ sessionStore, nodeId: "node-1", forward: { advertise: "http://10.0.0.5:3000" } });
   */
  forward?: boolean | ForwardOptions;
  /**
   * Where the engine logs (pino-compatible; `child({ component: "engine" })`
   * when it has children): handshakes, upgrades, closes with their reason and
   * refused requests with their code at debug, dropped slow consumers at warn.
   * Default: warnings and errors to stderr.
   *
   * @example
   * new Server({ logger: pino() });
   */
  logger?: Logger;
}

export interface ForwardOptions {
  /** The `http://host:port` address peers forward this node's sessions' requests to. */
  advertise?: string;
}

export interface SendOptions {
  /** Whether the message may be compressed (permessage-deflate / http compression). */
  compress?: boolean;
}

/**
 * A message serialised once for many recipients: the Engine.IO packet's text
 * or bytes, plus (computed on first use) the complete WebSocket frame, so a
 * broadcast frames its bytes once and writes the same buffers to every socket.
 */
export interface PreparedMessage {
  readonly data: string | Buffer;
}
