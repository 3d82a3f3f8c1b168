/**
 * Command-line and environment options of `switchboard`. A flag wins over its
 * environment variable, which wins over the default. Parsing is pure (argv and
 * env in, a command out) so it is tested without spawning a process.
 */
import { parseArgs } from "node:util";
import { isUnderPrefix, normalizePrefix, prefixesOverlap } from "../mount/path.js";
import { CliUsageError } from "./errors.js";

/** What the server needs to start. */
export interface ServeOptions {
  port: number;
  host: string;
  /** Socket.IO path, normalized (no trailing slash). */
  path: string;
  /** Bayeux path, normalized, or false when Bayeux is turned off (`--no-bayeux`). */
  bayeuxPath: string | false;
  /** Allowed cross-origin origins: `"*"`, a list, or undefined for same-origin only. */
  corsOrigin?: "*" | string[];
  /** Certificate and key files; both or neither. */
  tls?: { certFile: string; keyFile: string };
  /** Milliseconds a graceful shutdown may take before connections are cut. */
  shutdownTimeout: number;
}

export type CliCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; options: ServeOptions };

export const DEFAULTS = {
  port: 3000,
  host: "0.0.0.0",
  path: "/socket.io",
  bayeuxPath: "/bayeux",
  shutdownTimeout: 10_000,
} as const;

/**
 * Paths the server answers itself; neither protocol may be mounted over them.
 * `/bayeux-client.js` is the Bayeux browser bundle.
 */
export const RESERVED_PATHS = ["/config.json", "/bayeux-client.js"] as const;

export const USAGE = `Usage: switchboard [options]

Runs a standalone Switchboard server: Socket.IO and Bayeux (Faye / CometD
clients) on one port, the demo chat at / and the Bayeux browser client at
/bayeux-client.js. Demo chat rooms are bridged to the Bayeux channels /chat/<room>.

Options:
  -p, --port <port>            port to listen on, 0 for any free port
                               (default 3000; env SWITCHBOARD_PORT or PORT)
      --host <host>            address to bind (default 0.0.0.0; env SWITCHBOARD_HOST)
      --path <path>            Socket.IO path (default /socket.io; env SWITCHBOARD_PATH)
      --bayeux-path <path>     Bayeux path (default /bayeux; env SWITCHBOARD_BAYEUX_PATH)
      --no-bayeux              serve no Bayeux endpoint
      --cors-origin <origin>   allow cross-origin clients from <origin>; repeat the flag
                               or give a comma list; * allows any origin
                               (env SWITCHBOARD_CORS_ORIGIN, comma list)
      --tls-cert <file>        PEM certificate: serve HTTPS (env SWITCHBOARD_TLS_CERT)
      --tls-key <file>         PEM private key for --tls-cert (env SWITCHBOARD_TLS_KEY)
      --shutdown-timeout <ms>  longest graceful shutdown before connections are cut
                               (default 10000; env SWITCHBOARD_SHUTDOWN_TIMEOUT)
  -h, --help                   print this help and exit
  -v, --version                print the version and exit

SIGTERM or SIGINT shuts down gracefully (clients see "server shutting down");
a second signal exits at once. Exit codes: 0 done, 1 could not start, 2 bad usage.
`;

