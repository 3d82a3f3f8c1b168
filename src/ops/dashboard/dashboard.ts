/**
 * The live dashboard: a page and a small JSON API showing a node's, or the
 * whole cluster's, connections, traffic, top rooms and channels, slow
 * consumers and recent errors, and the sockets and sessions themselves (with
 * a disconnect action). Off unless created: a library user mounts it with
 * `handle()` next to their own routes; the standalone server does it at
 * `/dashboard`.
 *
 * The page pulls: it asks every 2 s and the server answers from counters
 * (one snapshot a second at most, however many pages ask; a stats poll never
 * walks the socket or session lists), lists are paged on the server
 * with a capped page size, and cluster answers come from each node's own
 * dashboard through the hub with a bounded timeout. See access.ts for who
 * may see it and lists.ts for what a list request costs.
 *
 * @example
 * const dashboard = new Dashboard({ io, bayeux, token: process.env.DASHBOARD_TOKEN });
 * http.createServer((req, res) => {
 *   if (dashboard.handle(req, res)) return;
 *   app(req, res);
 * });
 * // open http://host:port/dashboard?token=<token> once; a cookie keeps you in
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BayeuxServer } from "../../bayeux/server/server.js";
import type { Hub } from "../../core/index.js";
import { isUnderPrefix, normalizePrefix, requestPath } from "../../mount/path.js";
import type { Server } from "../../socketio/server.js";
import { nodeStats } from "../node-stats.js";
import type { NodeStats, StatsSource } from "../stats.js";
import { Access } from "./access.js";
import { Assets, isAsset } from "./assets.js";
import { listAcrossNodes } from "./cluster-list.js";
import { DASHBOARD_ERRORS, DashboardError, DashboardMethodError } from "./errors.js";
import { HISTORY_SIZE, History, SAMPLE_EVERY } from "./history.js";
import { readJsonBody, sendError, sendJson } from "./http.js";
import {
  DashboardLink,
  type DisconnectProtocol,
  type ListKind,
  type LocalNode,
  type NodeReport,
} from "./link.js";
import {
  emptyPage,
  type ListPage,
  type ListQuery,
  listSessions,
  listSockets,
  parseListQuery,
} from "./lists.js";
import { type ClusterStats, sumStats } from "./sum.js";

/** Default ms a cluster answer waits for the other nodes. */
export const CLUSTER_TIMEOUT = 2000;
/**
 * Ms one snapshot of the node's figures is reused: however many pages poll
 * (and other nodes ask), the stats source is read at most once in that time.
 */
const SNAPSHOT_REUSE = 1000;
/** Largest body of a POST. */
const MAX_BODY = 4096;
/** Longest socket id or clientId a disconnect accepts. */
const MAX_ID = 256;

export interface DashboardOptions {
  /** The Socket.IO server whose sockets are listed (and whose hub reaches the other nodes). */
  // biome-ignore lint/suspicious/noExplicitAny: any server typing.
  io?: Server<any, any, any, any> | null;
  /** The Bayeux server whose sessions are listed. */
  bayeux?: BayeuxServer | null;
  /** The node's figures. Default: `nodeStats({ io, bayeux, broker })` (src/ops/node-stats.ts). */
  stats?: StatsSource;
  /**
   * A secret every request must carry (`Authorization: Bearer`, or the cookie
   * set by opening the page with `?token=`). Without one, only loopback peers
   * are served, unless `allowRemote`.
   */
  token?: string;
  /** Where the page and API live. Default `/dashboard`. */
  path?: string;
  /** Without a token, serve any peer (behind your own access control). Default false. */
  allowRemote?: boolean;
  /** Ms a cluster answer waits for the other nodes before calling them missing. Default 2000. */
  clusterTimeout?: number;
  /** Ms between two samples of the traffic history. Default 5000. */
  sampleEvery?: number;
  /** Samples kept (the chart's span is `sampleEvery × historySize`). Default 120 (10 min). */
  historySize?: number;
}

