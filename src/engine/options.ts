/**
 * Engine options with their defaults (engine.io 6's, plus `maxConnections`).
 * Every limit is an option; the values here are the safe defaults.
 */
import type { CookieOptions, CorsOptions, EngineOptions, TransportName } from "./types.js";

export interface ResolvedOptions {
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  fastPolling: boolean;
  transports: TransportName[];
  allowUpgrades: boolean;
  allowRequest: EngineOptions["allowRequest"];
  cookie: CookieOptions | false;
  cors: CorsOptions | null;
  perMessageDeflate: false | { threshold?: number };
  httpCompression: false | { threshold: number };
  allowEIO3: boolean;
  maxConnections: number;
  maxBufferedBytes: number;
  initialPacket: unknown;
}

export const DEFAULTS = {
  pingInterval: 25000,
  pingTimeout: 20000,
  upgradeTimeout: 10000,
  maxHttpBufferSize: 1e6,
  maxConnections: 100000,
  maxBufferedBytes: 16 * 1024 * 1024,
  httpCompressionThreshold: 1024,
  perMessageDeflateThreshold: 1024,
  destroyUpgradeTimeout: 1000,
  path: "/engine.io",
} as const;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`engine option ${name} must be a non-negative number`);
  }
  return value;
}

/** Like {@link positive}, but `Infinity` (no limit) is allowed too. */
function limit(value: number | undefined, fallback: number, name: string): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return positive(value, fallback, name);
}

/** Applies defaults and validates the option types. */
export function resolveOptions(opts: EngineOptions = {}): ResolvedOptions {
  const transports = opts.transports ?? ["polling", "websocket"];
  for (const name of transports) {
    if (name !== "polling" && name !== "websocket") {
      throw new TypeError(`unknown transport ${String(name)}`);
    }
  }
  let cookie: CookieOptions | false = false;
  if (opts.cookie) {
    cookie = {
      name: "io",
      path: "/",
      httpOnly: opts.cookie === true || opts.cookie.path !== false,
      sameSite: "lax",
      ...(opts.cookie === true ? {} : opts.cookie),
    };
  }
  let httpCompression: ResolvedOptions["httpCompression"] = false;
  if (opts.httpCompression !== false) {
    const given = typeof opts.httpCompression === "object" ? opts.httpCompression : {};
    httpCompression = { threshold: given.threshold ?? DEFAULTS.httpCompressionThreshold };
  }
  let perMessageDeflate: ResolvedOptions["perMessageDeflate"] = false;
  if (opts.perMessageDeflate) {
    perMessageDeflate = {
      threshold: DEFAULTS.perMessageDeflateThreshold,
      ...(opts.perMessageDeflate === true ? {} : opts.perMessageDeflate),
    };
  }
  return {
    pingInterval: positive(opts.pingInterval, DEFAULTS.pingInterval, "pingInterval"),
    pingTimeout: positive(opts.pingTimeout, DEFAULTS.pingTimeout, "pingTimeout"),
    upgradeTimeout: positive(opts.upgradeTimeout, DEFAULTS.upgradeTimeout, "upgradeTimeout"),
    maxHttpBufferSize: positive(
      opts.maxHttpBufferSize,
      DEFAULTS.maxHttpBufferSize,
      "maxHttpBufferSize",
    ),
    fastPolling: opts.fastPolling !== false,
    transports: [...transports],
    allowUpgrades: opts.allowUpgrades !== false,
    allowRequest: opts.allowRequest,
    cookie,
    cors: opts.cors ?? null,
    perMessageDeflate,
    httpCompression,
    allowEIO3: opts.allowEIO3 === true,
    maxConnections: positive(opts.maxConnections, DEFAULTS.maxConnections, "maxConnections"),
    maxBufferedBytes: limit(opts.maxBufferedBytes, DEFAULTS.maxBufferedBytes, "maxBufferedBytes"),
    initialPacket: opts.initialPacket,
  };
}
