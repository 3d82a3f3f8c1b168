/**
 * Command-line and environment options of `switchboard`. A flag wins over its
 * environment variable, which wins over the default. Parsing is pure (argv and
 * env in, a command out) so it is tested without spawning a process.
 */
import { parseArgs } from "node:util";
import type { BridgeRoute } from "../bridge/index.js";
import { parseAdvertise } from "../cluster/forward.js";
import { isUnderPrefix, normalizePrefix, prefixesOverlap } from "../mount/path.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../ops/json-logger.js";
import { checkRoutes, parseBridgeSpec } from "./bridge-spec.js";
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
  /**
   * Certificate and key files; both or neither. `names` says where they were
   * given (`--tls-cert/--tls-key`, or the variables), for error messages.
   */
  tls?: { certFile: string; keyFile: string; names?: string };
  /** Milliseconds a graceful shutdown may take before connections are cut. */
  shutdownTimeout: number;
  /**
   * Milliseconds a graceful shutdown answers `/ready` 503 while still serving,
   * before it stops listening (`--drain-delay`): a balancer probing `/ready`
   * moves traffic away first. Default 0.
   */
  drainDelay?: number;
  /**
   * Join a cluster of nodes through Redis (`--redis-url`), optionally under a
   * given node id (`--node-id`); absent, the server runs alone.
   */
  cluster?: ClusterOptions;
  /** Bridge routes of `--bridge` flags, checked (docs/bridge.md). */
  bridgeRoutes?: BridgeRoute[];
  /** A JSON file of bridge routes (`--bridge-config`), read at start. */
  bridgeConfig?: string;
  /**
   * Connection state recovery for Socket.IO clients: on by default with
   * `--redis-url` (the log and sessions in Redis, so a client resumes on any
   * node), on one node with `--recovery`, off with `--no-recovery`.
   */
  recovery?: RecoveryOptions;
  /** Serve Prometheus metrics at `/metrics`; absent means on, false with `--no-metrics`. */
  metrics?: boolean;
  /**
   * The live dashboard at {@link DASHBOARD_PATH}: on unless false
   * (`--no-dashboard`); with a token (`--dashboard-token`) any peer holding
   * it may see it, without one (or when absent) only loopback peers.
   */
  dashboard?: false | { token?: string };
  /**
   * Lowest level logged (`--log-level`): default `info`, or `debug` when
   * `SWITCHBOARD_DEBUG` (or `DEBUG=switchboard:…`) asks for debug lines.
   */
  logLevel?: LogLevel;
  /** `json` lines (default) or `pretty` lines for people (`--log-format`). */
  logFormat?: LogFormat;
}

/** Where the standalone server serves its dashboard. */
export const DASHBOARD_PATH = "/dashboard";

/** `--recovery`, `--recovery-window`. */
export interface RecoveryOptions {
  /** Milliseconds a disconnected client may come back and get what it missed (`--recovery-window`). */
  window: number;
}

/** Default of {@link RecoveryOptions.window}: two minutes, socket.io's default. */
export const RECOVERY_WINDOW = 120_000;

/** How the server joins other nodes: one Redis broker shared by Socket.IO and Bayeux. */
export interface ClusterOptions {
  /** `redis://` or `rediss://` URL of the Redis the nodes share. */
  redisUrl: string;
  /** This node's id, unique in the cluster; absent, the broker makes one up. */
  nodeId?: string;
  /** The URL names one node of a Redis Cluster (`--redis-cluster`). */
  redisCluster?: boolean;
  /**
   * Key and channel prefix of the cluster on that Redis (no flag: for
   * programs and tests that run several clusters on one Redis); absent, the
   * broker's default.
   */
  prefix?: string;
  /**
   * Longest wait for the broker to connect and subscribe before the start
   * fails, ms. Default 10000 (`CLUSTER_READY_TIMEOUT`).
   */
  readyTimeout?: number;
  /**
   * No sticky sessions (`--forward-sessions`): sids are recorded in Redis
   * and a polling request or websocket upgrade for another node's session is
   * forwarded to that node.
   */
  forwardSessions?: boolean;
  /**
   * The `http://host:port` the other nodes reach this one at (`--advertise`,
   * implies `forwardSessions`); absent, derived from the listening address.
   */
  advertise?: string;
}

