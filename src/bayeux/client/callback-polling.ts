/**
 * The `callback-polling` connection type, for browsers talking to another
 * origin that offers no CORS: each batch goes in the query string of a
 * `<script>` request, `GET <url>?message=<JSON>&jsonp=<callback>`, and the
 * server answers with JavaScript that calls `<callback>(replies)` (Bayeux
 * 1.0 appendix "callback-polling"). Requests whose URL would exceed
 * `maxUrlLength` are split into smaller batches.
 */
import { BayeuxTransportError } from "./errors.js";
import { TransportBase } from "./transport.js";
import type { BayeuxMessage, TimerHandle } from "./types.js";

/** Default longest URL; old browsers and many proxies refuse longer ones. */
export const DEFAULT_MAX_URL_LENGTH = 2000;

type CallbackTable = Record<string, ((payload: unknown) => void) | undefined>;

let sequence = 0;

/** Whether this runtime can load scripts (a browser document). */
export function canLoadScripts(): boolean {
  return typeof document !== "undefined" && typeof document.createElement === "function";
}

export class CallbackPollingTransport extends TransportBase {
  readonly connectionType = "callback-polling" as const;
  #live = new Map<string, () => void>();

  protected override openConnection(): Promise<void> {
    if (!canLoadScripts()) {
      return Promise.reject(new BayeuxTransportError("callback-polling needs a browser document"));
    }
    return Promise.resolve();
  }

  #urlFor(messages: readonly BayeuxMessage[], callback: string): string {
    const base = this.ctx.url;
    const separator = base.includes("?") ? "&" : "?";
    const message = encodeURIComponent(JSON.stringify(messages));
    return `${base}${separator}message=${message}&jsonp=${callback}`;
  }

  send(messages: BayeuxMessage[], timeout: number): void {
    const callback = `__switchboardBayeux${++sequence}`;
    const url = this.#urlFor(messages, callback);
    const max = this.ctx.maxUrlLength ?? DEFAULT_MAX_URL_LENGTH;
    if (url.length > max && messages.length > 1) {
      const half = Math.ceil(messages.length / 2);
      this.send(messages.slice(0, half), timeout);
      this.send(messages.slice(half), timeout);
      return;
    }
    const { host, clock } = this.ctx;
    if (url.length > max) {
      queueMicrotask(() =>
        host.failed(
          this,
          messages,
          new BayeuxTransportError(`message too long for a URL (${url.length} > ${max})`),
        ),
      );
      return;
    }
    const table = globalThis as unknown as CallbackTable;
    const script = document.createElement("script");
    let timer: TimerHandle = null;
    const cleanup = () => {
      clock.clearTimeout(timer);
      this.#live.delete(callback);
      // A late response must still find a function, or the page logs a ReferenceError.
      table[callback] = () => {
        table[callback] = undefined;
      };
      script.onerror = null;
      script.parentNode?.removeChild(script);
    };
    const fail = (reason: string) => {
      cleanup();
      if (!this.closed) host.failed(this, messages, new BayeuxTransportError(reason));
    };
    table[callback] = (payload: unknown) => {
      cleanup();
      if (this.closed) return;
      if (payload === null || typeof payload !== "object") {
        host.failed(this, messages, new BayeuxTransportError("callback got no batch"));
        return;
      }
      this.deliver(Array.isArray(payload) ? payload : [payload]);
    };
    timer = clock.setTimeout(() => fail(`no response within ${timeout} ms`), timeout);
    script.onerror = () => fail("script request failed");
    script.async = true;
    script.src = url;
    this.#live.set(callback, cleanup);
    (document.head ?? document.documentElement).appendChild(script);
  }

  override close(): void {
    super.close();
    for (const cleanup of this.#live.values()) cleanup();
    this.#live.clear();
  }
}
