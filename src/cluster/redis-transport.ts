/**
 * The broker's two ways to Redis: a command connection (publishes, the
 * version probe) and a subscriber connection (every channel this node
 * listens on), either to one Redis or through a Redis Cluster client (whose
 * sharded subscriptions go to the master owning each channel's slot).
 *
 * Sharded pub/sub (SSUBSCRIBE/SPUBLISH, Redis 7+) keeps a channel's traffic
 * on one shard of a cluster; older servers get SUBSCRIBE/PUBLISH. Channels
 * are subscribed in batches: one command per batch, or per slot in a
 * cluster, where one SSUBSCRIBE may only name channels of one slot.
 *
 * Connections made here have no offline queue: a command sent while Redis is
 * unreachable fails at once instead of waiting in an unbounded buffer. The
 * client library re-subscribes every channel when a connection comes back.
 * What differs between `@redis/client` lines is in redis-compat.ts.
 */
import * as installedLibrary from "@redis/client";
import { BrokerError } from "./broker.js";
import { closeConnection, linkEvents, type RedisLibrary } from "./redis-compat.js";
import { clusterSlot } from "./redis-slot.js";

/** Receives a message and the channel it came on. */
export type ChannelListener = (message: Buffer, channel: Buffer) => void;

/** The part of an `@redis/client` client (or cluster), of any supported line, the broker uses. */
export interface RedisConnection {
  isReady?: boolean;
  isOpen: boolean;
  connect(): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  duplicate?(): RedisConnection;
  sendCommand(...args: unknown[]): Promise<unknown>;
  publish(channel: string, message: Buffer): Promise<number>;
  sPublish(channel: string, message: Buffer): Promise<number>;
  subscribe(channels: string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  unsubscribe(channels: string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  sSubscribe(channels: string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  sUnsubscribe(channels: string[], listener: ChannelListener, bufferMode: true): Promise<void>;
}

export interface TransportOptions {
  url?: string;
  client?: unknown;
  subscriber?: unknown;
  /** The `@redis/client` module to make connections with; default the installed one. */
  library?: RedisLibrary;
  cluster?: { rootNodes: Array<{ url: string }> } | boolean;
  /** Force sharded pub/sub on or off; detected from the server's version when absent. */
  sharded?: boolean;
  /** Milliseconds before the first retry and the most between retries. */
  backoff: { initial: number; max: number };
}

/** A connection went down or came back; `error` says why it went. */
export type LinkListener = (event: "down" | "up", error?: unknown) => void;

/** Delay before retry `attempt` (0-based): doubling from `initial` up to `max`, with 0-20% jitter. */
export function backoffDelay(attempt: number, initial: number, max: number): number {
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 20));
  return Math.round(base * (1 + Math.random() * 0.2));
}

export class RedisTransport {
  readonly #options: TransportOptions;
  readonly #owned: RedisConnection[] = [];
  #commands!: RedisConnection;
  #subscriber!: RedisConnection;
  #cluster = false;
  #sharded = true;
  #closed = false;
  #linkListener: LinkListener = () => {};
  #down = false;

