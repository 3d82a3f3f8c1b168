/**
 * The logger seam: what a component reports that an operator should see
 * (a backend lost, a reconnect, a dropped foreign message). Any object with
 * these four methods fits, so pino, bunyan or `console` plug in as they are.
 * The default prints warnings and errors to stderr and is silent otherwise.
 *
 * @example
 * const logger: Logger = { debug() {}, info: console.info, warn: console.warn, error: console.error };
 * new RedisBroker({ url, logger });
 */
import { format } from "node:util";

export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

function print(level: string, message: string, args: unknown[]): void {
  process.stderr.write(`switchboard: ${level}: ${format(message, ...args)}\n`);
}

/** Prints warn and error lines to stderr with a "switchboard:" prefix. */
export const defaultLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...args) => print("warn", message, args),
  error: (message, ...args) => print("error", message, args),
};

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