/**
 * Parses `switchboard`'s arguments and environment.
 * Throws {@link CliUsageError} with a message meant for the user.
 *
 * @example
 * parseCli(["--port", "0", "--cors-origin", "*"], {});
 * // { kind: "serve", options: { port: 0, host: "0.0.0.0", path: "/socket.io", corsOrigin: "*", ... } }
 */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliCommand {
  let values: ReturnType<typeof parseFlags>;
  try {
    values = parseFlags(argv);
  } catch (err) {
    throw new CliUsageError((err as Error).message, { cause: err });
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const fromEnv = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };

  const portText = values.port ?? fromEnv("SWITCHBOARD_PORT") ?? fromEnv("PORT");
  const port = portText === undefined ? DEFAULTS.port : parsePort(portText);

  const host = values.host ?? fromEnv("SWITCHBOARD_HOST") ?? DEFAULTS.host;
  if (host.trim() === "" || /\s/.test(host))
    throw new CliUsageError(`invalid --host ${JSON.stringify(host)}`);

  const path = parsePath(values.path ?? fromEnv("SWITCHBOARD_PATH") ?? DEFAULTS.path);

  if (values["no-bayeux"] && values["bayeux-path"] !== undefined) {
    throw new CliUsageError("--no-bayeux and --bayeux-path exclude each other");
  }
  const bayeuxPath = values["no-bayeux"]
    ? false
    : parseBayeuxPath(
        values["bayeux-path"] ?? fromEnv("SWITCHBOARD_BAYEUX_PATH") ?? DEFAULTS.bayeuxPath,
        path,
      );

  const corsValues = values["cors-origin"] ?? splitList(fromEnv("SWITCHBOARD_CORS_ORIGIN"));
  const corsOrigin = corsValues ? parseOrigins(corsValues) : undefined;

  const certFile = values["tls-cert"] ?? fromEnv("SWITCHBOARD_TLS_CERT");
  const keyFile = values["tls-key"] ?? fromEnv("SWITCHBOARD_TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new CliUsageError("--tls-cert and --tls-key must be given together");
  }

  const timeoutText = values["shutdown-timeout"] ?? fromEnv("SWITCHBOARD_SHUTDOWN_TIMEOUT");
  const shutdownTimeout =
    timeoutText === undefined ? DEFAULTS.shutdownTimeout : parseMillis(timeoutText);

  const options: ServeOptions = { port, host, path, bayeuxPath, shutdownTimeout };
  if (corsOrigin) options.corsOrigin = corsOrigin;
  if (certFile !== undefined && keyFile !== undefined) options.tls = { certFile, keyFile };
  return { kind: "serve", options };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: "string", short: "p" },
      host: { type: "string" },
      path: { type: "string" },
      "bayeux-path": { type: "string" },
      // Spelled out: parseArgs' allowNegative needs Node 22.
      "no-bayeux": { type: "boolean" },
      "cors-origin": { type: "string", multiple: true },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "shutdown-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  }).values;
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new CliUsageError(`invalid port ${JSON.stringify(text)}: expected an integer 0-65535`);
  }
  return port;
}

function parseMillis(text: string): number {
  const ms = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new CliUsageError(
      `invalid --shutdown-timeout ${JSON.stringify(text)}: expected milliseconds`,
    );
  }
  return ms;
}

function parsePath(text: string): string {
  let path: string;
  try {
    path = normalizePrefix(text);
  } catch {
    throw new CliUsageError(
      `invalid --path ${JSON.stringify(text)}: expected an absolute path such as /socket.io`,
    );
  }
  // The demo page owns "/" and its files; Socket.IO needs a prefix of its own.
  if (path === "/") throw new CliUsageError("--path may not be / (the demo page is served there)");
  return path;
}

function parseBayeuxPath(text: string, socketIoPath: string): string {
  let path: string;
  try {
    path = normalizePrefix(text);
  } catch {
    throw new CliUsageError(
      `invalid --bayeux-path ${JSON.stringify(text)}: expected an absolute path such as /bayeux`,
    );
  }
  if (path === "/") {
    throw new CliUsageError("--bayeux-path may not be / (the demo page is served there)");
  }
  if (prefixesOverlap(path, socketIoPath)) {
    throw new CliUsageError(
      `--bayeux-path ${path} overlaps the Socket.IO path ${socketIoPath}; give each its own prefix`,
    );
  }
  const reserved = RESERVED_PATHS.find((p) => isUnderPrefix(p, path));
  if (reserved) throw new CliUsageError(`--bayeux-path ${path} would hide ${reserved}`);
  return path;
}

function splitList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : [text];
}

/** `*`, or origins as browsers send them (scheme://host[:port]), from flags or comma lists. */
function parseOrigins(values: string[]): "*" | string[] {
  const items = values.flatMap((value) => value.split(",")).map((item) => item.trim());
  if (items.some((item) => item === "")) {
    throw new CliUsageError("--cors-origin: empty origin in list");
  }
  if (items.includes("*")) return "*";
  const origins: string[] = [];
  for (const item of items) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.pathname !== "/" ||
      url.search !== "" ||
      url.hash !== "" ||
      url.username !== "" ||
      url.password !== ""
    ) {
      throw new CliUsageError(
        `invalid --cors-origin ${JSON.stringify(item)}: expected * or an origin such as https://example.com`,
      );
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return origins;
}
