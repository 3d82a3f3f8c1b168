/**
 * Base class of every error Switchboard raises or reports. Each error carries a
 * stable string `code` (for programs) besides its human message, and an optional
 * `cause`. Protocol errors additionally carry the data the wire needs (an HTTP
 * status, a close code, a protocol error number), kept in per-protocol tables.
 */
export class SwitchboardError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A limit (size, count, rate) was exceeded. */
export class LimitExceededError extends SwitchboardError {
  readonly limit: string;
  readonly max: number;

  constructor(limit: string, max: number, message?: string) {
    super("ERR_LIMIT_EXCEEDED", message ?? `limit ${limit} (${max}) exceeded`);
    this.limit = limit;
    this.max = max;
  }
}

/** Input that does not follow the wire protocol. */
export class ProtocolError extends SwitchboardError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
