/**
 * The `@redis/client` lines the Redis backends are tested on: 6 (the
 * `@redis/client` devDependency), 5 and 1.6 (installed beside it under the
 * aliases `@redis/client-v5` and `@redis/client-v1`). A suite runs once per
 * line it takes from here, each time with connections made by that line's
 * module; the slow multi-node suites stay on the default line.
 */

import { after, before } from "node:test";
import * as v6 from "@redis/client";
import * as v1 from "@redis/client-v1";
import * as v5 from "@redis/client-v5";
import { closeConnection, type RedisLibrary } from "../../src/cluster/redis-compat.js";
import {
  closeRedis,
  connectRedis,
  type RedisConnection,
  type RedisTarget,
} from "../../src/cluster/redis-keys.js";

/** One line of the client: a name for test titles and its module. */
export interface RedisClientLine {
  /** "@redis/client 6" and so on. */
  name: string;
  library: RedisLibrary;
}

const line = (name: string, library: unknown): RedisClientLine => ({
  name: `@redis/client ${name}`,
  library: library as RedisLibrary,
});

/** The installed default (6). */
export const CLIENT_V6 = line("6", v6);
/** The node-redis 4 line: the smallest install. */
export const CLIENT_V1 = line("1.6", v1);
export const CLIENT_V5 = line("5", v5);

/** Every supported line, newest first. */
export const CLIENT_LINES: RedisClientLine[] = [CLIENT_V6, CLIENT_V5, CLIENT_V1];

/** A client's own part the tests use, on every line. */
export interface TestClient {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  duplicate(): TestClient;
  sPublish(channel: string, message: Buffer): Promise<number>;
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string | string[]>;
}

/** A connected single-server client of `line` (errors ignored: they surface as rejections). */
export async function testClient(
  line: RedisClientLine,
  url: string,
  options: object = {},
): Promise<TestClient> {
  const client = line.library.createClient({ url, ...options }) as TestClient;
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** A connected cluster client of `line`. */
export async function testCluster(
  line: RedisClientLine,
  rootNodes: Array<{ url: string }>,
  options: object = {},
): Promise<TestClient> {
  const client = line.library.createCluster({ rootNodes, ...options }) as TestClient;
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** Drops the connection at once, as a crash would (no QUIT). */
export function dropClient(client: unknown): Promise<void> {
  return closeConnection(client, false);
}

/** Keys of one SCAN step: 1.6 yields them one by one, 5+ in batches. */
export function scannedKeys(step: string | string[]): number {
  return Array.isArray(step) ? step.length : 1;
}

/**
 * One connection of `line` for the enclosing `describe`: opened before its
 * tests (to the target `target()` names then), closed after them.
 *
 * @example
 * const redis = suiteConnection(CLIENT_V6, () => ({ url: REDIS_URL }));
 * it("...", async () => new RedisSessionStore(redis(), { prefix }));
 */
export function suiteConnection(
  line: RedisClientLine,
  target: () => RedisTarget,
): () => RedisConnection {
  let redis: RedisConnection | undefined;
  before(async () => {
    redis = await connectRedis(target(), line);
  });
  after(async () => {
    if (redis) await closeRedis(redis);
  });
  return () => {
    if (redis === undefined) throw new Error(`no ${line.name} connection: the suite did not start`);
    return redis;
  };
}
