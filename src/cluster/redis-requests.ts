/**
 * Requests a Redis broker has in flight: each waits for the nodes it was sent
 * to, keeps their answers, and settles when every node answered, when a node
 * it waits for is gone (it moves to `missing` at once), or on its timeout.
 */
import type { Reply, RequestResult } from "./broker.js";

interface Pending {
  waiting: Set<string>;
  missing: string[];
  replies: Reply[];
  timer: NodeJS.Timeout;
  resolve: (result: RequestResult) => void;
}

export class RequestTable {
  readonly #pending = new Map<number, Pending>();

  /** Starts waiting for `nodes` to answer request `id`. */
  open(id: number, nodes: string[], timeout: number): Promise<RequestResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(id), timeout);
      this.#pending.set(id, { waiting: new Set(nodes), missing: [], replies: [], timer, resolve });
    });
  }

  /** Records `node`'s answer (`undefined`: nothing to say). */
  reply(id: number, node: string, payload: Buffer | undefined): void {
    const pending = this.#pending.get(id);
    if (pending === undefined || !pending.waiting.delete(node)) return;
    if (payload !== undefined) pending.replies.push({ node, payload });
    if (pending.waiting.size === 0) this.finish(id);
  }

  /** `node` left: no request waits for it any more. */
  gone(node: string): void {
    for (const [id, pending] of this.#pending) {
      if (!pending.waiting.delete(node)) continue;
      pending.missing.push(node);
      if (pending.waiting.size === 0) this.finish(id);
    }
  }

  /** Settles request `id` now; the nodes still waited for are missing. */
  finish(id: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.resolve({
      replies: pending.replies,
      missing: [...pending.missing, ...pending.waiting],
    });
  }

  closeAll(): void {
    for (const id of [...this.#pending.keys()]) this.finish(id);
  }
}
