/**
 * The `long-polling` connection type: each batch is the body of an HTTP
 * `POST` with `Content-Type: application/json`, and the response body is the
 * reply batch. The server holds a request carrying `/meta/connect` until it
 * has messages or `advice.timeout` runs out (Bayeux 1.0 section 3.2 and
 * appendix "long-polling"), so the client sends `/meta/connect` in a request
 * of its own and everything else in others alongside.
 */
import { BayeuxTransportError } from "./errors.js";
import { parseBatch, TransportBase } from "./transport.js";
import type { BayeuxMessage } from "./types.js";

export class LongPollingTransport extends TransportBase {
  readonly connectionType = "long-polling" as const;
  #requests = new Set<AbortController>();

  send(messages: BayeuxMessage[], timeout: number): void {
    const { clock, host } = this.ctx;
    const doFetch = this.ctx.fetch ?? globalThis.fetch;
    const controller = new AbortController();
    this.#requests.add(controller);
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    const done = () => {
      clock.clearTimeout(timer);
      this.#requests.delete(controller);
    };
    doFetch(this.ctx.url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(messages),
      signal: controller.signal,
      credentials: this.ctx.withCredentials ? "include" : "same-origin",
      cache: "no-store",
    })
      .then(async (response) => {
        const text = await response.text();
        if (response.status !== 200) {
          throw new BayeuxTransportError(`HTTP ${response.status}`, { status: response.status });
        }
        return parseBatch(text);
      })
      .then(
        (batch) => {
          done();
          if (this.closed) return;
          this.deliver(batch);
        },
        (cause: unknown) => {
          done();
          if (this.closed) return;
          const error =
            cause instanceof BayeuxTransportError
              ? cause
              : new BayeuxTransportError(
                  timedOut
                    ? `no response within ${timeout} ms`
                    : `request failed: ${String(cause)}`,
                  { cause },
                );
          host.failed(this, messages, error);
        },
      );
  }

  override close(): void {
    super.close();
    for (const controller of this.#requests) controller.abort();
    this.#requests.clear();
  }
}
