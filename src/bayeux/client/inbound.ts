/**
 * The receiving side: each batch from a transport is checked message by
 * message (a malformed one is skipped, its neighbours kept), passed through
 * the incoming extensions, then handed on in order. A message nested deeper
 * than `maxPayloadDepth` is dropped and reported (`ERR_BAYEUX_TOO_DEEP`):
 * user code would overflow the stack the moment it copied or re-encoded it.
 * The check walks the parsed value (every transport parses on its own, JSONP
 * included) and stops at the limit. Once an extension
 * answers asynchronously, later messages wait behind it so that deliveries
 * keep their order.
 */
import {
  BayeuxParseError,
  bayeuxError,
  checkMessage,
  DEFAULT_MAX_PAYLOAD_DEPTH,
  valueDepthExceeds,
} from "../../codec/bayeux/index.js";
import { BayeuxTransportError } from "./errors.js";
import { runExtensions } from "./extensions.js";
import type { LogFn } from "./logger.js";
import type { BayeuxExtension, BayeuxMessage } from "./types.js";

export class InboundPipeline {
  readonly #extensions: readonly BayeuxExtension[];
  readonly #handle: (message: BayeuxMessage) => void;
  readonly #report: (error: Error) => void;
  readonly #log: LogFn;
  readonly #maxDepth: number;
  #chain: Promise<void> | null = null;

  constructor(
    extensions: readonly BayeuxExtension[],
    handle: (message: BayeuxMessage) => void,
    report: (error: Error) => void,
    log: LogFn,
    maxPayloadDepth = DEFAULT_MAX_PAYLOAD_DEPTH,
  ) {
    this.#extensions = extensions;
    this.#handle = handle;
    this.#report = report;
    this.#log = log;
    this.#maxDepth = maxPayloadDepth;
  }

  receive(batch: readonly unknown[]): void {
    for (const raw of batch) {
      if (valueDepthExceeds(raw, this.#maxDepth)) {
        this.#report(
          new BayeuxParseError(
            "ERR_BAYEUX_TOO_DEEP",
            `message nested deeper than ${this.#maxDepth} levels`,
            bayeuxError("badRequest", [], "Message nested too deeply"),
          ),
        );
        continue;
      }
      const message = checkMessage(raw);
      if (typeof message === "string") {
        const refusal = raw as { successful?: unknown; error?: unknown } | null;
        if (refusal && refusal.successful === false && typeof refusal.error === "string") {
          // A refusal of a whole batch (too long, not JSON) names no request.
          this.#report(new BayeuxTransportError(`server refused a batch: ${refusal.error}`));
        } else {
          this.#log("ignored malformed message (%s)", message);
        }
        continue;
      }
      if (this.#chain) {
        this.#enqueue(this.#chain.then(() => this.#incoming(message)));
        continue;
      }
      const out = runExtensions(this.#extensions, "incoming", message);
      if (out instanceof Promise) this.#enqueue(out.then((m) => (m ? this.#handle(m) : undefined)));
      else if (out) this.#handle(out);
    }
  }

  #enqueue(step: Promise<void>): void {
    const chain = step.catch((err) => this.#report(err as Error));
    this.#chain = chain;
    chain.then(() => {
      if (this.#chain === chain) this.#chain = null;
    });
  }

  async #incoming(message: BayeuxMessage): Promise<void> {
    const out = await runExtensions(this.#extensions, "incoming", message);
    if (out) this.#handle(out);
  }
}