/** Default of {@link ClusterOptions.readyTimeout}: how long a start waits for Redis. */
export const CLUSTER_READY_TIMEOUT = 10_000;

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
export const RESERVED_PATHS = ["/config.json", "/bayeux-client.js", "/metrics"] as const;

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
      --drain-delay <ms>       at shutdown, answer /ready 503 this long while still
                               serving, then stop (default 0; set it above your
                               balancer's probe interval; env SWITCHBOARD_DRAIN_DELAY)
      --no-metrics             do not serve Prometheus metrics at /metrics (served
                               by default; env SWITCHBOARD_METRICS=0)
      --redis-url <url>        join a cluster: share rooms, channels and broadcasts
                               with the other nodes on this Redis
                               (redis://[user:password@]host[:port][/db] or rediss://;
                               env SWITCHBOARD_REDIS_URL, then REDIS_URL)
      --node-id <id>           this node's id in the cluster, unique among the nodes:
                               letters, digits, . _ - (at most 64; default: random;
                               env SWITCHBOARD_NODE_ID; needs --redis-url)
      --redis-cluster          the --redis-url is a node of a Redis Cluster
                               (env SWITCHBOARD_REDIS_CLUSTER=1; needs --redis-url)
      --bridge <route>         bridge a Socket.IO room and a Bayeux channel:
                               <namespace>:<room>:<event>=<channel>, > or < instead
                               of = for one way, * in the room for the channel's
                               wildcard part (e.g. /:*:message=/chat/*); repeatable
      --bridge-config <file>   a JSON file of bridge routes (docs/bridge.md)
      --forward-sessions       no sticky sessions: a Socket.IO request or upgrade
                               reaching a node that does not own its session is
                               forwarded to the owner (env SWITCHBOARD_FORWARD_SESSIONS=1;
                               needs --redis-url; not with --tls-cert)
      --advertise <url>        http://host:port the other nodes reach this one at
                               (default: from the listening address; implies
                               --forward-sessions; env SWITCHBOARD_ADVERTISE)
      --recovery               Socket.IO connection state recovery, and with
                               --redis-url the Bayeux channel log (on by default
                               with --redis-url: a client resumes on any node;
                               env SWITCHBOARD_RECOVERY=1)
      --no-recovery            turn it off (env SWITCHBOARD_RECOVERY=0)
      --no-dashboard           do not serve the live dashboard at /dashboard
      --dashboard-token <t>    a secret the dashboard asks for (open
                               /dashboard?token=<t> once); without it the dashboard
                               serves loopback peers only
                               (env SWITCHBOARD_DASHBOARD_TOKEN)
      --recovery-window <ms>   how long a disconnected client may come back and get
                               what it missed (default 120000; env
                               SWITCHBOARD_RECOVERY_WINDOW)
      --log-format <format>    json (default: one JSON object per line, pino's
                               shape) or pretty (readable lines, coloured on a
                               terminal); env SWITCHBOARD_LOG_FORMAT
      --log-level <level>      trace, debug, info, warn, error, fatal or silent
                               (default info, debug when SWITCHBOARD_DEBUG is set;
                               env SWITCHBOARD_LOG_LEVEL)
  -h, --help                   print this help and exit
  -v, --version                print the version and exit

Log records go to standard output. SWITCHBOARD_DEBUG=1 (or a list of areas,
e.g. engine,socketio) adds the areas' debug lines as debug records.

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

  // Each value remembers where it came from, so that an error names the flag
  // or the environment variable the user actually set.
  const pick = (
    flag: string,
    given: string | undefined,
    ...names: string[]
  ): Setting | undefined => {
    if (given !== undefined) return { value: given, name: flag };
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== "") return { value, name };
    }
    return undefined;
  };

  const portSetting = pick("--port", values.port, "SWITCHBOARD_PORT", "PORT");
  const port = portSetting ? parsePort(portSetting) : DEFAULTS.port;

  const hostSetting = pick("--host", values.host, "SWITCHBOARD_HOST");
  const host = hostSetting?.value ?? DEFAULTS.host;
  if (hostSetting && (host.trim() === "" || /\s/.test(host))) {
    throw new CliUsageError(`invalid ${hostSetting.name} ${JSON.stringify(host)}`);
  }

  const path = parsePath(
    pick("--path", values.path, "SWITCHBOARD_PATH") ?? { value: DEFAULTS.path, name: "--path" },
  );

  if (values["no-bayeux"] && values["bayeux-path"] !== undefined) {
    throw new CliUsageError("--no-bayeux and --bayeux-path exclude each other");
  }
  const bayeuxPath = values["no-bayeux"]
    ? false
    : parseBayeuxPath(
        pick("--bayeux-path", values["bayeux-path"], "SWITCHBOARD_BAYEUX_PATH") ?? {
          value: DEFAULTS.bayeuxPath,
          name: "--bayeux-path",
        },
        path,
      );

  const corsFlags = values["cors-origin"];
  const corsEnv = corsFlags
    ? undefined
    : pick("--cors-origin", undefined, "SWITCHBOARD_CORS_ORIGIN");
  const corsOrigin = corsFlags
    ? parseOrigins(corsFlags, "--cors-origin")
    : corsEnv
      ? parseOrigins([corsEnv.value], corsEnv.name)
      : undefined;

  const cert = pick("--tls-cert", values["tls-cert"], "SWITCHBOARD_TLS_CERT");
  const key = pick("--tls-key", values["tls-key"], "SWITCHBOARD_TLS_KEY");
  // Named in the user's own terms: a flag's partner flag, a variable's partner variable.
  if (cert && !key) {
    const missing = cert.name.startsWith("--") ? "--tls-key" : "SWITCHBOARD_TLS_KEY";
    throw new CliUsageError(
      `${cert.name} is set without ${missing}: the certificate and key must be given together`,
    );
  }
  if (key && !cert) {
    const missing = key.name.startsWith("--") ? "--tls-cert" : "SWITCHBOARD_TLS_CERT";
    throw new CliUsageError(
      `${key.name} is set without ${missing}: the certificate and key must be given together`,
    );
  }

  const timeoutSetting = pick(
    "--shutdown-timeout",
    values["shutdown-timeout"],
    "SWITCHBOARD_SHUTDOWN_TIMEOUT",
  );
  const shutdownTimeout = timeoutSetting ? parseMillis(timeoutSetting) : DEFAULTS.shutdownTimeout;
  const drainSetting = pick("--drain-delay", values["drain-delay"], "SWITCHBOARD_DRAIN_DELAY");

  // As PORT for the port, the conventional REDIS_URL joins a cluster too, after
  // the Switchboard variable (which may name a different Redis than the app's).
  const redisSetting = pick(
    "--redis-url",
    values["redis-url"],
    "SWITCHBOARD_REDIS_URL",
    "REDIS_URL",
  );
  const nodeSetting = pick("--node-id", values["node-id"], "SWITCHBOARD_NODE_ID");
  if (!redisSetting && (values["redis-cluster"] || env.SWITCHBOARD_REDIS_CLUSTER === "1")) {
    throw new CliUsageError(
      "--redis-cluster is set without --redis-url: name one node of the cluster",
    );
  }
  if (nodeSetting && !redisSetting) {
    const missing = nodeSetting.name.startsWith("--") ? "--redis-url" : "SWITCHBOARD_REDIS_URL";
    throw new CliUsageError(
      `${nodeSetting.name} is set without ${missing}: a node id names this node in a cluster`,
    );
  }

  const bridgeFlags = values.bridge ?? [];
  if (bayeuxPath === false && (bridgeFlags.length > 0 || values["bridge-config"] !== undefined)) {
    throw new CliUsageError("--bridge and --bridge-config need Bayeux (not --no-bayeux)");
  }
  const bridgeRoutes = checkRoutes(
    bridgeFlags.map((spec) => parseBridgeSpec(spec)),
    "--bridge",
  );
  const advertiseSetting = pick("--advertise", values.advertise, "SWITCHBOARD_ADVERTISE");
  const forwardSessions =
    advertiseSetting !== undefined ||
    values["forward-sessions"] === true ||
    env.SWITCHBOARD_FORWARD_SESSIONS === "1";
  if (forwardSessions && !redisSetting) {
    throw new CliUsageError(
      "--forward-sessions or --advertise is set without --redis-url: sessions are found through Redis",
    );
  }
  if (forwardSessions && (cert || key)) {
    throw new CliUsageError(
      "--forward-sessions does not work with --tls-cert yet: nodes forward over http",
    );
  }

  const recovery = parseRecovery(
    values,
    env,
    redisSetting !== undefined,
    pick("--recovery-window", values["recovery-window"], "SWITCHBOARD_RECOVERY_WINDOW"),
  );

  const dashboard = parseDashboard(
    values,
    pick("--dashboard-token", values["dashboard-token"], "SWITCHBOARD_DASHBOARD_TOKEN"),
    [path, bayeuxPath],
  );

  const options: ServeOptions = { port, host, path, bayeuxPath, shutdownTimeout };
  if (dashboard !== undefined) options.dashboard = dashboard;
  if (!metricsOn(values["no-metrics"] === true, env.SWITCHBOARD_METRICS)) options.metrics = false;
  options.logLevel = parseLogLevel(
    pick("--log-level", values["log-level"], "SWITCHBOARD_LOG_LEVEL"),
    env,
  );
  options.logFormat = parseLogFormat(
    pick("--log-format", values["log-format"], "SWITCHBOARD_LOG_FORMAT"),
  );
  if (drainSetting) options.drainDelay = parseMillis(drainSetting);
  if (recovery) options.recovery = recovery;
  if (bridgeRoutes.length > 0) options.bridgeRoutes = bridgeRoutes;
  if (values["bridge-config"] !== undefined) {
    if (values["bridge-config"] === "") throw new CliUsageError("--bridge-config needs a file");
    options.bridgeConfig = values["bridge-config"];
  }
  if (redisSetting) {
    options.cluster = { redisUrl: parseRedisUrl(redisSetting) };
    if (nodeSetting) options.cluster.nodeId = parseNodeId(nodeSetting);
    if (values["redis-cluster"] || env.SWITCHBOARD_REDIS_CLUSTER === "1") {
      options.cluster.redisCluster = true;
    }
    if (forwardSessions) options.cluster.forwardSessions = true;
    if (advertiseSetting) options.cluster.advertise = parseAdvertiseUrl(advertiseSetting);
  }
  if (corsOrigin) options.corsOrigin = corsOrigin;
  if (cert && key) {
    options.tls = { certFile: cert.value, keyFile: key.value, names: `${cert.name}/${key.name}` };
  }
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
      "drain-delay": { type: "string" },
      "redis-url": { type: "string" },
      "node-id": { type: "string" },
      "redis-cluster": { type: "boolean" },
      bridge: { type: "string", multiple: true },
      "bridge-config": { type: "string" },
      "forward-sessions": { type: "boolean" },
      advertise: { type: "string" },
      recovery: { type: "boolean" },
      "no-recovery": { type: "boolean" },
      "recovery-window": { type: "string" },
      "no-dashboard": { type: "boolean" },
      "dashboard-token": { type: "string" },
      "no-metrics": { type: "boolean" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  }).values;
}

/** A value and where it was read: a flag (`--port`) or an environment variable (`PORT`). */
interface Setting {
  value: string;
  name: string;
}

function parsePort({ value, name }: Setting): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new CliUsageError(
      `invalid ${name} ${JSON.stringify(value)}: expected a port, an integer 0-65535`,
    );
  }
  return port;
}

