/** The seams between nodes (broker, session store, message log) and their backends. */
export * from "./broker.js";
export * from "./idempotency.js";
export * from "./log-reader.js";
export * from "./memory-broker.js";
export * from "./memory-message-log.js";
export * from "./memory-session-store.js";
export * from "./message-log.js";
export * from "./session-store.js";
