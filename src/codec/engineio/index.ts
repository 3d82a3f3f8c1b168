/**
 * The Engine.IO wire codec: pure functions, no I/O.
 *
 * @example
 * import { decodePayload } from "./codec/engineio/index.js";
 * decodePayload("4hi\x1e2"); // [{ type: "message", data: "hi" }, { type: "ping" }]
 */
export * from "./errors.js";
export * from "./packet.js";
export * from "./payload.js";

/** The Engine.IO protocol revision spoken by default. */
export const PROTOCOL = 4;