/** `--recovery` / `--no-recovery` / `--recovery-window` and their variables. */
function parseRecovery(
  values: ReturnType<typeof parseFlags>,
  env: NodeJS.ProcessEnv,
  clustered: boolean,
  windowSetting: Setting | undefined,
): RecoveryOptions | undefined {
  if (values.recovery && values["no-recovery"]) {
    throw new CliUsageError("--recovery and --no-recovery contradict each other");
  }
  let on = clustered;
  if (env.SWITCHBOARD_RECOVERY === "1") on = true;
  if (env.SWITCHBOARD_RECOVERY === "0") on = false;
  if (values.recovery) on = true;
  if (values["no-recovery"]) on = false;
  if (!on) {
    if (windowSetting?.name === "--recovery-window") {
      throw new CliUsageError("--recovery-window is set but recovery is off");
    }
    return undefined;
  }
  const window = windowSetting ? parseMillis(windowSetting) : RECOVERY_WINDOW;
  if (window < 1000) {
    throw new CliUsageError(`invalid ${windowSetting?.name} ${window}: expected at least 1000 ms`);
  }
  return { window };
}

/** `--no-dashboard` / `--dashboard-token` and its variable; the mounts may not hide the dashboard. */
function parseDashboard(
  values: ReturnType<typeof parseFlags>,
  tokenSetting: Setting | undefined,
  mounts: (string | false)[],
): ServeOptions["dashboard"] {
  if (values["no-dashboard"]) {
    if (tokenSetting?.name === "--dashboard-token") {
      throw new CliUsageError("--no-dashboard and --dashboard-token exclude each other");
    }
    return false;
  }
  const hidden = mounts.find((mount) => mount !== false && prefixesOverlap(mount, DASHBOARD_PATH));
  if (hidden) {
    throw new CliUsageError(
      `the mount path ${hidden} overlaps the dashboard at ${DASHBOARD_PATH}; move it, or use --no-dashboard`,
    );
  }
  // Absent: on, loopback peers only (the default).
  if (tokenSetting === undefined) return undefined;
  if (tokenSetting.value.trim() !== tokenSetting.value || tokenSetting.value.length < 8) {
    throw new CliUsageError(
      `invalid ${tokenSetting.name}: expected at least 8 characters, no surrounding spaces`,
    );
  }
  return { token: tokenSetting.value };
}

