/**
 * Errors of the standalone server's command line. A usage error is the user's
 * to fix (exit code 2, with the message and a pointer to `--help`); a start
 * error (port in use, unreadable certificate) ends the process with code 1.
 */
import { SwitchboardError } from "../shared/errors.js";

/** Exit codes of `switchboard`: done, failed (could not start, forced exit), bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A bad option, option value or environment variable. */
export class CliUsageError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_CLI_USAGE", message, options);
  }
}

/** The server could not start (address in use, certificate unreadable). */
export class CliStartError extends SwitchboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_CLI_START", message, options);
  }
}
