/**
 * The client's logger, following the options of the client it descends
 * from: `debug` (0/1) turns it on, `logStdout` (default on when debugging)
 * prints lines with `console.log`, `logFile` (Node only) appends them to a
 * file. It imports no Node module up front so the browser bundle stays
 * free of them; `node:fs` is loaded on the first line written to a file.
 */

export interface LoggerOptions {
  debug?: 0 | 1 | boolean;
  logFile?: string;
  logStdout?: boolean;
  /** Receives every line as well; for embedders and tests. */
  logger?: (line: string) => void;
}

/** A log call; a disabled logger is a shared no-op. */
export type LogFn = ((text: string, ...values: unknown[]) => void) & { enabled: boolean };

const noop = Object.assign(() => {}, { enabled: false }) as LogFn;

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

interface FileSink {
  write(line: string): void;
}

// Lines written before node:fs has loaded wait in `pending`, in order.
function fileSink(path: string): FileSink {
  let pending: string[] | null = [];
  let append: ((line: string) => void) | null = null;
  const specifier = "node:fs";
  import(/* @vite-ignore */ specifier).then(
    (fs: typeof import("node:fs")) => {
      append = (line) => {
        try {
          fs.appendFileSync(path, `${line}\n`);
        } catch {
          // A log file that cannot be written must not break the client.
        }
      };
      for (const line of pending ?? []) append(line);
      pending = null;
    },
    () => {
      pending = null;
    },
  );
  return {
    write(line) {
      if (append) append(line);
      else pending?.push(line);
    },
  };
}

/**
 * Builds the logger for one client.
 *
 * @example
 * const log = createLogger({ debug: 1, logFile: "/tmp/bayeux.log", logStdout: false });
 * log("handshake ok, clientId %s", id);
 */
export function createLogger(options: LoggerOptions, name = "bayeux-client"): LogFn {
  const debug = options.debug === true || options.debug === 1;
  const stdout = options.logStdout ?? debug;
  const file =
    options.logFile && typeof document === "undefined" ? fileSink(options.logFile) : null;
  const extra = options.logger;
  if (!debug && !extra) return noop;
  return Object.assign(
    (text: string, ...values: unknown[]) => {
      let i = 0;
      const body = text.replace(/%[sdoj]/g, () => (i < values.length ? show(values[i++]) : ""));
      const rest = values.slice(i).map(show);
      const line = `${new Date().toISOString()} ${name} ${[body, ...rest].join(" ")}`;
      if (extra) extra(line);
      if (!debug) return;
      if (stdout) console.log(line);
      file?.write(line);
    },
    { enabled: true },
  ) as LogFn;
}
