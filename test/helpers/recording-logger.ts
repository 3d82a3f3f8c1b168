/**
 * A `Logger` that keeps what it is told, for tests that check logs: each
 * record (level, object, message) and a readable `level: message key=value`
 * line of it. Every level is enabled.
 */
import { formatFields, type Logger } from "../../src/shared/logger.js";

export interface LogRecord {
  level: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  obj: Record<string, unknown>;
  msg: string;
  /** Bindings of the child logger the record went through (`{ component }`). */
  bindings: Record<string, unknown>;
}

export function recordingLogger(): { lines: string[]; records: LogRecord[]; logger: Logger } {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const keep =
      (level: LogRecord["level"]) =>
      (obj: object | string, msg?: string): void => {
        const fields = typeof obj === "string" ? {} : (obj as Record<string, unknown>);
        const text = typeof obj === "string" ? obj : (msg ?? "");
        records.push({ level, obj: fields, msg: text, bindings });
        lines.push(`${level}: ${text}${formatFields(fields)}`);
      };
    return {
      trace: keep("trace"),
      debug: keep("debug"),
      info: keep("info"),
      warn: keep("warn"),
      error: keep("error"),
      fatal: keep("fatal"),
      isLevelEnabled: () => true,
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { lines, records, logger: make({}) };
}
