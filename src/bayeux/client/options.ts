/**
 * The client's options and their defaults. A client is built from a URL, or
 * from the parts its ancestor took (`host`, `port`, `ssl`, `path`).
 */
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.js";
import type { LoggerOptions } from "./logger.js";
import type { WebSocketConstructor } from "./transport.js";
import {
  type BayeuxMessage,
  type Clock,
  CONNECTION_TYPES,
  type ConnectionType,
  systemClock,
} from "./types.js";

export interface BayeuxClientOptions extends LoggerOptions {
  /** Full endpoint URL, e.g. `http://127.0.0.1:8000/bayeux`. Takes precedence over host/port/ssl/path. */
  url?: string;
  /** Server host name. */
  host?: string;
  /** Server port. Default 80, or 443 with `ssl`. */
  port?: number;
  /** Use `https:`/`wss:`. Default false. */
  ssl?: boolean;
  /** Endpoint path. Default `/bayeux`. */
  path?: string;
  /** Allowed connection types in order of preference. Default websocket, long-polling, callback-polling. */
  transports?: readonly ConnectionType[];
  /**
   * In a browser, allow callback-polling (JSONP) when the endpoint is on
   * another origin, for servers without CORS. Default false.
   */
  crossDomain?: boolean;
  /** Send cookies with cross-origin long-polling requests. Default false. */
  withCredentials?: boolean;
  /**
   * Receives every failed message (an unsuccessful reply, a publish refused
   * by a full offline queue) and every delivery no subscription handles,
   * with the error describing it.
   */
  errorCallback?: (message: BayeuxMessage, error: Error) => void;
  /** Reconnect delays. */
  backoff?: BackoffOptions;
  /**
   * Time allowed for the network on top of what the server's advice says,
   * ms: a request times out after `advice.timeout + maxNetworkDelay`
   * (connect) or `maxNetworkDelay` (others). Default 10000.
   */
  maxNetworkDelay?: number;
  /** Most publishes kept while offline. Default 1000. */
  offlineQueueLimit?: number;
  /**
   * Most messages sent in one batch (one HTTP request or websocket frame);
   * more are split. Servers cap batches (Switchboard at 100 by default).
   * Default 100.
   */
  maxBatchLength?: number;
  /**
   * Deepest nesting of arrays and objects in a message received, the message
   * object counting as one level; deeper ones are dropped and reported as
   * `error` (`ERR_BAYEUX_TOO_DEEP`). Default 64, as on the server.
   */
  maxPayloadDepth?: number;
  /** Offer the acknowledgement extension. Default true. */
  ackExtension?: boolean;
  /** Delivery ids remembered per batch generation for duplicate suppression. Default 10000. */
  duplicateWindow?: number;
  /** Time source, injectable for tests. */
  clock?: Clock;
  /** Random source in [0, 1) for backoff jitter, injectable for tests. */
  random?: () => number;
  /** `fetch` implementation. Default: the global one. */
  fetch?: typeof fetch;
  /** `WebSocket` constructor. Default: the global one, else the `ws` package in Node. */
  WebSocket?: WebSocketConstructor;
}

export interface ResolvedClientOptions {
  url: string;
  transports: readonly ConnectionType[];
  crossDomain: boolean;
  withCredentials: boolean;
  errorCallback: ((message: BayeuxMessage, error: Error) => void) | undefined;
  backoff: Required<BackoffOptions>;
  maxNetworkDelay: number;
  offlineQueueLimit: number;
  maxBatchLength: number;
  maxPayloadDepth: number;
  ackExtension: boolean;
  duplicateWindow: number;
  clock: Clock;
  random: () => number;
  fetch: typeof fetch | undefined;
  WebSocket: WebSocketConstructor | undefined;
  logger: LoggerOptions;
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new RangeError(`option ${name} must be a number >= ${min}`);
  }
  return value;
}

/**
 * The endpoint URL from the options.
 *
 * @example
 * endpointUrl({ host: "example.com", ssl: true }); // "https://example.com/bayeux"
 * endpointUrl({ host: "127.0.0.1", port: 8000, path: "/cometd" }); // "http://127.0.0.1:8000/cometd"
 */
export function endpointUrl(options: BayeuxClientOptions): string {
  if (options.url) {
    const parsed = new URL(
      options.url,
      (globalThis as { location?: { href: string } }).location?.href,
    );
    if (parsed.protocol === "ws:") parsed.protocol = "http:";
    else if (parsed.protocol === "wss:") parsed.protocol = "https:";
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`unsupported URL scheme ${parsed.protocol}`);
    }
    return parsed.href;
  }
  if (!options.host) throw new TypeError("a url or a host is required");
  const ssl = options.ssl === true;
  const port = options.port ?? (ssl ? 443 : 80);
  const defaultPort = ssl ? 443 : 80;
  let path = options.path ?? "/bayeux";
  if (!path.startsWith("/")) path = `/${path}`;
  const host =
    options.host.includes(":") && !options.host.startsWith("[")
      ? `[${options.host}]`
      : options.host;
  return `${ssl ? "https" : "http"}://${host}${port === defaultPort ? "" : `:${port}`}${path}`;
}

/** Applies defaults and checks values; throws RangeError or TypeError on a bad option. */
export function resolveOptions(options: BayeuxClientOptions): ResolvedClientOptions {
  const transports = options.transports ?? CONNECTION_TYPES;
  for (const type of transports) {
    if (!CONNECTION_TYPES.includes(type)) throw new RangeError(`unknown connection type ${type}`);
  }
  if (transports.length === 0) throw new RangeError("option transports must not be empty");
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  return {
    url: endpointUrl(options),
    transports,
    crossDomain: options.crossDomain === true,
    withCredentials: options.withCredentials === true,
    errorCallback: options.errorCallback,
    backoff,
    maxNetworkDelay: count("maxNetworkDelay", options.maxNetworkDelay, 10_000, 1),
    offlineQueueLimit: count("offlineQueueLimit", options.offlineQueueLimit, 1000, 0),
    maxBatchLength: count("maxBatchLength", options.maxBatchLength, 100, 1),
    maxPayloadDepth: count("maxPayloadDepth", options.maxPayloadDepth, 64, 1),
    ackExtension: options.ackExtension !== false,
    duplicateWindow: count("duplicateWindow", options.duplicateWindow, 10_000, 1),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    fetch: options.fetch,
    WebSocket: options.WebSocket,
    logger: {
      debug: options.debug,
      logFile: options.logFile,
      logStdout: options.logStdout,
      logger: options.logger,
    },
  };
}
