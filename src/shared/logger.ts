/**
 * The logger seam: what a component reports that an operator should see (a
 * backend lost, a node gone, a connection refused). Its shape is pino's:
 * `logger.warn({ sid, err }, "message")`, or `logger.warn("message")`, so
 * pino, its children and Switchboard's own JSON logger plug in as they are.
 * Switchboard always calls `(obj, msg)` with a small object of context
 * (`sid`, `nsp`, `clientId`, `node`, `code`, `err` as an Error).
 *
 * A printf-style logger (`console`, or `(message, ...args)` functions) still
 * fits: it receives the object first and prints it before the message, e.g.
 * `console.warn({ node: "b" }, "node left")` prints `{ node: 'b' } node left`.
 *
 * The default prints warnings and errors to stderr as one line each and is
 * silent otherwise.
 *
 * @example
 * import pino from "pino";
 * new Server({ logger: pino() });
 * new RedisBroker({ url, logger: pino().child({ component: "broker" }) });
 */
import { format } from "node:util";

/**
 * Any pino-compatible logger. `child` and `isLevelEnabled` are used when
 * present: components log through `logger.child({ component })`, and a
 * per-connection debug record is only built when `isLevelEnabled("debug")`
 * says so (without it, debug records are always passed on).
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  trace?(obj: object | string, msg?: string): void;
  fatal?(obj: object | string, msg?: string): void;
  child?(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}

/** The levels a {@link Logger} has, lowest first, with pino's numbers. */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LevelName = keyof typeof LEVELS;

/**
 * `logger.child(bindings)` when the logger has children, else the logger
 * itself: every component of one server logs through one given logger.
 *
 * @example
 * const log = childLogger(options.logger ?? defaultLogger, { component: "engine" });
 */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  return typeof logger.child === "function" ? logger.child(bindings) : logger;
}

/**
 * Whether `logger` wants debug records: guards every per-connection record,
 * so a disabled level costs one call and builds nothing.
 */
export function debugEnabled(logger: Logger): boolean {
  return typeof logger.isLevelEnabled !== "function" || logger.isLevelEnabled("debug");
}

/**
 * ` key=value` pairs of a record's object, for one readable line: strings
 * bare unless they hold spaces or quotes, an `err` as its message (and code).
 */
export function formatFields(obj: object, skip?: ReadonlySet<string>): string {
  let out = "";
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || skip?.has(key)) continue;
    out += ` ${key}=${formatValue(value)}`;
  }
  return out;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return quote(code === undefined ? value.message : `${String(code)}: ${value.message}`);
  }
  if (typeof value === "string") return quote(value);
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return format("%o", value);
    }
  }
  return String(value);
}

function quote(text: string): string {
  return text === "" || /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/**
 * A logger writing warn, error and fatal records as one readable line each
 * (`switchboard: warn: message key=value`) through `write`; debug and info
 * are dropped.
 *
 * @example
 * const logger = lineLogger((line) => lines.push(line));
 */
export function lineLogger(write: (line: string) => void): Logger {
  const print =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      const text = typeof obj === "string" ? obj : `${msg ?? ""}${formatFields(obj)}`.trim();
      write(`switchboard: ${level}: ${text}`);
    };
  return {
    debug() {},
    info() {},
    warn: print("warn"),
    error: print("error"),
    fatal: print("fatal"),
    isLevelEnabled: (level) => level === "warn" || level === "error" || level === "fatal",
  };
}

/** Prints warn and error records to stderr, one line each with a "switchboard:" prefix. */
export const defaultLogger: Logger = lineLogger((line) => process.stderr.write(`${line}\n`));

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  isLevelEnabled: () => false,
};
