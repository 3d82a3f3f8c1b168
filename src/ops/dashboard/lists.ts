/**
 * The dashboard's two lists on one node: Socket.IO sockets and Bayeux
 * sessions, searched by a substring of the id or of a room / channel name,
 * paged by offset and limit, in a stable order (namespaces in creation order,
 * then sockets in connection order; sessions in handshake order).
 *
 * Cost, the reason for the shape: without a search, a page walks only the
 * entries up to its end (`offset + limit`; whole namespaces before the page
 * are skipped by their size), and `total` is a sum of sizes. With a search,
 * every entry is tested once (its id and its rooms or channels), so the
 * total is exact: at 100k sockets that is one pass of substring tests, a few
 * milliseconds, and only when an operator searches. `scanned` tells how many
 * entries a call touched; the tests hold it to those bounds.
 */
import type { BayeuxServer } from "../../bayeux/server/server.js";
import type { Server } from "../../socketio/server.js";
import type { Socket } from "../../socketio/socket.js";

/** Most rooms or channels an item lists (its count says how many there are). */
export const NAMES_PER_ITEM = 10;
/** Largest page. */
export const MAX_LIMIT = 100;
/** Page size when none is asked for. */
export const DEFAULT_LIMIT = 25;
/** Longest search string. */
export const MAX_QUERY = 200;

export interface ListQuery {
  /** Substring of the id or of a room / channel name; empty: everything. */
  q: string;
  offset: number;
  limit: number;
}

export interface ListPage<T> {
  /** Entries matching the query on this node. */
  total: number;
  items: T[];
  /** Entries this call touched (its cost). */
  scanned: number;
}

/** A Socket.IO socket as the list shows it. */
export interface SocketItem {
  id: string;
  nsp: string;
  transport: string;
  /** Its rooms without its own private room, at most {@link NAMES_PER_ITEM}. */
  rooms: string[];
  roomCount: number;
  address: string;
  /** Epoch ms of the connection. */
  connectedAt: number;
  node: string;
}

/** A Bayeux session as the list shows it. */
export interface SessionItem {
  clientId: string;
  /** The connection type of its last `/meta/connect` (`pending` before the first). */
  transport: string;
  /** At most {@link NAMES_PER_ITEM}. */
  subscriptions: string[];
  subscriptionCount: number;
  /** Deliveries waiting to be sent. */
  queued: number;
  node: string;
}

/** One group of entries in the list order, with a size known without walking it. */
interface Group<E> {
  size: number;
  entries(): Iterable<E>;
}

/**
 * The window `[offset, offset + limit)` of the entries of `groups` that
 * `matches` accepts (all when it is undefined).
 */
function page<E, T>(
  groups: Iterable<Group<E>>,
  query: ListQuery,
  matches: ((entry: E) => boolean) | undefined,
  toItem: (entry: E) => T,
): ListPage<T> {
  const end = query.offset + query.limit;
  const items: T[] = [];
  let total = 0;
  let scanned = 0;
  if (matches === undefined) {
    let position = 0;
    for (const group of groups) {
      total += group.size;
      if (position + group.size <= query.offset || position >= end) {
        position += group.size;
        continue;
      }
      for (const entry of group.entries()) {
        scanned++;
        if (position >= query.offset) items.push(toItem(entry));
        // Stops on the page's last entry: the next one is never pulled.
        if (++position >= end) break;
      }
      position = total;
    }
    return { total, items, scanned };
  }
  for (const group of groups) {
    for (const entry of group.entries()) {
      scanned++;
      if (!matches(entry)) continue;
      if (total >= query.offset && total < end) items.push(toItem(entry));
      total++;
    }
  }
  return { total, items, scanned };
}

/** The names of a router entry (a lone name is stored without a Set). */
function namesOf(entry: string | ReadonlySet<string> | undefined): Iterable<string> {
  if (entry === undefined) return [];
  return typeof entry === "string" ? [entry] : entry;
}

