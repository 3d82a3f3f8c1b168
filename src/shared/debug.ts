/**
 * Debug logging, off unless asked for. Enabled by `SWITCHBOARD_DEBUG` (any
 * non-empty value other than `0`/`false`, or a comma list of namespaces such as
 * `engine,socketio`) or by the usual `DEBUG=switchboard:*` patterns.
 *
 * A disabled logger is a no-op function, so call sites cost one call.
 *
 * @example
 * const debug = createDebug("engine");
 * debug("handshake %s", sid);
 */
import { format } from "node:util";

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

let sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

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
  return Object.assign(
    (fmt: string, ...args: unknown[]) =>
      sink(`${new Date().toISOString()} ${ns} ${format(fmt, ...args)}`),
    { enabled: true },
  ) as DebugFn;
}

/** Re-reads the environment and redirects output; for tests and embedders. */
export function configureDebug(env: NodeJS.ProcessEnv, write?: (line: string) => void): void {
  loadPatterns(env);
  if (write) sink = write;
}