/** `--no-metrics` and SWITCHBOARD_METRICS (`0` off, `1` on; the flag wins). */
function metricsOn(noFlag: boolean, variable: string | undefined): boolean {
  if (variable !== undefined && variable !== "" && variable !== "0" && variable !== "1") {
    throw new CliUsageError(
      `invalid SWITCHBOARD_METRICS ${JSON.stringify(variable)}: expected 0 or 1`,
    );
  }
  return !noFlag && variable !== "0";
}

/** Whether the environment asks for Switchboard's debug lines (as src/shared/debug.ts reads it). */
function debugAsked(env: NodeJS.ProcessEnv): boolean {
  const sb = env.SWITCHBOARD_DEBUG;
  if (sb && sb !== "0" && sb !== "false") return true;
  return (env.DEBUG ?? "")
    .split(/[\s,]+/)
    .some((item) => item !== "" && !item.startsWith("-") && /^(switchboard|\*)/.test(item));
}

function parseLogLevel(setting: Setting | undefined, env: NodeJS.ProcessEnv): LogLevel {
  if (setting === undefined) return debugAsked(env) ? "debug" : "info";
  const level = setting.value.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new CliUsageError(
      `invalid ${setting.name} ${JSON.stringify(setting.value)}: expected one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  return level as LogLevel;
}

function parseLogFormat(setting: Setting | undefined): LogFormat {
  if (setting === undefined) return "json";
  const format = setting.value.trim().toLowerCase();
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new CliUsageError(
      `invalid ${setting.name} ${JSON.stringify(setting.value)}: expected json or pretty`,
    );
  }
  return format as LogFormat;
}

function parseMillis({ value, name }: Setting): number {
  const ms = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new CliUsageError(`invalid ${name} ${JSON.stringify(value)}: expected milliseconds`);
  }
  return ms;
}

/**
 * A Redis URL as the broker takes it. Checked here so a typo fails at once
 * with the flag's name, not later as a connection error.
 */
function parseRedisUrl({ value, name }: Setting): string {
  const expected = "expected redis://[user:password@]host[:port][/db] or rediss://…";
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // The value may hold a password: the message shows what was wrong, not the value.
  if (!url) throw new CliUsageError(`invalid ${name}: not a URL (${expected})`);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new CliUsageError(`invalid ${name}: scheme ${url.protocol} (${expected})`);
  }
  if (url.hostname === "") throw new CliUsageError(`invalid ${name}: no host (${expected})`);
  if (url.search !== "" || url.hash !== "") {
    throw new CliUsageError(`invalid ${name}: a query or fragment is not understood (${expected})`);
  }
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,5}$/.test(db)) {
    throw new CliUsageError(`invalid ${name}: database "${db}" is not a number (${expected})`);
  }
  return value;
}

function parseAdvertiseUrl({ value, name }: Setting): string {
  try {
    parseAdvertise(value);
  } catch {
    throw new CliUsageError(
      `invalid ${name} ${JSON.stringify(value)}: expected http://host:port (how the other nodes reach this one)`,
    );
  }
  return value;
}

