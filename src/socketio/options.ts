/**
 * Checks the Socket.IO server's own options when the server is built, so a
 * wrong type fails there with a `TypeError` naming the option instead of
 * later, at the first request or connection, with an unrelated message (or
 * not at all: a `cors` string would silently allow every origin).
 * Engine options (`pingInterval`, ...) are checked by the engine itself.
 */

/** A server option of the wrong type or value. */
export class InvalidOptionError extends TypeError {
  readonly code = "ERR_SIO_INVALID_OPTION";
  /** The option's name, as written in the options object (`cors.origin`). */
  readonly option: string;

  constructor(option: string, expected: string, value: unknown) {
    super(`option "${option}" must be ${expected}, got ${describe(value)}`);
    this.name = "TypeError";
    this.option = option;
  }
}

/** What a wrong value was, for the message (never the value itself: it may be large). */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value === "object" || typeof value === "function"
    ? `a ${typeof value}`
    : `${value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `fn` can be called with `new` (without calling it). */
export function isConstructor(fn: unknown): boolean {
  if (typeof fn !== "function") return false;
  try {
    // Constructs a String whose new.target is `fn`: throws only when `fn` cannot be one.
    Reflect.construct(String, [], fn);
    return true;
  } catch {
    return false;
  }
}

/** `path`: a string starting with "/" (the engine compares it with the request's path). */
export function checkPath(value: unknown, option = "path"): string {
  if (typeof value !== "string" || !value.startsWith("/")) {
    throw new InvalidOptionError(option, 'a string starting with "/"', value);
  }
  return value;
}

/** `adapter`: a class the server instantiates once per namespace. */
export function checkAdapter(value: unknown): void {
  if (!isConstructor(value)) {
    throw new InvalidOptionError("adapter", "an adapter class (a constructor)", value);
  }
}

/**
 * A port given as a number or as a string of digits (`process.env.PORT`), as
 * socket.io's `attach` accepts it; undefined when `value` is neither.
 */
export function portNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === "string" && /^\d{1,5}$/.test(value.trim())) return Number(value);
  return undefined;
}

/** A duration or count option: a finite number, zero or more. */
export function checkCount(value: unknown, option: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(option, "a non-negative number", value);
  }
  return value;
}

function isStaticOrigin(value: unknown): boolean {
  return typeof value === "string" || value instanceof RegExp;
}

function checkHeaderList(value: unknown, option: string): void {
  if (value === undefined || typeof value === "string") return;
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return;
  throw new InvalidOptionError(option, "a string or an array of strings", value);
}

/**
 * `cors`: the engine's CORS options object, or a boolean (socket.io's cors
 * package reads `true` as its defaults). Flags such as `credentials` are read
 * as truthy or not, as the cors package does, so only the fields whose wrong
 * type would misbehave are checked.
 */
function checkCors(cors: unknown): void {
  if (cors === undefined || typeof cors === "boolean") return;
  if (typeof cors === "function") {
    throw new InvalidOptionError(
      "cors",
      "an options object (a per-request delegate function is not supported; cors.origin may be a function)",
      cors,
    );
  }
  if (!isPlainObject(cors)) {
    throw new InvalidOptionError("cors", "an options object ({ origin, credentials, ... })", cors);
  }
  const origin = cors.origin;
  if (
    origin !== undefined &&
    typeof origin !== "boolean" &&
    typeof origin !== "function" &&
    !isStaticOrigin(origin) &&
    !(Array.isArray(origin) && origin.every(isStaticOrigin))
  ) {
    throw new InvalidOptionError(
      "cors.origin",
      "a boolean, a string, a RegExp, an array of those or a function",
      origin,
    );
  }
  checkHeaderList(cors.methods, "cors.methods");
  checkHeaderList(cors.allowedHeaders, "cors.allowedHeaders");
  checkHeaderList(cors.exposedHeaders, "cors.exposedHeaders");
  // Becomes the preflight's HTTP status: anything but a number would throw per request.
  if (cors.optionsSuccessStatus !== undefined) {
    checkCount(cors.optionsSuccessStatus, "cors.optionsSuccessStatus");
  }
}

function checkRecovery(value: unknown): void {
  if (value === undefined || typeof value === "boolean") return;
  if (!isPlainObject(value)) {
    throw new InvalidOptionError("connectionStateRecovery", "an options object", value);
  }
  for (const key of ["maxDisconnectionDuration", "maxBufferedPackets"]) {
    if (value[key] !== undefined) checkCount(value[key], `connectionStateRecovery.${key}`);
  }
}

function checkParser(value: unknown): void {
  if (value === undefined) return;
  if (!isPlainObject(value) || !isConstructor(value.Encoder) || !isConstructor(value.Decoder)) {
    throw new InvalidOptionError("parser", "an object with Encoder and Decoder classes", value);
  }
}

const BROKER_METHODS = [
  "publish",
  "subscribe",
  "request",
  "respond",
  "nodes",
  "onNodes",
  "close",
] as const;

const LOGGER_METHODS = ["debug", "info", "warn", "error"] as const;

function checkLogger(value: unknown): void {
  if (value === undefined) return;
  const logger = value as Record<string, unknown>;
  if (
    typeof value !== "object" ||
    value === null ||
    LOGGER_METHODS.some((m) => typeof logger[m] !== "function")
  ) {
    throw new InvalidOptionError("logger", `a logger (${LOGGER_METHODS.join(", ")})`, value);
  }
}

function checkBroker(value: unknown): void {
  if (value === undefined) return;
  const broker = value as Record<string, unknown>;
  if (!isPlainObject(value) || BROKER_METHODS.some((m) => typeof broker[m] !== "function")) {
    throw new InvalidOptionError("broker", `a Broker (${BROKER_METHODS.join(", ")})`, value);
  }
}

/**
 * Throws an {@link InvalidOptionError} for the first Socket.IO server option
 * of a wrong type in `opts`.
 *
 * @example
 * checkServerOptions({ path: "socket.io" }); // TypeError: option "path" must be a string starting with "/", ...
 */
export function checkServerOptions(opts: unknown): void {
  if (opts === undefined || opts === null) return;
  if (!isPlainObject(opts)) throw new InvalidOptionError("options", "an object", opts);
  if (opts.path !== undefined) checkPath(opts.path);
  if (opts.adapter !== undefined) checkAdapter(opts.adapter);
  if (opts.connectTimeout !== undefined) checkCount(opts.connectTimeout, "connectTimeout");
  if (opts.maxAttachments !== undefined) checkCount(opts.maxAttachments, "maxAttachments");
  const depth = opts.maxPayloadDepth;
  if (depth !== undefined && !(Number.isInteger(depth) && (depth as number) >= 1)) {
    throw new InvalidOptionError("maxPayloadDepth", "an integer >= 1", depth);
  }
  checkCors(opts.cors);
  checkRecovery(opts.connectionStateRecovery);
  checkParser(opts.parser);
  checkBroker(opts.broker);
  checkLogger(opts.logger);
}
