/**
 * Redis for the cluster scenarios: where it is (`REDIS_URL`, default
 * redis://127.0.0.1:6379), a counting TCP proxy between each node and Redis,
 * and the clean-up of a run's keys.
 *
 * The proxy (node:net, in the orchestrator's process) counts the bytes Redis
 * sends to a node and the bytes the node sends to Redis over every connection
 * the node opens, whatever client library it uses, so the measure of a node's
 * Redis traffic is the same for every target. It also reads what Redis sends
 * as RESP (`RespPayloadCounter`) to count, apart, the payload bytes of the
 * pub/sub messages in it.
 */

import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { RespPayloadCounter } from "./resp-counter.js";

/** The Redis the cluster scenarios use. */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL || "redis://127.0.0.1:6379";
}

/** Host and port of a `redis://` URL. */
export function redisAddress(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") {
    throw new Error(`REDIS_URL ${url}: only redis:// URLs can be proxied`);
  }
  // URL keeps an IPv6 host in brackets; net.connect wants it bare.
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: Number(parsed.port || 6379),
  };
}

/**
 * `url` with its host and port replaced by the proxy's (credentials and
 * database kept).
 *
 * @example
 * proxiedUrl("redis://:secret@10.0.0.5:6380/2", 40123); // "redis://:secret@127.0.0.1:40123/2"
 */
export function proxiedUrl(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = "127.0.0.1";
  parsed.port = String(port);
  return parsed.toString();
}

/** Resolves once a TCP connection to Redis opens; rejects with a clear message otherwise. */
export function checkReachable(url: string, timeoutMs = 2000): Promise<void> {
  const { host, port } = redisAddress(url);
  return new Promise((done, fail) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error("timed out")), timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.end();
      done();
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      fail(new Error(`Redis unreachable at ${url} (${error.message}); set REDIS_URL`));
    });
  });
}

/** Bytes a proxy carried so far, in each direction. */
export interface ProxyCounts {
  /** Redis → node: what the node received from Redis. */
  fromRedis: number;
  /** Node → Redis: commands and publishes the node sent. */
  toRedis: number;
  /**
   * Of `fromRedis`, the data bytes of pub/sub message payloads (`message`,
   * `smessage`, `pmessage`): no RESP framing, kind, channel or pattern.
   */
  inPayload: number;
  /**
   * Connections whose Redis → node stream stopped parsing as RESP (their
   * later payloads are not in `inPayload`); 0 when the count is complete.
   */
  unparsed: number;
}

/**
 * A TCP proxy in front of Redis that counts bytes per direction.
 *
 * @example
 * const proxy = await CountingProxy.start(redisAddress(redisUrl()));
 * const nodeUrl = proxiedUrl(redisUrl(), proxy.port);
 * // … later: proxy.counts().fromRedis, proxy.counts().inPayload
 * await proxy.close();
 */
export class CountingProxy {
  #fromRedis = 0;
  #toRedis = 0;
  #inPayload = 0;
  #unparsed = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.#server = server;
  }

  static async start(target: { host: string; port: number }): Promise<CountingProxy> {
    const server = createServer();
    const port = await new Promise<number>((done, fail) => {
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port));
    });
    const proxy = new CountingProxy(server, port);
    server.on("connection", (client: Socket) => proxy.#pipe(client, target));
    return proxy;
  }

  counts(): ProxyCounts {
    return {
      fromRedis: this.#fromRedis,
      toRedis: this.#toRedis,
      inPayload: this.#inPayload,
      unparsed: this.#unparsed,
    };
  }

  /** Stops listening and cuts every proxied connection. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((done) => this.#server.close(() => done()));
  }

  #pipe(client: Socket, target: { host: string; port: number }): void {
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.setNoDelay(true);
      socket.once("close", () => this.#sockets.delete(socket));
    }
    client.on("data", (chunk: Buffer) => {
      this.#toRedis += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    let resp: RespPayloadCounter | undefined = new RespPayloadCounter();
    upstream.on("data", (chunk: Buffer) => {
      this.#fromRedis += chunk.length;
      if (!client.write(chunk)) upstream.pause();
      if (resp === undefined) return;
      // Counting is a bystander: whatever it meets, the bytes above went on.
      let failed: boolean;
      try {
        this.#inPayload += resp.write(chunk);
        failed = resp.error !== undefined;
      } catch {
        failed = true;
      }
      if (failed) {
        resp = undefined;
        this.#unparsed += 1;
      }
    });
    upstream.on("drain", () => client.resume());
    client.on("drain", () => upstream.resume());
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.once("close", end);
    upstream.once("close", end);
    client.on("error", end);
    upstream.on("error", end);
  }
}

/**
 * Deletes every key under `prefix` (what faye-redis or a broker left behind),
 * so repeated runs do not fill the shared Redis. Returns how many were deleted.
 */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  client.on("error", () => {});
  try {
    await client.connect();
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    client.disconnect();
  }
}
