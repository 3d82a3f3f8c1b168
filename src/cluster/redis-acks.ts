/**
 * Answers a Redis broker waits for after a HELLO (every node's STATE) or a
 * pattern announcement (every node's ACK), so that `ready()` and a pattern
 * `subscribe()` resolve only once the other nodes know. How many to wait for
 * comes from Redis itself: a publish returns how many connections received
 * it (this node's own included), which also counts nodes not yet heard of.
 * Known nodes may be required on top (a cluster node's count is partial for
 * classic pub/sub). The wait is bounded by a timeout.
 */

interface Pending {
  /** Other connections that received it; unknown until the publish returns. */
  need: number;
  got: Set<string>;
  required: Set<string>;
  done: () => void;
}

export class AckTable {
  readonly #pending = new Map<number, Pending>();

  /**
   * Runs `publish` and waits until `id` was answered by as many nodes as it
   * reached and by every `required` node, or until `timeout` ms passed.
   */
  async wait(
    id: number,
    publish: () => Promise<number>,
    required: Iterable<string>,
    timeout: number,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      const pending: Pending = {
        need: Number.POSITIVE_INFINITY,
        got: new Set(),
        required: new Set(required),
        done: resolve,
      };
      this.#pending.set(id, pending);
      timer = setTimeout(resolve, timeout);
      publish().then(
        (count) => {
          pending.need = Math.max(0, count - 1);
          this.#check(id);
        },
        () => resolve(),
      );
    });
    clearTimeout(timer);
    this.#pending.delete(id);
  }

  /** `node` answered `id`. */
  answered(id: number, node: string): void {
    this.#pending.get(id)?.got.add(node);
    this.#check(id);
  }

  /** `node` is gone: no wait counts on it any more. */
  gone(node: string): void {
    for (const [id, pending] of this.#pending) {
      if (!pending.got.has(node) && pending.need > 0) pending.need--;
      pending.required.delete(node);
      this.#check(id);
    }
  }

  /** Ends every wait now. */
  closeAll(): void {
    for (const pending of this.#pending.values()) pending.done();
  }

  #check(id: number): void {
    const pending = this.#pending.get(id);
    if (pending === undefined || pending.got.size < pending.need) return;
    for (const node of pending.required) if (!pending.got.has(node)) return;
    pending.done();
  }
}
