/**
 * Where the supported `@redis/client` lines differ, in one place: 1.6 (the
 * client of node-redis 4) and 5 / 6. Every other Redis file talks to a
 * connection through these few functions and never asks which line it is.
 *
 * | concern                  | 1.6                              | 5 and 6                                  |
 * |--------------------------|----------------------------------|------------------------------------------|
 * | leave gracefully / now   | `quit()` / `disconnect()`        | `close()` / `destroy()`                  |
 * | bulk strings as Buffers  | `{ returnBuffers: true }`        | `{ typeMapping: { 36: Buffer } }`        |
 * | cluster node events      | only `error`                     | `node-reconnecting`, `node-ready`, `node-error` |
 * | protocol                 | RESP2                            | RESP2 (5), RESP3 by default (6)          |
 *
 * The rest is the same on all of them and needs nothing here: `sendCommand`
 * (client: `(args, options)`, cluster: `(firstKey, isReadonly, args,
 * options)`), `publish` / `sPublish`, `subscribe` / `sSubscribe` with a
 * listener and buffer mode, `duplicate()`, `isOpen` / `isReady`, a single
 * client's `error` / `reconnecting` / `ready` events, `disableOfflineQueue`
 * and `socket.reconnectStrategy(retries, cause)`. The replies the backends
 * read (integers, bulk strings, arrays, nil) decode alike under RESP2 and
 * RESP3, and a script's nil is `null` under both.
 *
 * The line is told from the connection itself (a 5+ client or cluster has
 * `withTypeMapping`), so a connection the application made works whatever
 * copy of the library it came from.
 */

/** The `@redis/client` module: what connections are made with. */
export interface RedisLibrary {
  createClient(options: object): unknown;
  createCluster(options: object): unknown;
}

/** The part of a connection (client or cluster, any line) this module looks at. */
interface AnyConnection {
  withTypeMapping?: unknown;
  isOpen?: boolean;
  isReady?: boolean;
  close?(): Promise<unknown>;
  destroy?(): void;
  quit?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
}

/** RESP type of a bulk string (`$`), `RESP_TYPES.BLOB_STRING` in `@redis/client` 5+. */
const BLOB_STRING = 36;

const TYPE_MAPPED_BUFFERS = { typeMapping: { [BLOB_STRING]: Buffer } } as const;
const RETURN_BUFFERS = { returnBuffers: true } as const;

/** Whether `connection` comes from `@redis/client` 5 or later (6 included). */
export function isModernClient(connection: unknown): boolean {
  return typeof (connection as AnyConnection).withTypeMapping === "function";
}

/** The command options that make `connection` return bulk strings as Buffers. */
export function bufferReplies(connection: unknown): object {
  return isModernClient(connection) ? TYPE_MAPPED_BUFFERS : RETURN_BUFFERS;
}

/**
 * Leaves Redis: gracefully (pending replies arrive first) when the
 * connection is up and `graceful`, otherwise at once (a connection that is
 * reconnecting would never answer). Never rejects: a connection already
 * closed counts as closed.
 */
export async function closeConnection(connection: unknown, graceful = true): Promise<void> {
  const c = connection as AnyConnection;
  const leave = c.close ?? c.quit;
  if (graceful && leave && c.isOpen !== false && c.isReady !== false) {
    try {
      await leave.call(c);
      return;
    } catch {
      // Fall through: whatever the reason, end it now.
    }
  }
  try {
    if (c.destroy) c.destroy();
    else await c.disconnect?.();
  } catch {
    // Already closed.
  }
}

/** The events that say a connection went down, came back, or failed. */
export interface LinkEvents {
  down?: string;
  up?: string;
  error: string;
}

/**
 * Which events report the link of `connection`. A 1.6 cluster client only
 * emits `error` (its node clients' reconnects stay inside it), so it has no
 * down/up: its outages show as failed commands, and its node clients restore
 * their subscriptions by themselves.
 */
export function linkEvents(connection: unknown, cluster: boolean): LinkEvents {
  if (!cluster) return { down: "reconnecting", up: "ready", error: "error" };
  if (isModernClient(connection))
    return { down: "node-reconnecting", up: "node-ready", error: "node-error" };
  return { error: "error" };
}
