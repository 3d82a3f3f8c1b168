/**
 * The standalone server's logger, with no dependency: pino's JSON lines
 * (`{"level":30,"time":1733356800000,"pid":4242,"hostname":"web-1","msg":"..."}`,
 * numeric levels trace 10 … fatal 60, an Error serialised as
 * `{type,message,stack,code}`), or, for people at a terminal, pretty lines
 * `12:00:00.000 INFO  message key=value`, coloured on a TTY. It has
 * `isLevelEnabled` and `child`, so Switchboard's components use it as they
 * would use pino.
 *
 * @example
 * const logger = createJsonLogger({ level: "info" });
 * logger.info({ url: "http://localhost:3000/" }, "listening");
 * // {"level":30,"time":…,"pid":…,"hostname":…,"url":"http://localhost:3000/","msg":"listening"}
 */
import { hostname } from "node:os";
import { formatFields, LEVELS, type LevelName, type Logger } from "../shared/logger.js";

/** A level name, or `silent` for nothing at all. */
export type LogLevel = LevelName | "silent";
export type LogFormat = "json" | "pretty";

export const LOG_LEVELS: readonly LogLevel[] = [...(Object.keys(LEVELS) as LevelName[]), "silent"];
export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

export interface JsonLoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** `json` (default) or `pretty`. */
  format?: LogFormat;
  /** Where each line goes (without its newline added). Default: standard output. */
  write?: (line: string) => void;
  /** Colours in the pretty format. Default: when standard output is a TTY. */
  color?: boolean;
  /** Fields every record carries (`child()` adds to them). */
  bindings?: Record<string, unknown>;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** A {@link Logger} with every level, `isLevelEnabled`, `child` and its level. */
export interface JsonLogger extends Required<Logger> {
  readonly level: LogLevel;
  child(bindings: Record<string, unknown>): JsonLogger;
}

interface Shared {
  threshold: number;
  level: LogLevel;
  pretty: boolean;
  color: boolean;
  write: (line: string) => void;
  now: () => number;
  /** `"pid":…,"hostname":…` (JSON) written into every line once. */
  head: string;
}

const COLORS: Record<LevelName, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[35m",
};
const RESET = "\x1b[0m";

/** Record fields shown on their own rather than as `key=value`. */
const PRETTY_SKIP = new Set(["err"]);

/**
 * An Error as pino's serializer writes it: type, message, stack, and `code`
 * when it has one (Switchboard's errors all do).
 */
export function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? err.name,
    message: err.message,
    stack: err.stack,
  };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  return out;
}

/** JSON of a record: Errors serialised, BigInts as strings, cycles cut. */
function stringify(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Error) return serializeError(value);
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) return "[Circular]";
      seen.add(value);
    }
    return value;
  });
}

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

class Writer implements JsonLogger {
  readonly #shared: Shared;
  readonly #bindings: Record<string, unknown>;
  /** The bindings as JSON members (`,"component":"engine"`), made once. */
  readonly #boundJson: string;

  constructor(shared: Shared, bindings: Record<string, unknown>) {
    this.#shared = shared;
    this.#bindings = bindings;
    const json = stringify(bindings);
    this.#boundJson = json === "{}" ? "" : `,${json.slice(1, -1)}`;
  }

  get level(): LogLevel {
    return this.#shared.level;
  }

  isLevelEnabled(level: string): boolean {
    const value = LEVELS[level as LevelName];
    return value !== undefined && value >= this.#shared.threshold;
  }

  child(bindings: Record<string, unknown>): JsonLogger {
    return new Writer(this.#shared, { ...this.#bindings, ...bindings });
  }

  trace(obj: object | string, msg?: string): void {
    this.#log("trace", obj, msg);
  }

  debug(obj: object | string, msg?: string): void {
    this.#log("debug", obj, msg);
  }

  info(obj: object | string, msg?: string): void {
    this.#log("info", obj, msg);
  }

  warn(obj: object | string, msg?: string): void {
    this.#log("warn", obj, msg);
  }

  error(obj: object | string, msg?: string): void {
    this.#log("error", obj, msg);
  }

  fatal(obj: object | string, msg?: string): void {
    this.#log("fatal", obj, msg);
  }

  #log(level: LevelName, obj: object | string, msg: string | undefined): void {
    const shared = this.#shared;
    const value = LEVELS[level];
    if (value < shared.threshold) return;
    let fields: Record<string, unknown> | null = null;
    let text = msg;
    if (typeof obj === "string") text = obj;
    else if (obj instanceof Error) {
      fields = { err: obj };
      text ??= obj.message;
    } else if (obj !== null && typeof obj === "object") fields = obj as Record<string, unknown>;
    const time = shared.now();
    if (shared.pretty) {
      shared.write(this.#pretty(level, time, fields, text));
      return;
    }
    const record: Record<string, unknown> = fields === null ? {} : { ...fields };
    if (text !== undefined) record.msg = text;
    const body = stringify(record);
    const members = body.length > 2 ? `,${body.slice(1, -1)}` : "";
    shared.write(`{"level":${value},"time":${time},${shared.head}${this.#boundJson}${members}}`);
  }

  #pretty(
    level: LevelName,
    time: number,
    fields: Record<string, unknown> | null,
    text: string | undefined,
  ): string {
    const color = this.#shared.color;
    const label = level.toUpperCase().padEnd(5);
    let line = `${clock(time)} ${color ? `${COLORS[level]}${label}${RESET}` : label} ${text ?? ""}`;
    line += formatFields(this.#bindings);
    if (fields !== null) line += formatFields(fields, PRETTY_SKIP);
    const err = fields?.err;
    if (err instanceof Error) {
      const code = (err as { code?: unknown }).code;
      line += ` err=${JSON.stringify(code === undefined ? err.message : `${String(code)}: ${err.message}`)}`;
      if (LEVELS[level] >= LEVELS.error && err.stack) {
        line += `\n${err.stack.replace(/^/gm, "    ")}`;
      }
    } else if (err !== undefined) line += formatFields({ err });
    return line;
  }
}

/**
 * Creates the logger. `silent` writes nothing; an unknown level is a TypeError.
 *
 * @example
 * const logger = createJsonLogger({ level: "debug", format: "pretty" });
 * logger.child({ component: "engine" }).debug({ sid }, "handshake");
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): JsonLogger {
  const level = options.level ?? "info";
  if (!LOG_LEVELS.includes(level)) throw new TypeError(`unknown log level ${String(level)}`);
  const format = options.format ?? "json";
  if (!LOG_FORMATS.includes(format)) throw new TypeError(`unknown log format ${String(format)}`);
  const shared: Shared = {
    threshold: level === "silent" ? Number.POSITIVE_INFINITY : LEVELS[level],
    level,
    pretty: format === "pretty",
    color: options.color ?? (format === "pretty" && process.stdout.isTTY === true),
    write: options.write ?? ((line) => process.stdout.write(`${line}\n`)),
    now: options.now ?? Date.now,
    head: `"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`,
  };
  return new Writer(shared, options.bindings ?? {});
}