/** The answer of `GET <path>/api/stats`. */
export interface StatsAnswer {
  scope: "node" | "cluster";
  /** The node that answered. */
  node: string;
  /** Whether there are other nodes to ask. */
  clustered: boolean;
  /** Ms between history samples. */
  sampleEvery: number;
  /** Each node's figures and history, this node first. */
  nodes: NodeReport[];
  /** The figures of all of `nodes` together. */
  sum: ClusterStats;
  /** Nodes that did not answer in time (scope cluster). */
  missing: string[];
}

/** The answer of `GET <path>/api/sockets` and `/api/sessions`. */
export interface ListAnswer<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
  missing: string[];
}

function refuse(code: ConstructorParameters<typeof DashboardError>[0], message?: string) {
  return new DashboardError(code, message);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new DashboardError("ERR_DASHBOARD_OPTIONS", `${name} must be a positive integer`);
  }
  return value;
}

export class Dashboard {
  /** The path the page and API are served under. */
  readonly path: string;
  // biome-ignore lint/suspicious/noExplicitAny: any server typing.
  readonly #io: Server<any, any, any, any> | undefined;
  readonly #bayeux: BayeuxServer | undefined;
  readonly #stats: StatsSource;
  readonly #access: Access;
  readonly #assets: Assets;
  readonly #history: History;
  readonly #link: DashboardLink | undefined;
  readonly #node: string;
  readonly #sampleEvery: number;
  #closed = false;

