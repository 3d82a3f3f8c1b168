/**
 * Adoption: a node takes over the session of a clientId whose owner node
 * died, instead of answering `402::Unknown client` (which would make the
 * client handshake again and lose what was queued for it).
 *
 * The owner counts as gone when the broker saw it leave (its goodbye, or
 * missed heartbeats) or when forwarding a request to it was refused (nothing
 * listens at its address any more). The adopting node claims the session
 * record with a compare-and-set of its owner, so of several nodes reached at
 * once one wins; restores the subscriptions the record lists; and, for an
 * ack-extension client, takes up the deliveries the dead owner kept in the
 * ack log, which go out first (the session decides which the client lacks
 * from its next acknowledgement).
 */
import type { Broker } from "../../cluster/broker.js";
import { MemorySessionStore } from "../../cluster/memory-session-store.js";
import type { SessionRecord } from "../../cluster/session-store.js";
import {
  channelMatches,
  isMetaChannel,
  isServiceChannel,
  isSubscribable,
} from "../../codec/bayeux/index.js";
import { createDebug } from "../../shared/debug.js";
import { debugEnabled, type Logger } from "../../shared/logger.js";
import type { ChannelLog } from "./channel-log.js";
import type { ChannelRouter } from "./channels.js";
import type { Delivery } from "./delivery.js";
import type { ResolvedOptions } from "./options.js";
import type { AckState, BayeuxSession, KeptDelivery } from "./session.js";
import type { SessionRecords } from "./session-records.js";
import type { BayeuxStats } from "./stats.js";

const debug = createDebug("bayeux:server");

/** How long a refused forward counts as "the owner is gone", ms. */
const REFUSED_FOR = 10_000;
/** Most refused clientIds remembered. */
const REFUSED_KEPT = 1000;
/** Most departed nodes remembered. */
const DOWN_NODES_KEPT = 1000;

/** What adoption needs from the server. */
export interface AdoptionHost {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly records: SessionRecords;
  readonly router: ChannelRouter;
  readonly channelLog: ChannelLog | null;
  readonly closed: boolean;
  readonly sessionCount: number;
  readonly nodeId: string;
  readonly stats: BayeuxStats;
  getSession(clientId: string): BayeuxSession | undefined;
  emit(event: "adopt", clientId: string, from: string): boolean;
}

export interface AdoptionOptions {
  /** Opens a local session of a clientId (its record already claimed). */
  open(clientId: string): BayeuxSession;
  /** The broker whose departures count as deaths. */
  broker?: Broker;
  /** Whether anything can tell that a node died (a broker, or forwarding). */
  enabled: boolean;
}

export class Adoption {
  readonly #host: AdoptionHost;
  readonly #open: (clientId: string) => BayeuxSession;
  readonly #enabled: boolean;
  /** Nodes the broker saw leave (said goodbye or missed their heartbeats). */
  readonly #downNodes = new Set<string>();
  /** ClientIds whose forward to the owner was refused (connection refused), and when. */
  readonly #refused = new Map<string, number>();
  /** Adoptions under way, so concurrent batches of one client share one. */
  readonly #adopting = new Map<string, Promise<BayeuxSession | undefined>>();
  readonly #stopNodes: (() => void) | null = null;

