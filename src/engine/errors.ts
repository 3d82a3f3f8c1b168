/**
 * Engine.IO's HTTP error table, as data: the numeric code and message are
 * engine.io's (`Server.errors` / `Server.errorMessages`), so clients and tools
 * that read them keep working. Code 6 is Switchboard's connection limit.
 *
 * Errors are answered as JSON `{"code":N,"message":"..."}` with the status
 * below, or, on a websocket upgrade, as a raw HTTP response before the socket
 * is destroyed.
 */
import { SwitchboardError } from "../shared/errors.js";

export interface EngineErrorEntry {
  readonly code: number;
  readonly message: string;
  readonly status: number;
  /** Stable string code for programs. */
  readonly name: string;
}

export const ENGINE_ERRORS = {
  UNKNOWN_TRANSPORT: {
    code: 0,
    message: "Transport unknown",
    status: 400,
    name: "ERR_EIO_UNKNOWN_TRANSPORT",
  },
  UNKNOWN_SID: { code: 1, message: "Session ID unknown", status: 400, name: "ERR_EIO_UNKNOWN_SID" },
  BAD_HANDSHAKE_METHOD: {
    code: 2,
    message: "Bad handshake method",
    status: 400,
    name: "ERR_EIO_BAD_HANDSHAKE_METHOD",
  },
  BAD_REQUEST: { code: 3, message: "Bad request", status: 400, name: "ERR_EIO_BAD_REQUEST" },
  FORBIDDEN: { code: 4, message: "Forbidden", status: 403, name: "ERR_EIO_FORBIDDEN" },
  UNSUPPORTED_PROTOCOL_VERSION: {
    code: 5,
    message: "Unsupported protocol version",
    status: 400,
    name: "ERR_EIO_UNSUPPORTED_PROTOCOL_VERSION",
  },
  TOO_MANY_CONNECTIONS: {
    code: 6,
    message: "Too many connections",
    status: 503,
    name: "ERR_EIO_TOO_MANY_CONNECTIONS",
  },
} as const satisfies Record<string, EngineErrorEntry>;

export type EngineErrorKey = keyof typeof ENGINE_ERRORS;

/** engine.io's `Server.errors`: name → numeric code. */
export const errors: Readonly<Record<EngineErrorKey, number>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ENGINE_ERRORS).map(([key, entry]) => [key, entry.code]),
  ) as Record<EngineErrorKey, number>,
);

/** engine.io's `Server.errorMessages`: numeric code → message. */
export const errorMessages: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.values(ENGINE_ERRORS).map((entry) => [entry.code, entry.message])),
);

/** A refused Engine.IO request, as reported in `connection_error`. */
export class EngineRequestError extends SwitchboardError {
  readonly status: number;
  readonly errorCode: number;

  constructor(entry: EngineErrorEntry, message?: string) {
    super(entry.name, message ?? entry.message);
    this.status = entry.status;
    this.errorCode = entry.code;
  }
}

/**
 * A second Engine.IO server attached to one HTTP server at a path that
 * overlaps one already served there. Both would take the same websocket
 * upgrades (ws then sees every frame twice: "RSV1 must be clear"), and the
 * later one would shadow the other's polling requests; engine.io lets it
 * happen and fails later, Switchboard refuses at attach time.
 */
export class EngineAttachError extends SwitchboardError {
  /** The path that was asked for. */
  readonly path: string;
  /** The path already served on that HTTP server. */
  readonly claimed: string;

  constructor(path: string, claimed: string) {
    super(
      "ERR_EIO_PATH_IN_USE",
      `cannot attach an Engine.IO server at "${path}": this HTTP server already serves one at "${claimed}"; give each server its own path`,
    );
    this.path = path;
    this.claimed = claimed;
  }
}