  constructor(options: TransportOptions) {
    this.#options = options;
    const { client, subscriber, cluster } = options;
    // Options are typed by no single line: only ones every line takes are passed.
    const library = options.library ?? (installedLibrary as unknown as RedisLibrary);
    const { createClient, createCluster } = library;
    const reconnectStrategy = (retries: number) =>
      this.#closed ? false : backoffDelay(retries, options.backoff.initial, options.backoff.max);
    if (cluster) {
      this.#cluster = true;
      if (client !== undefined) {
        this.#commands = client as RedisConnection;
      } else {
        const rootNodes =
          typeof cluster === "object"
            ? cluster.rootNodes
            : [{ url: options.url ?? "redis://127.0.0.1:6379" }];
        this.#commands = this.#own(
          createCluster({
            rootNodes,
            defaults: { disableOfflineQueue: true, socket: { reconnectStrategy } },
          }) as unknown as RedisConnection,
        );
      }
      // A cluster client holds one subscriber connection per shard itself.
      this.#subscriber = (subscriber as RedisConnection | undefined) ?? this.#commands;
      return;
    }
    this.#commands =
      (client as RedisConnection | undefined) ??
      this.#own(
        createClient({
          url: options.url,
          disableOfflineQueue: true,
          socket: { reconnectStrategy },
        }) as unknown as RedisConnection,
      );
    if (subscriber !== undefined) this.#subscriber = subscriber as RedisConnection;
    else if (client !== undefined && this.#commands.duplicate)
      this.#subscriber = this.#own(this.#commands.duplicate());
    else
      this.#subscriber = this.#own(
        createClient({
          url: options.url,
          disableOfflineQueue: true,
          socket: { reconnectStrategy },
        }) as unknown as RedisConnection,
      );
  }

  #own(connection: RedisConnection): RedisConnection {
    this.#owned.push(connection);
    return connection;
  }

  /** Whether publishes and subscriptions use sharded pub/sub. */
  get sharded(): boolean {
    return this.#sharded;
  }

  /** Whether this goes through a Redis Cluster client. */
  get cluster(): boolean {
    return this.#cluster;
  }

  /**
   * Connects (retrying with backoff until it works or `close()`), then
   * settles whether the server has sharded pub/sub. `onLink` hears every
   * later loss and return of a connection.
   */
  async connect(onLink: LinkListener): Promise<void> {
    this.#linkListener = onLink;
    const connections = new Set([this.#commands, this.#subscriber]);
    for (const connection of connections) this.#watch(connection);
    let attempt = 0;
    for (;;) {
      if (this.#closed) throw new BrokerError("ERR_BROKER_CLOSED", "broker closed");
      try {
        for (const connection of connections) if (!connection.isOpen) await connection.connect();
        break;
      } catch (err) {
        // A single client retries inside connect(); a cluster client's first
        // discovery does not, so it is retried here.
        onLink("down", err);
        await new Promise((r) =>
          setTimeout(
            r,
            backoffDelay(attempt++, this.#options.backoff.initial, this.#options.backoff.max),
          ),
        );
      }
    }
    this.#sharded = this.#options.sharded ?? (await this.#probeSharded());
  }

  async #probeSharded(): Promise<boolean> {
    try {
      const info = String(
        this.#cluster
          ? await this.#commands.sendCommand(undefined, true, ["INFO", "server"])
          : await this.#commands.sendCommand(["INFO", "server"]),
      );
      const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
      return major >= 7;
    } catch {
      return false;
    }
  }

  #watch(connection: RedisConnection): void {
    const events = linkEvents(connection, this.#cluster);
    let lastError: unknown;
    connection.on(events.error, (err: unknown) => {
      lastError = err;
    });
    if (events.error !== "error") connection.on("error", (err: unknown) => (lastError = err));
    if (!events.down || !events.up) return;
    connection.on(events.down, () => {
      if (this.#closed || this.#down) return;
      this.#down = true;
      this.#linkListener("down", lastError);
    });
    connection.on(events.up, () => {
      if (this.#closed || !this.#down || !this.#allReady()) return;
      this.#down = false;
      this.#linkListener("up");
    });
  }

  #allReady(): boolean {
    if (this.#cluster) return true;
    return this.#commands.isReady !== false && this.#subscriber.isReady !== false;
  }

  /** Publishes on `channel`; resolves with how many connections received it. */
  publish(channel: string, frame: Buffer): Promise<number> {
    return this.#sharded
      ? this.#commands.sPublish(channel, frame)
      : this.#commands.publish(channel, frame);
  }

  /** Subscribes `channels` (one command, or one per slot in a cluster). */
  async subscribe(channels: string[], listener: ChannelListener): Promise<void> {
    await Promise.all(
      this.#batches(channels).map((batch) =>
        this.#sharded
          ? this.#subscriber.sSubscribe(batch, listener, true)
          : this.#subscriber.subscribe(batch, listener, true),
      ),
    );
  }

  async unsubscribe(channels: string[], listener: ChannelListener): Promise<void> {
    await Promise.all(
      this.#batches(channels).map((batch) =>
        this.#sharded
          ? this.#subscriber.sUnsubscribe(batch, listener, true)
          : this.#subscriber.unsubscribe(batch, listener, true),
      ),
    );
  }

  #batches(channels: string[]): string[][] {
    if (!this.#cluster || !this.#sharded) return channels.length > 0 ? [channels] : [];
    const bySlot = new Map<number, string[]>();
    for (const channel of channels) {
      const slot = clusterSlot(channel);
      const batch = bySlot.get(slot);
      if (batch) batch.push(channel);
      else bySlot.set(slot, [channel]);
    }
    return [...bySlot.values()];
  }

  /** Closes the connections this transport made; ones passed in stay open. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#owned.map((connection) => closeConnection(connection)));
  }
}
