/**
 * The dashboard's conversation with the other nodes, over the hub's
 * request/response (the hub is the one place that knows other nodes). Every
 * node with a dashboard answers on one topic: its snapshot and history
 * (`s`), a page of one of its lists (`l`, only the node the request names
 * answers, or every node for a count), and a disconnect (`x`, answered only
 * by the node that held the connection). Each request waits at most its
 * timeout; nodes that did not answer come back in `missing`, so a dead or
 * slow node makes a partial answer, never a hang. A node without a
 * dashboard answers nothing and is simply absent.
 */
import type { DecodedEnvelope, Envelope, Hub } from "../../core/index.js";
import type { NodeStats } from "../stats.js";
import type { Sample } from "./history.js";
import type { ListPage, ListQuery } from "./lists.js";

/** The hub topic the dashboards of a cluster answer on. */
export const DASHBOARD_TOPIC = "ops/dashboard";

export type ListKind = "sockets" | "sessions";
export type DisconnectProtocol = "socketio" | "bayeux";

/** One node's figures as the page gets them. */
export interface NodeReport {
  node: string;
  stats: NodeStats;
  history: Sample[];
}

/** What a node can tell and do, as the link asks it. */
export interface LocalNode {
  readonly node: string;
  report(): NodeReport;
  list(kind: ListKind, query: ListQuery): ListPage<unknown>;
  /** Whether it held (and so disconnected) that connection. */
  disconnect(protocol: DisconnectProtocol, id: string, nsp: string | undefined): boolean;
}

/** Other nodes' answers and the nodes that did not answer in time. */
export interface Gathered<T> {
  answers: T[];
  missing: string[];
}

function json(value: unknown): Envelope {
  return { type: "r", frames: [JSON.stringify(value)] };
}

function parse(envelope: DecodedEnvelope): unknown {
  const frame = envelope.frames[0];
  if (typeof frame !== "string") return undefined;
  try {
    return JSON.parse(frame);
  } catch {
    return undefined;
  }
}

function isKind(value: unknown): value is ListKind {
  return value === "sockets" || value === "sessions";
}

function isProtocol(value: unknown): value is DisconnectProtocol {
  return value === "socketio" || value === "bayeux";
}

function count(value: unknown, max: number): number | undefined {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= max
    ? (value as number)
    : undefined;
}

export class DashboardLink {
  readonly #hub: Hub;
  readonly #local: LocalNode;
  readonly #timeout: number;
  #stop: (() => void) | undefined;

  constructor(hub: Hub, local: LocalNode, timeout: number) {
    this.#hub = hub;
    this.#local = local;
    this.#timeout = timeout;
  }

  /** Whether other nodes can be asked. */
  get clustered(): boolean {
    return this.#hub.clustered;
  }

  /** Starts answering the other nodes' dashboards. */
  start(): void {
    if (this.#stop !== undefined || !this.#hub.clustered) return;
    this.#stop = this.#hub.respond(DASHBOARD_TOPIC, (envelope) => this.#answer(envelope));
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  #answer(envelope: DecodedEnvelope): Envelope | undefined {
    const local = this.#local;
    const header = envelope.header;
    switch (envelope.type) {
      case "s":
        return json(local.report());
      case "l": {
        if (header.node !== undefined && header.node !== local.node) return undefined;
        const offset = count(header.offset, 1e9);
        const limit = count(header.limit, 1000);
        if (!isKind(header.kind) || typeof header.q !== "string") return undefined;
        if (offset === undefined || limit === undefined) return undefined;
        const page = local.list(header.kind, { q: header.q, offset, limit });
        return json({ total: page.total, items: page.items });
      }
      case "x": {
        if (!isProtocol(header.protocol) || typeof header.id !== "string") return undefined;
        const nsp = typeof header.nsp === "string" ? header.nsp : undefined;
        return local.disconnect(header.protocol, header.id, nsp)
          ? { type: "r", header: { done: true }, frames: [] }
          : undefined;
      }
      default:
        return undefined;
    }
  }

  async #ask(envelope: Envelope): Promise<Gathered<{ node: string; body: unknown }>> {
    const { replies, missing } = await this.#hub.request(DASHBOARD_TOPIC, envelope, this.#timeout);
    const answers = replies.map((reply) => ({ node: reply.node, body: parse(reply.envelope) }));
    return { answers, missing };
  }

  /** Every other node's report. */
  async reports(): Promise<Gathered<NodeReport>> {
    const { answers, missing } = await this.#ask({ type: "s", frames: [] });
    const reports: NodeReport[] = [];
    for (const { node, body } of answers) {
      const report = body as NodeReport | undefined;
      if (report && typeof report === "object" && report.stats && Array.isArray(report.history)) {
        reports.push({ node, stats: report.stats, history: report.history });
      }
    }
    return { answers: reports, missing };
  }

  /**
   * A page of `kind` from the other nodes: from `node` only when given
   * (the others stay silent), else from each of them.
   */
  async list(
    kind: ListKind,
    query: ListQuery,
    node?: string,
  ): Promise<Gathered<{ node: string; page: ListPage<unknown> }>> {
    const header: Record<string, unknown> = { kind, ...query };
    if (node !== undefined) header.node = node;
    const { answers, missing } = await this.#ask({ type: "l", header, frames: [] });
    const pages = [];
    for (const { node: from, body } of answers) {
      const page = body as { total?: unknown; items?: unknown } | undefined;
      if (page && typeof page.total === "number" && Array.isArray(page.items)) {
        pages.push({ node: from, page: { total: page.total, items: page.items, scanned: 0 } });
      }
    }
    return {
      answers: pages,
      missing: node === undefined ? missing : missing.filter((m) => m === node),
    };
  }

  /** Asks the other nodes to disconnect a connection; the nodes that did. */
  async disconnect(
    protocol: DisconnectProtocol,
    id: string,
    nsp: string | undefined,
  ): Promise<Gathered<string>> {
    const header: Record<string, unknown> = { protocol, id };
    if (nsp !== undefined) header.nsp = nsp;
    const { replies, missing } = await this.#hub.request(
      DASHBOARD_TOPIC,
      { type: "x", header, frames: [] },
      this.#timeout,
    );
    return {
      answers: replies.filter((r) => r.envelope.header.done === true).map((r) => r.node),
      missing,
    };
  }
}