/** Node ids travel in broker channel names and messages: kept short and plain. */
function parseNodeId({ value, name }: Setting): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new CliUsageError(
      `invalid ${name} ${JSON.stringify(value)}: expected 1-64 letters, digits, ".", "_" or "-"`,
    );
  }
  return value;
}

function parsePath({ value, name }: Setting): string {
  let path: string;
  try {
    path = normalizePrefix(value);
  } catch {
    throw new CliUsageError(
      `invalid ${name} ${JSON.stringify(value)}: expected an absolute path such as /socket.io`,
    );
  }
  // The demo page owns "/" and its files; Socket.IO needs a prefix of its own.
  if (path === "/") throw new CliUsageError(`${name} may not be / (the demo page is served there)`);
  return path;
}

function parseBayeuxPath({ value, name }: Setting, socketIoPath: string): string {
  let path: string;
  try {
    path = normalizePrefix(value);
  } catch {
    throw new CliUsageError(
      `invalid ${name} ${JSON.stringify(value)}: expected an absolute path such as /bayeux`,
    );
  }
  if (path === "/") {
    throw new CliUsageError(`${name} may not be / (the demo page is served there)`);
  }
  if (prefixesOverlap(path, socketIoPath)) {
    throw new CliUsageError(
      `${name} ${path} overlaps the Socket.IO path ${socketIoPath}; give each its own prefix`,
    );
  }
  const reserved = RESERVED_PATHS.find((p) => isUnderPrefix(p, path));
  if (reserved) throw new CliUsageError(`${name} ${path} would hide ${reserved}`);
  return path;
}

/**
 * `*`, or origins as browsers send them (scheme://host[:port]), from flags or
 * comma lists; `name` is the flag or variable they came from.
 */
function parseOrigins(values: string[], name: string): "*" | string[] {
  const items = values.flatMap((value) => value.split(",")).map((item) => item.trim());
  if (items.some((item) => item === "")) {
    throw new CliUsageError(`${name}: empty origin in list`);
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
        `invalid ${name} ${JSON.stringify(item)}: expected * or an origin such as https://example.com`,
      );
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return origins;
}
