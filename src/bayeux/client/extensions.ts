/**
 * The extension pipeline (Bayeux 1.0 section 3.12.1, "ext"). Outgoing
 * messages pass the extensions in the order they were added, incoming ones
 * too. Hooks may be synchronous (the common case, which stays synchronous
 * here, with no promise per message) or return a promise.
 */
import type { BayeuxExtension, BayeuxMessage, ExtensionResult } from "./types.js";

export type Direction = "incoming" | "outgoing";

/** A message after the pipeline: the message, or `null` when an extension dropped it. */
export type PipelineResult = BayeuxMessage | null;

function isThenable(value: unknown): value is PromiseLike<ExtensionResult> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function settle(result: ExtensionResult, message: BayeuxMessage): PipelineResult {
  if (result === null) return null;
  return result === undefined ? message : result;
}

async function finish(
  list: readonly BayeuxExtension[],
  direction: Direction,
  from: number,
  pending: PromiseLike<ExtensionResult>,
  message: BayeuxMessage,
): Promise<PipelineResult> {
  let current = settle(await pending, message);
  for (let i = from; i < list.length && current; i++) {
    const hook = list[i][direction];
    if (hook) current = settle(await hook.call(list[i], current), current);
  }
  return current;
}

/**
 * Runs `message` through the `direction` hooks of `list`. Returns the
 * result directly when every hook answered synchronously, else a promise.
 *
 * @example
 * const out = runExtensions(extensions, "outgoing", { channel: "/meta/handshake" });
 * const message = out instanceof Promise ? await out : out;
 */
export function runExtensions(
  list: readonly BayeuxExtension[],
  direction: Direction,
  message: BayeuxMessage,
): PipelineResult | Promise<PipelineResult> {
  let current: PipelineResult = message;
  for (let i = 0; i < list.length && current; i++) {
    const hook = list[i][direction];
    if (!hook) continue;
    const result = hook.call(list[i], current);
    if (isThenable(result)) return finish(list, direction, i + 1, result, current);
    current = settle(result, current);
  }
  return current;
}
