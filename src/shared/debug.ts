/**
 * Debug logging, off unless asked for. Enabled by `SWITCHBOARD_DEBUG` (any
 * non-empty value other than `0`/`false`, or a comma list of namespaces such as
 * `engine,socketio`) or by the usual `DEBUG=switchboard:*` patterns.
 *
 * A disabled logger is a no-op function, so call sites cost one call. Lines go
 * to stderr, or, after {@link routeDebugTo}, to a logger as
 * `logger.debug({ ns }, line)` (the CLI routes them into its JSON log).
 *
 * @example
 * const debug = createDebug("engine");
 * debug("handshake %s", sid);
 */
import { format } from "node:util";
import { defaultLogger, formatFields, type Logger } from "./logger.js";

export type DebugFn = ((fmt: string, ...args: unknown[]) => void) & { enabled: boolean };

const patterns: RegExp[] = [];
const exclusions: RegExp[] = [];

function toRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*?");
  return new RegExp(`^${escaped}$`);
}

function loadPatterns(env: NodeJS.ProcessEnv): void {
  patterns.length = 0;
  exclusions.length = 0;
  const sb = env.SWITCHBOARD_DEBUG;
  if (sb && sb !== "0" && sb !== "false") {
    if (sb === "1" || sb === "true" || sb === "*") patterns.push(toRegExp("switchboard:*"));
    else for (const ns of sb.split(",")) patterns.push(toRegExp(`switchboard:${ns.trim()}*`));
  }
  for (const item of (env.DEBUG ?? "").split(/[\s,]+/)) {
    if (!item) continue;
    if (item.startsWith("-")) exclusions.push(toRegExp(item.slice(1)));
    else patterns.push(toRegExp(item));
  }
}

loadPatterns(process.env);

type Sink = (ns: string, message: string) => void;

/** A sink writing `<ISO time> <namespace> <message>` lines to `write`. */
function lineSink(write: (line: string) => void): Sink {
  return (ns, message) => write(`${new Date().toISOString()} ${ns} ${message}`);
}

let sink: Sink = lineSink((line) => process.stderr.write(`${line}\n`));

/** Whether the namespace `switchboard:<name>` is enabled by the environment. */
export function isDebugEnabled(name: string): boolean {
  const ns = `switchboard:${name}`;
  if (exclusions.some((re) => re.test(ns))) return false;
  return patterns.some((re) => re.test(ns));
}

const noop = Object.assign(() => {}, { enabled: false }) as DebugFn;

/** A logger for `switchboard:<name>`; a shared no-op when that namespace is off. */
export function createDebug(name: string): DebugFn {
  if (!isDebugEnabled(name)) return noop;
  const ns = `switchboard:${name}`;
  return Object.assign((fmt: string, ...args: unknown[]) => sink(ns, format(fmt, ...args)), {
    enabled: true,
  }) as DebugFn;
}

/** Re-reads the environment and redirects output; for tests and embedders. */
export function configureDebug(env: NodeJS.ProcessEnv, write?: (line: string) => void): void {
  loadPatterns(env);
  if (write) sink = lineSink(write);
}

/**
 * Sends the lines of enabled namespaces to `logger` as debug records with
 * the namespace as `ns` (`{"level":20,"ns":"switchboard:engine","msg":...}`),
 * or back to stderr with null. Which namespaces are on is still up to
 * `SWITCHBOARD_DEBUG` / `DEBUG`; the logger's level must let debug through.
 *
 * @example
 * routeDebugTo(pino({ level: "debug" }));
 */
export function routeDebugTo(logger: Logger | null): void {
  sink =
    logger === null
      ? lineSink((line) => process.stderr.write(`${line}\n`))
      : (ns, message) => logger.debug({ ns }, message);
}

/**
 * The logger of a component given no `logger` option: {@link defaultLogger}
 * (warnings and errors to stderr), whose debug and info records also become
 * lines of the debug namespace `switchboard:<name>` when it is enabled, so
 * `SWITCHBOARD_DEBUG=engine` shows the engine's handshakes and closes.
 *
 * @example
 * const logger = options.logger ?? debugLogger("engine");
 */
export function debugLogger(name: string): Logger {
  const line = createDebug(name);
  if (!line.enabled) return defaultLogger;
  const write = (obj: object | string, msg?: string): void =>
    line("%s", typeof obj === "string" ? obj : `${msg ?? ""}${formatFields(obj)}`);
  return {
    debug: write,
    info: write,
    warn: defaultLogger.warn,
    error: defaultLogger.error,
    isLevelEnabled: () => true,
  };
}