  constructor(options: DashboardOptions) {
    const io = options.io ?? undefined;
    const bayeux = options.bayeux ?? undefined;
    if (io === undefined && bayeux === undefined && options.stats === undefined) {
      throw new DashboardError("ERR_DASHBOARD_OPTIONS", "give the dashboard io, bayeux or stats");
    }
    if (
      options.token !== undefined &&
      (typeof options.token !== "string" || options.token === "")
    ) {
      throw new DashboardError("ERR_DASHBOARD_OPTIONS", "token must be a non-empty string");
    }
    let path: string;
    try {
      path = normalizePrefix(options.path ?? "/dashboard");
    } catch (err) {
      throw new DashboardError(
        "ERR_DASHBOARD_OPTIONS",
        `invalid path ${JSON.stringify(options.path)}`,
        {
          cause: err,
        },
      );
    }
    if (path === "/") throw new DashboardError("ERR_DASHBOARD_OPTIONS", "path may not be /");
    this.path = path;
    this.#io = io;
    this.#bayeux = bayeux;
    const hub: Hub | undefined = io?.hub ?? bayeux?.hub;
    // The name node-stats gives this node too: the broker's id, else the engine's or Bayeux's.
    this.#node = hub?.clustered
      ? hub.nodeId
      : (io?.engine?.nodeId ?? bayeux?.nodeId ?? hub?.nodeId ?? "local");
    this.#stats = sharedSnapshot(
      options.stats ?? nodeStats({ io, bayeux, broker: hub?.broker }),
      SNAPSHOT_REUSE,
    );
    this.#access = new Access({ token: options.token, path, allowRemote: options.allowRemote });
    this.#assets = new Assets(path);
    this.#sampleEvery = positive(options.sampleEvery, SAMPLE_EVERY, "sampleEvery");
    const historySize = positive(options.historySize, HISTORY_SIZE, "historySize");
    const timeout = positive(options.clusterTimeout, CLUSTER_TIMEOUT, "clusterTimeout");
    // Every option checked: from here on nothing throws, so no timer is left behind.
    this.#history = new History(this.#stats, historySize);
    this.#history.start(this.#sampleEvery);
    if (hub?.clustered) {
      this.#link = new DashboardLink(hub, this.#localNode(), timeout);
      this.#link.start();
    }
  }

  /** This node's id in the cluster (`local` without a broker). */
  get node(): string {
    return this.#node;
  }

  /** Whether requests must carry the token (else only loopback peers, or any with `allowRemote`). */
  get tokenRequired(): boolean {
    return this.#access.hasToken;
  }

  /** Stops the history timer and answering other nodes; later requests get 503. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#history.stop();
    this.#link?.stop();
  }

  /**
   * Answers a request under the dashboard path and returns true; returns
   * false, touching nothing, for any other path.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = requestPath(req.url);
    if (path === undefined || !isUnderPrefix(path, this.path)) return false;
    this.#route(path.slice(this.path.length) || "/", req, res).catch((err: unknown) => {
      const refusal = err instanceof DashboardError && err.status > 0 ? err : undefined;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (refusal) {
        const headers: Record<string, string> =
          refusal instanceof DashboardMethodError ? { Allow: refusal.allow } : {};
        sendError(req, res, refusal, headers);
      } else
        sendError(
          req,
          res,
          new DashboardError("ERR_DASHBOARD_INTERNAL", undefined, { cause: err }),
        );
    });
    return true;
  }

  async #route(rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#closed) throw refuse("ERR_DASHBOARD_CLOSED");
    const params = new URL(req.url ?? "/", "http://dashboard.invalid").searchParams;
    const method = req.method ?? "GET";
    const read = method === "GET" || method === "HEAD";
    // The page opened with ?token=: a cookie instead, and the URL without the token.
    if (rest === "/" && read && params.has("token") && this.#access.hasToken) {
      const token = params.get("token") ?? "";
      if (!this.#access.tokenMatches(token)) throw refuse("ERR_DASHBOARD_UNAUTHORIZED");
      params.delete("token");
      const query = params.toString();
      res.writeHead(303, {
        "Set-Cookie": this.#access.cookieFor(req, token),
        Location: `${this.path}/${query === "" ? "" : `?${query}`}`,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "Content-Length": 0,
      });
      res.end();
      return;
    }
    const refusal = this.#access.refusal(req);
    if (refusal) throw refusal;

    if (isAsset(rest)) {
      allow(method, ["GET", "HEAD"]);
      await this.#assets.serve(rest, req, res);
      return;
    }
    switch (rest) {
      case "/api/stats":
        allow(method, ["GET", "HEAD"]);
        sendJson(req, res, 200, await this.stats(scopeOf(params.get("scope"))));
        return;
      case "/api/sockets":
      case "/api/sessions": {
        allow(method, ["GET", "HEAD"]);
        const kind: ListKind = rest === "/api/sockets" ? "sockets" : "sessions";
        const node = params.get("node") || undefined;
        sendJson(req, res, 200, await this.list(kind, parseListQuery(params), node));
        return;
      }
      case "/api/disconnect": {
        allow(method, ["POST"]);
        if (!this.#access.sameOrigin(req)) throw refuse("ERR_DASHBOARD_CROSS_SITE");
        const body = await readJsonBody(req, MAX_BODY);
        const { protocol, id, nsp } = body;
        if (protocol !== "socketio" && protocol !== "bayeux") {
          throw refuse("ERR_DASHBOARD_BAD_REQUEST", 'protocol must be "socketio" or "bayeux"');
        }
        if (typeof id !== "string" || id === "" || id.length > MAX_ID) {
          throw refuse("ERR_DASHBOARD_BAD_REQUEST", "id must be a non-empty string");
        }
        if (nsp !== undefined && typeof nsp !== "string") {
          throw refuse("ERR_DASHBOARD_BAD_REQUEST", "nsp must be a string");
        }
        const result = await this.disconnect(protocol, id, nsp);
        if (result.node === undefined) {
          sendJson(req, res, 404, {
            error: {
              code: "ERR_DASHBOARD_GONE",
              message: DASHBOARD_ERRORS.ERR_DASHBOARD_GONE.message,
            },
            missing: result.missing,
          });
          return;
        }
        sendJson(req, res, 200, { disconnected: true, protocol, id, node: result.node });
        return;
      }
      default:
        throw refuse("ERR_DASHBOARD_NOT_FOUND");
    }
  }

  /** This node's figures and history. */
  report(): NodeReport {
    return { node: this.#node, stats: this.#stats.snapshot(), history: this.#history.samples() };
  }

  /** What `GET <path>/api/stats?scope=` answers. */
  async stats(scope: "node" | "cluster" = "node"): Promise<StatsAnswer> {
    const nodes = [this.report()];
    let missing: string[] = [];
    if (scope === "cluster" && this.#link) {
      const others = await this.#link.reports();
      others.answers.sort((a, b) => (a.node < b.node ? -1 : 1));
      nodes.push(...others.answers);
      missing = others.missing;
    }
    const sum = sumStats(nodes.map((n) => n.stats));
    return {
      scope,
      node: this.#node,
      clustered: this.#link !== undefined,
      sampleEvery: this.#sampleEvery,
      // The topic tables made the sum; the page gets each node's top lists only.
      nodes: nodes.map((n) => ({ ...n, stats: { ...n.stats, topics: undefined } })),
      sum,
      missing,
    };
  }

  /**
   * A page of the sockets or sessions of `node`, or of the whole cluster
   * (nodes in id order) when `node` is undefined.
   */
  async list(kind: ListKind, query: ListQuery, node?: string): Promise<ListAnswer<unknown>> {
    const answer = (page: ListPage<unknown>, missing: string[]): ListAnswer<unknown> => ({
      total: page.total,
      offset: query.offset,
      limit: query.limit,
      items: page.items,
      missing,
    });
    const link = this.#link;
    if (node === this.#node || (node === undefined && link === undefined)) {
      return answer(this.#listLocal(kind, query), []);
    }
    if (link === undefined) return answer(emptyPage(), []);
    if (node !== undefined) {
      const { answers, missing } = await link.list(kind, query, node);
      return answer(answers[0]?.page ?? emptyPage(), missing);
    }
    const { page, missing } = await listAcrossNodes(link, this.#localNode(), kind, query);
    return answer(page, missing);
  }

  /**
   * Disconnects a Socket.IO socket (in `nsp`, or whichever namespace holds
   * it) or ends a Bayeux session, on this node or on the node that holds it.
   * Resolves with that node, or undefined when no node answered that it did.
   */
  async disconnect(
    protocol: DisconnectProtocol,
    id: string,
    nsp?: string,
  ): Promise<{ node: string | undefined; missing: string[] }> {
    if (this.#disconnectLocal(protocol, id, nsp)) return { node: this.#node, missing: [] };
    if (this.#link === undefined) return { node: undefined, missing: [] };
    const { answers, missing } = await this.#link.disconnect(protocol, id, nsp);
    return { node: answers[0], missing };
  }

  #listLocal(kind: ListKind, query: ListQuery): ListPage<unknown> {
    if (kind === "sockets") {
      return this.#io ? listSockets(this.#io, query, this.#node) : emptyPage();
    }
    return this.#bayeux ? listSessions(this.#bayeux, query, this.#node) : emptyPage();
  }

  #disconnectLocal(protocol: DisconnectProtocol, id: string, nsp: string | undefined): boolean {
    if (protocol === "bayeux") return this.#bayeux?.disconnectClient(id) === true;
    const io = this.#io;
    if (io === undefined) return false;
    const namespaces = nsp === undefined ? [...io._nsps.values()] : [io._nsps.get(nsp)];
    for (const namespace of namespaces) {
      const socket = namespace?.sockets.get(id);
      if (socket) {
        socket.disconnect(true);
        return true;
      }
    }
    return false;
  }

  #localNode(): LocalNode {
    return {
      node: this.#node,
      report: () => this.report(),
      list: (kind, query) => this.#listLocal(kind, query),
      disconnect: (protocol, id, nsp) => this.#disconnectLocal(protocol, id, nsp),
    };
  }
}

/** A source answering the same snapshot for `ms` after reading one. */
function sharedSnapshot(source: StatsSource, ms: number): StatsSource {
  let last: NodeStats | undefined;
  let at = 0;
  return {
    snapshot() {
      const now = Date.now();
      if (last === undefined || now - at >= ms || now < at) {
        last = source.snapshot();
        at = now;
      }
      return last;
    },
  };
}

/** Throws 405 unless `method` is one of `allowed`. */
function allow(method: string, allowed: string[]): void {
  if (!allowed.includes(method)) {
    throw new DashboardMethodError(allowed);
  }
}

function scopeOf(value: string | null): "node" | "cluster" {
  if (value === null || value === "" || value === "node") return "node";
  if (value === "cluster") return "cluster";
  throw new DashboardError("ERR_DASHBOARD_BAD_REQUEST", 'scope must be "node" or "cluster"');
}
