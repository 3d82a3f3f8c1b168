/** The broker seam between nodes and its backends. */
export * from "./broker.js";
export * from "./memory-broker.js";