  constructor(host: AdoptionHost, options: AdoptionOptions) {
    this.#host = host;
    this.#open = options.open;
    this.#enabled = options.enabled;
    if (options.broker) {
      this.#stopNodes = options.broker.onNodes((event, node) => {
        if (event === "up") this.#downNodes.delete(node);
        else {
          // Bounded: the oldest departures are forgotten first.
          if (this.#downNodes.size >= DOWN_NODES_KEPT) {
            this.#downNodes.delete(this.#downNodes.values().next().value as string);
          }
          this.#downNodes.add(node);
        }
      });
    }
  }

  /** Forwarding a request of `clientId` to its owner failed with `err`. */
  unreachable(clientId: string, err: unknown): void {
    const code = (err as { code?: unknown } | null)?.code;
    debug("forward of %s to its owner failed: %s", clientId, code ?? err);
    if (code !== "ECONNREFUSED") return;
    // Bounded: a burst of refusals forgets the older ones (they are only hints).
    if (this.#refused.size >= REFUSED_KEPT) this.#refused.clear();
    this.#refused.set(clientId, Date.now());
  }

  /**
   * The session of `clientId`, taken over when its owner is gone and its
   * record exists: undefined (synchronously) when there is nothing to try;
   * else a promise of the session, or of undefined when it could not be
   * adopted (another node was first, the store failed).
   */
  adopt(clientId: unknown): Promise<BayeuxSession | undefined> | undefined {
    const host = this.#host;
    if (!this.#enabled || host.closed || typeof clientId !== "string" || clientId === "") {
      return undefined;
    }
    if (host.getSession(clientId) !== undefined) return undefined;
    const pending = this.#adopting.get(clientId);
    if (pending !== undefined) return pending;
    const store = host.records.store;
    // A memory store answers now: the common miss (no record) makes no promise.
    if (store instanceof MemorySessionStore && !this.#orphaned(store.getNow(clientId))) {
      return undefined;
    }
    const adopting = this.#adoptNow(clientId).finally(() => this.#adopting.delete(clientId));
    this.#adopting.set(clientId, adopting);
    return adopting;
  }

  /** Stops listening to the broker. */
  close(): void {
    this.#stopNodes?.();
  }

  /** Whether `record` is a session whose owner is known to be gone. */
  #orphaned(record: SessionRecord | undefined): record is SessionRecord {
    if (record === undefined || record.owner === this.#host.nodeId) return false;
    if (this.#downNodes.has(record.owner)) return true;
    const refusedAt = this.#refused.get(record.id);
    return refusedAt !== undefined && Date.now() - refusedAt < REFUSED_FOR;
  }

  async #adoptNow(id: string): Promise<BayeuxSession | undefined> {
    const host = this.#host;
    try {
      const record = await host.records.store.get(id);
      if (!this.#orphaned(record) || host.closed) return undefined;
      if (host.sessionCount >= host.options.maxSessions) {
        host.logger.warn(
          { clientId: id, node: record.owner, max: host.options.maxSessions },
          "adoption refused: maxSessions reached",
        );
        return undefined;
      }
      if (!(await host.records.claim(id, record.owner))) {
        if (debugEnabled(host.logger)) {
          host.logger.debug(
            { clientId: id, node: record.owner },
            "adoption refused: another node adopted the session first",
          );
        }
        return undefined;
      }
      this.#refused.delete(id);
      const ack = ackStateOf(record.data.ack);
      let kept: KeptDelivery[] = [];
      if (ack !== null) {
        kept = await host.records.kept(id).catch((err: unknown) => {
          host.logger.error({ clientId: id, err }, "adoption: cannot read the ack log");
          return [];
        });
      }
      const channels = channelsOf(record.data.subscriptions);
      const open = (missed: readonly Delivery[]): BayeuxSession | undefined => {
        const existing = host.getSession(id);
        if (existing !== undefined || host.closed) return existing;
        const session = this.#open(id);
        session.connected = true;
        if (ack !== null) session.adoptAcks(ack, kept);
        // What no node delivered while the session had no owner, queued after the kept ones.
        for (const delivery of missed) session.deliver(delivery);
        session.adoptSubscriptions(channels);
        for (const channel of channels) host.router.subscribe(session, channel);
        host.stats.adopted++;
        if (debugEnabled(host.logger)) {
          host.logger.debug(
            { clientId: id, node: record.owner, kept: kept.length, replayed: missed.length },
            "session adopted from a dead node",
          );
        }
        host.emit("adopt", id, record.owner);
        return session;
      };
      const log = host.channelLog;
      if (log === null || ack === null) return open([]);
      let adopted: BayeuxSession | undefined;
      const matches = (channel: string) => channels.some((c) => channelMatches(c, channel));
      const floor = floorOf(log, ack, kept);
      debug("session %s: replay after %s (recorded %j)", id, floor, ack);
      try {
        await log.catchUp(floor, matches, (missed) => {
          adopted = open(missed);
        });
      } catch (err) {
        // The record is claimed: the session opens all the same, without the replay.
        host.logger.error({ clientId: id, err }, "adoption: cannot replay the channel log");
        adopted ??= open([]);
      }
      return adopted;
    } catch (err) {
      host.stats.adoptFailed++;
      host.logger.error({ clientId: id, err }, "adoption failed");
      return undefined;
    }
  }
}

/** The ack state of a session record, or null when the session had no acks. */
function ackStateOf(value: unknown): AckState | null {
  const ack = value as Partial<AckState> | null;
  if (ack === null || typeof ack !== "object") return null;
  const { sent, acked, floor, last } = ack;
  if (![sent, acked].every((n) => typeof n === "number" && Number.isSafeInteger(n))) return null;
  const state = { sent, acked } as AckState;
  if (typeof floor === "string" && floor !== "") state.floor = floor;
  if (typeof last === "string" && last !== "") state.last = last;
  return state;
}

/**
 * Where an adopted session's replay starts: past its recorded floor and
 * past every kept delivery (those go out from the ack log, and a delivery
 * kept after the record's last write proves the client was routed that far).
 */
function floorOf(
  log: ChannelLog,
  ack: AckState,
  kept: readonly KeptDelivery[],
): string | undefined {
  let floor = ack.floor;
  for (const { delivery } of kept) {
    const offset = delivery.offset;
    if (offset === undefined) continue;
    if (floor === undefined || (log.log.compare(offset, floor) ?? 1) > 0) floor = offset;
  }
  return floor;
}

/** The subscriptions of a session record, valid ones only. */
function channelsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (c): c is string =>
      typeof c === "string" && isSubscribable(c) && !isMetaChannel(c) && !isServiceChannel(c),
  );
}
