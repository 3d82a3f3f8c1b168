/**
 * What every Redis backend shares: the client types it accepts (a single
 * server's client or a cluster's), connecting from URLs, running a command or
 * a script on whichever the caller gave, and the key layout.
 *
 * Keys are `<prefix><kind>:{<id>}...`: the part in braces is the Redis
 * Cluster hash tag, so every key of one record (one session, one log stream)
 * lands in one slot and a script may touch them together.
 *
 * `@redis/client` is an optional peer dependency: {@link connectRedis} loads
 * it when called, so an installation that uses no Redis carries no Redis
 * client. Its lines 1.6, 5 and 6 all work; how they differ is in
 * redis-compat.ts.
 */
import { createHash } from "node:crypto";
import { bufferReplies, closeConnection, type RedisLibrary } from "./redis-compat.js";

/** The default key prefix of every Redis backend. */
export const DEFAULT_KEY_PREFIX = "sb:";

/**
 * A ready client of one Redis server or of a Redis Cluster, of any supported
 * `@redis/client` line (1.6, 5, 6), by the part the backends use. Typed by
 * shape rather than by the library's own types, which differ from line to
 * line, so these declarations hold whichever line is installed.
 */
export interface RedisConnection {
  readonly isOpen: boolean;
  sendCommand(...args: never[]): Promise<unknown>;
}

/** Whether `redis` is a cluster client (it routes each command by key). */
export function isRedisCluster(redis: RedisConnection): boolean {
  return "masters" in redis;
}

/**
 * Closes a connection from {@link connectRedis} (or any client or cluster
 * client of a supported line): gracefully when it is up, otherwise at once.
 *
 * @example
 * const redis = await connectRedis({ url: "redis://127.0.0.1:6379" });
 * await closeRedis(redis);
 */
export function closeRedis(redis: RedisConnection): Promise<void> {
  return closeConnection(redis);
}

/** Where to connect: one server's URL, or the root nodes of a cluster. */
export type RedisTarget = { url: string } | { rootNodes: string[] };

/**
 * Connects a client (or a cluster client) and waits until it is ready. A
 * server that cannot be reached at first rejects the promise (node-redis
 * would otherwise retry for ever); once connected, a lost connection is
 * retried with a backoff of up to 2 s.
 *
 * `library` is the `@redis/client` module to connect with, by default the
 * installed one (1.6, 5 or 6).
 *
 * @example
 * const redis = await connectRedis({ url: "redis://127.0.0.1:6379" });
 * const cluster = await connectRedis({ rootNodes: ["redis://127.0.0.1:7000"] });
 */
export async function connectRedis(
  target: RedisTarget,
  options: { library?: RedisLibrary } = {},
): Promise<RedisConnection> {
  // Options are typed by no single line: only ones every line takes are passed.
  const { createClient, createCluster } =
    options.library ?? ((await import("@redis/client")) as unknown as RedisLibrary);
  let connected = false;
  const socket = {
    connectTimeout: 5000,
    reconnectStrategy: (retries: number, cause: Error): number | Error =>
      connected ? Math.min(50 * 2 ** Math.min(retries, 6), 2000) : cause,
  };
  const connection = (
    "url" in target
      ? createClient({ url: target.url, socket })
      : createCluster({
          rootNodes: target.rootNodes.map((url) => ({ url, socket })),
          defaults: { socket },
        })
  ) as Connectable;
  connection.on("error", ignoreError);
  await connection.connect();
  connected = true;
  return connection as unknown as RedisConnection;
}

interface Connectable {
  on(event: string, listener: () => void): unknown;
  connect(): Promise<unknown>;
}

/** Connection errors surface as rejected commands; the event is only a notice. */
function ignoreError(): void {}

/** `sendCommand` of a single client and of a cluster client, on every line. */
interface CommandSender {
  sendCommand(args: (string | Buffer)[], options?: object): Promise<unknown>;
}
interface ClusterCommandSender {
  sendCommand(
    key: string,
    readonly: boolean,
    args: (string | Buffer)[],
    options?: object,
  ): Promise<unknown>;
}

/**
 * Sends one command. `key` routes it on a cluster (every key of the command
 * must share its slot); `binary` returns bulk strings as Buffers.
 */
export function redisCommand<T>(
  redis: RedisConnection,
  key: string,
  args: (string | Buffer)[],
  binary = false,
): Promise<T> {
  const options = binary ? bufferReplies(redis) : undefined;
  if (isRedisCluster(redis)) {
    return (redis as unknown as ClusterCommandSender).sendCommand(
      key,
      false,
      args,
      options,
    ) as Promise<T>;
  }
  return (redis as unknown as CommandSender).sendCommand(args, options) as Promise<T>;
}

/**
 * Runs a Lua script over `keys` (all in one slot) by its SHA1, loading it
 * once when the server does not know it yet (`NOSCRIPT`).
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  async run<T>(
    redis: RedisConnection,
    keys: string[],
    args: (string | Buffer)[],
    binary = false,
  ): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await redisCommand<T>(redis, keys[0], ["EVALSHA", this.#sha, ...tail], binary);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return redisCommand<T>(redis, keys[0], ["EVAL", this.#source, ...tail], binary);
    }
  }
}

/** The hash-tagged part of a key: `{id}` (braces in `id` would break the tag, so they are escaped). */
export function hashTag(id: string): string {
  return `{${id.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}}`;
}
