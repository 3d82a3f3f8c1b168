/**
 * The `switchboard/redis` entry: the Redis broker, kept apart from the main
 * entry so applications without Redis never load `@redis/client`.
 *
 * @example
 * import { RedisBroker } from "switchboard/redis";
 * const broker = new RedisBroker({ cluster: { rootNodes: [{ url: "redis://10.0.0.1:7000" }] } });
 * await broker.ready();
 */

export type { Logger } from "../shared/logger.js";
export { RedisBroker, type RedisBrokerOptions } from "./redis-broker.js";