// biome-ignore lint/suspicious/noExplicitAny: any socket typing.
type AnySocket = Socket<any, any, any, any>;

/** A socket's rooms: the in-memory adapter's own map when there is one, else `socketRooms`. */
function roomsOf(socket: AnySocket): Iterable<string> {
  const adapter = socket.nsp.adapter as {
    router?: { subscriptions: Map<string, string | Set<string>> };
    socketRooms?(id: string): Set<string> | undefined;
  };
  if (adapter.router !== undefined) return namesOf(adapter.router.subscriptions.get(socket.id));
  return namesOf(adapter.socketRooms?.(socket.id));
}

function firstNames(names: Iterable<string>, skip: string | undefined): [string[], number] {
  const shown: string[] = [];
  let count = 0;
  for (const name of names) {
    if (name === skip) continue;
    count++;
    if (shown.length < NAMES_PER_ITEM) shown.push(name);
  }
  return [shown, count];
}

function anyIncludes(names: Iterable<string>, q: string): boolean {
  for (const name of names) if (name.includes(q)) return true;
  return false;
}

/** A page of this node's Socket.IO sockets. */
// biome-ignore lint/suspicious/noExplicitAny: any server typing.
export function listSockets(io: Server<any, any, any, any>, query: ListQuery, node: string) {
  const groups: Group<AnySocket>[] = [];
  for (const nsp of io._nsps.values()) {
    groups.push({ size: nsp.sockets.size, entries: () => nsp.sockets.values() });
  }
  const q = query.q;
  const matches =
    q === "" ? undefined : (s: AnySocket) => s.id.includes(q) || anyIncludes(roomsOf(s), q);
  return page<AnySocket, SocketItem>(groups, query, matches, (socket) => {
    const [rooms, roomCount] = firstNames(roomsOf(socket), socket.id);
    const handshake = socket.handshake;
    return {
      id: socket.id,
      nsp: socket.nsp.name,
      transport: socket.conn.transport.name,
      rooms,
      roomCount,
      address: handshake.address,
      connectedAt: handshake.issued,
      node,
    };
  });
}

interface SessionEntry {
  clientId: string;
  session: ReturnType<BayeuxServer["getSession"]>;
}

/** A page of this node's Bayeux sessions. */
export function listSessions(bayeux: BayeuxServer, query: ListQuery, node: string) {
  const group: Group<SessionEntry> = {
    size: bayeux.sessionCount,
    *entries() {
      for (const clientId of bayeux.clientIds()) {
        yield { clientId, session: bayeux.getSession(clientId) };
      }
    },
  };
  const q = query.q;
  const matches =
    q === ""
      ? undefined
      : (e: SessionEntry) =>
          e.clientId.includes(q) ||
          (e.session !== undefined && anyIncludes(e.session.subscriptions, q));
  return page<SessionEntry, SessionItem>([group], query, matches, ({ clientId, session }) => {
    const [subscriptions, subscriptionCount] = firstNames(session?.subscriptions ?? [], undefined);
    return {
      clientId,
      transport: session?.connectionType || "pending",
      subscriptions,
      subscriptionCount,
      queued: session?.queued ?? 0,
      node,
    };
  });
}

/** An empty page (a node without the protocol). */
export function emptyPage<T>(): ListPage<T> {
  return { total: 0, items: [], scanned: 0 };
}

/**
 * Reads `q`, `offset` and `limit` of a query string; out-of-range values are
 * clamped (limit 1..{@link MAX_LIMIT}, offset >= 0), a long `q` cut.
 */
export function parseListQuery(params: URLSearchParams): ListQuery {
  const int = (name: string, fallback: number): number => {
    const raw = params.get(name);
    if (raw === null || !/^\d{1,9}$/.test(raw)) return fallback;
    return Number(raw);
  };
  return {
    q: (params.get("q") ?? "").slice(0, MAX_QUERY),
    offset: int("offset", 0),
    limit: Math.min(MAX_LIMIT, Math.max(1, int("limit", DEFAULT_LIMIT))),
  };
}
