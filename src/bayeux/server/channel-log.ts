/**
 * The channel log (option `channelLog`): every channel publish of the
 * cluster is appended to one message-log stream, `bayeux/channels`, and
 * every node delivers to its own subscribers from its follow of that stream,
 * the publishing node included. What it buys:
 *
 * - **One order.** Each delivery carries the entry's offset, and every node
 *   hands the stream over in the same order; "everything up to offset X"
 *   means the same on every node.
 * - **No hole at a node's death.** An ack-extension session records a floor:
 *   an offset up to which its client acknowledged every delivery matching
 *   its subscriptions. A node adopting the session of a dead owner reads the
 *   stream from that floor to its own follower's position and queues what
 *   matches (after the dead owner's kept deliveries, before live ones), so a
 *   message published while no node held the session still reaches it.
 * - **A publish is answered once it is stored.** The reply waits for the
 *   append; when the log cannot take it (Redis down), the client is told the
 *   publish failed (`407`) instead of it being lost, and a resend with the
 *   same `id` is appended once (`appendOnce`).
 *
 * The cost: one append per publish and one stream every node reads whole
 * (no per-node interest), so it is an option, on in the CLI with recovery.
 */
import { CoalescingLogReader } from "../../cluster/log-reader.js";
import type { LogEntry, LogFollower, MessageLog } from "../../cluster/message-log.js";
import type { BayeuxMessage } from "../../codec/bayeux/index.js";
import { createDebug } from "../../shared/debug.js";
import { SwitchboardError } from "../../shared/errors.js";
import { LogLimiter } from "../../shared/log-limiter.js";
import { type Logger, silentLogger } from "../../shared/logger.js";
import { Delivery } from "./delivery.js";

const debug = createDebug("bayeux:channel-log");

/** The stream of every channel publish. */
export const CHANNEL_STREAM = "bayeux/channels";

/** Reads one adoption may make to catch up with its follower before giving up on the rest. */
const CATCH_UP_READS = 8;
/**
 * Longest a publish or an adoption waits for this node's follow to start (the
 * log unreachable since start-up): past it the publish fails (`407`) rather
 * than hang.
 */
const START_WAIT = 5000;
/** Milliseconds an adoption's read waits for others of the same burst (a dead node's clients). */
const ADOPTION_BURST = 25;

/** A publish the channel log could not store: the client is told it failed. */
export class ChannelLogError extends SwitchboardError {
  constructor(cause: unknown) {
    super("ERR_BAYEUX_CHANNEL_LOG", `the channel log cannot take the publish: ${String(cause)}`, {
      cause,
    });
  }
}

export interface ChannelLogOptions {
  log: MessageLog;
  /** This node's id, written with each entry (a delivery's `origin` on the other nodes). */
  nodeId: string;
  /** Milliseconds a publish key is remembered by `appendOnce`; 0: plain appends. */
  dedupeWindow: number;
  /** Hands a followed entry to the local subscribers. */
  deliver(delivery: Delivery): void;
  /** Longest a publish waits for the follow to start, ms. Default 5000. */
  startWait?: number;
  /** Where gaps, undecodable entries and incomplete catch-ups are warned of. Default: silent. */
  logger?: Logger;
}

/** What a counted follow did, for tests and metrics. */
export interface ChannelLogStats {
  appended: number;
  duplicates: number;
  failed: number;
  /** Entries delivered from the follow. */
  followed: number;
  /** Entries that did not decode (dropped). */
  malformed: number;
  /** Times the follow was told entries were lost to it. */
  gaps: number;
}

export class ChannelLog {
  readonly stats: ChannelLogStats = {
    appended: 0,
    duplicates: 0,
    failed: 0,
    followed: 0,
    malformed: 0,
    gaps: 0,
  };
  readonly log: MessageLog;
  readonly #nodeId: string;
  readonly #window: number;
  readonly #deliver: (delivery: Delivery) => void;
  readonly #reader: CoalescingLogReader;
  readonly #follower: LogFollower;
  readonly #startWait: number;
  /** Offset of the last entry delivered here; undefined until the follow is ready. */
  #position: string | undefined;
  readonly #logger: Logger;
  readonly #malformedWarnings = new LogLimiter();

