/** A `Logger` that keeps what it is told, as `level: message` lines, for tests that check logs. */
import { format } from "node:util";
import type { Logger } from "../../src/shared/logger.js";

export function recordingLogger(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const keep =
    (level: string) =>
    (message: string, ...args: unknown[]) =>
      lines.push(`${level}: ${format(message, ...args)}`);
  return {
    lines,
    logger: { debug() {}, info: keep("info"), warn: keep("warn"), error: keep("error") },
  };
}