  constructor(options: ChannelLogOptions) {
    this.log = options.log;
    this.#logger = options.logger ?? silentLogger;
    this.#nodeId = options.nodeId;
    this.#window = options.dedupeWindow;
    this.#deliver = options.deliver;
    this.#startWait = options.startWait ?? START_WAIT;
    this.#reader = new CoalescingLogReader(this.log, { burstWindow: ADOPTION_BURST });
    this.#follower = this.log.follow(CHANNEL_STREAM, {
      entries: (batch) => this.#entries(batch),
      gap: () => {
        this.stats.gaps++;
        this.#position = this.#follower.position;
        this.#logger.warn(
          { stream: CHANNEL_STREAM },
          "log gap: the channel log lost entries to this node's follow",
        );
      },
    });
    this.#follower.ready.then(
      () => {
        this.#position ??= this.#follower.position;
      },
      () => {},
    );
  }

  /** Adoption reads of the stream: asked for, made, and shared by a burst. */
  get readStats(): { requests: number; reads: number; coalesced: number } {
    return { ...this.#reader.stats };
  }

  /** Resolves once this node's follow has its start position. */
  get ready(): Promise<void> {
    return this.#follower.ready;
  }

  /**
   * Offset of the last entry delivered on this node (every matching entry up
   * to it has reached this node's subscribers); undefined before the follow
   * is ready.
   */
  get position(): string | undefined {
    return this.#position;
  }

  /**
   * Stores a publish; resolves once it is in the log (each node then
   * delivers it from its follow), false when `key` was published already.
   * Rejects with {@link ChannelLogError} when the log cannot take it.
   */
  async append(delivery: Delivery, key?: string): Promise<boolean> {
    // The follow must have started: otherwise this node would not see its own entry.
    await this.#started();
    const payload = Buffer.from(`${this.#nodeId}\n${delivery.json}`, "utf8");
    try {
      if (key !== undefined && this.#window > 0) {
        const { duplicate } = await this.log.appendOnce(CHANNEL_STREAM, payload, key, this.#window);
        if (duplicate) {
          this.stats.duplicates++;
          return false;
        }
      } else await this.log.append(CHANNEL_STREAM, payload);
    } catch (err) {
      this.stats.failed++;
      throw new ChannelLogError(err);
    }
    this.stats.appended++;
    return true;
  }

  /**
   * What an adopted session missed: the entries after `floor` up to this
   * node's position whose channel `matches`, handed to `commit` in log order
   * synchronously with the moment this node's position is that far, so that
   * a session subscribed in `commit` gets every later entry live and none
   * twice. A floor lost to trimming (or of an older epoch) reads every entry
   * the log still holds; with no floor at all nothing is replayed (what the
   * client saw is unknown, and old messages must not surface).
   */
  async catchUp(
    floor: string | undefined,
    matches: (channel: string) => boolean,
    commit: (missed: Delivery[]) => void,
  ): Promise<void> {
    await this.#started();
    const log = this.log;
    const missed: Delivery[] = [];
    if (floor === undefined) {
      commit(missed);
      return;
    }
    // Incomparable offsets (another epoch) count as "past": the catch-up stops there.
    const past = (a: string, b: string): boolean => (log.compare(a, b) ?? 1) > 0;
    let after: string = floor;
    for (let reads = 0; reads < CATCH_UP_READS; reads++) {
      let found = await this.#reader.read(CHANNEL_STREAM, after);
      if (found.status === "gap") {
        // Trimmed past the floor, or another epoch: what the log holds is all after it.
        debug("adoption floor %s is gone from the channel log: reading what it holds", after);
        const all = await this.#reader.read(CHANNEL_STREAM, null);
        const from = after;
        const entries = all.entries.filter((e) => past(e.offset, from));
        found = { status: "complete", entries };
      }
      // From here to `commit` nothing awaits: the position cannot move in between.
      const position = this.#position;
      let reached = position === undefined;
      for (const entry of found.entries) {
        if (position !== undefined && past(entry.offset, position)) {
          reached = true;
          break;
        }
        after = entry.offset;
        const delivery = this.#decode(entry);
        if (delivery !== null && matches(delivery.message.channel)) missed.push(delivery);
      }
      // Caught up: at the position, or it is of another epoch than what was read.
      if (reached || (log.compare(position as string, after) ?? 0) <= 0) {
        commit(missed);
        return;
      }
      // The follow is past what the read found (appended since): read on from there.
    }
    this.#logger.warn(
      { stream: CHANNEL_STREAM },
      "adoption could not catch up with this node's follow: later entries may be missed",
    );
    commit(missed);
  }

  /** Resolves once the follow started; rejects with {@link ChannelLogError} after `startWait`. */
  #started(): Promise<void> {
    if (this.#position !== undefined) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ChannelLogError("the log follow did not start")),
        this.#startWait,
      );
    });
    return Promise.race([this.#follower.ready, late]).finally(() => clearTimeout(timer));
  }

  /** Stops the follow. */
  close(): void {
    this.#follower.close();
  }

  #entries(batch: LogEntry[]): void {
    for (const entry of batch) {
      this.#position = entry.offset;
      const delivery = this.#decode(entry);
      if (delivery === null) continue;
      this.stats.followed++;
      this.#deliver(delivery);
    }
  }

  /** An entry as a delivery (origin and offset set), or null when it does not decode. */
  #decode(entry: LogEntry): Delivery | null {
    const text = entry.payload.toString("utf8");
    const newline = text.indexOf("\n");
    let message: BayeuxMessage | undefined;
    if (newline > 0) {
      try {
        message = JSON.parse(text.slice(newline + 1)) as BayeuxMessage;
      } catch {
        message = undefined;
      }
    }
    if (message === null || typeof message !== "object" || typeof message.channel !== "string") {
      this.stats.malformed++;
      const suppressed = this.#malformedWarnings.take();
      if (suppressed >= 0) {
        this.#logger.warn(
          { stream: CHANNEL_STREAM, offset: entry.offset, suppressed },
          "dropping a channel log entry that does not decode",
        );
      }
      return null;
    }
    const origin = text.slice(0, newline);
    const delivery = Delivery.fromJson(
      message,
      text.slice(newline + 1),
      origin === this.#nodeId ? undefined : origin,
    );
    delivery.offset = entry.offset;
    return delivery;
  }
}
