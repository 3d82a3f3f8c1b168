/**
 * The extension pipeline, in Faye's shape: an extension has `incoming` and
 * `outgoing` hooks that see each message (and the HTTP request, or null for
 * in-process traffic). A hook may mutate the message and return nothing,
 * return a replacement, return a promise of one, or take a callback:
 * `(message, callback)` or `(message, request, callback)`. Passing `null` to
 * the callback (or returning `null`) drops the message. Setting
 * `message.error` in `incoming` rejects it: the client gets that error.
 */
import type { IncomingMessage } from "node:http";
import type { BayeuxMessage } from "../../codec/bayeux/index.js";

export type ExtensionCallback = (message: BayeuxMessage | null) => void;

/**
 * An extension hook. A hook declared with three parameters is called as
 * `(message, request, callback)`; with two (Faye's JavaScript form) as
 * `(message, callback)`; with one or none it is synchronous and returns the
 * message, a replacement, `null` to drop, or nothing to keep the message as
 * (possibly) mutated. A returned promise is awaited.
 */
export type ExtensionHook = (
  message: BayeuxMessage,
  request: IncomingMessage | null,
  callback: ExtensionCallback,
) => unknown;
type Hook = ExtensionHook;

/**
 * @example
 * server.addExtension({
 *   incoming(message, request, callback) {
 *     if (message.channel === "/meta/subscribe" && !message.ext?.token) {
 *       message.error = "403::Token required";
 *     }
 *     callback(message);
 *   },
 * });
 */
export interface BayeuxExtension {
  incoming?: Hook;
  outgoing?: Hook;
  /** Called when the extension is added to a server. */
  added?(server: unknown): void;
  /** Called when the extension is removed or the server closes. */
  removed?(server: unknown): void;
}

// Anything but an object (or null, to drop) keeps the message as mutated.
function settle(message: BayeuxMessage, value: unknown): BayeuxMessage | null {
  if (value === null) return null;
  return typeof value === "object" ? (value as BayeuxMessage) : message;
}

function runHook(
  hook: Hook,
  message: BayeuxMessage,
  request: IncomingMessage | null,
): BayeuxMessage | null | Promise<BayeuxMessage | null> {
  if (hook.length >= 2) {
    return new Promise((resolve) => {
      let done = false;
      const callback: ExtensionCallback = (result) => {
        if (done) return;
        done = true;
        resolve(settle(message, result));
      };
      if (hook.length >= 3) {
        (hook as (m: BayeuxMessage, r: IncomingMessage | null, c: ExtensionCallback) => void)(
          message,
          request,
          callback,
        );
      } else {
        (hook as unknown as (m: BayeuxMessage, c: ExtensionCallback) => void)(message, callback);
      }
    });
  }
  const result = (hook as (m: BayeuxMessage) => unknown)(message);
  if (result instanceof Promise) {
    return result.then((value) =>
      value === undefined ? message : (value as BayeuxMessage | null),
    );
  }
  return result === undefined ? message : (result as BayeuxMessage | null);
}

/**
 * Passes `message` through the `direction` hook of each extension in order.
 * Stays synchronous while every hook is: the common no-extension path makes
 * no promise.
 */
export function pipe(
  extensions: readonly BayeuxExtension[],
  direction: "incoming" | "outgoing",
  message: BayeuxMessage | null,
  request: IncomingMessage | null,
  start = 0,
): BayeuxMessage | null | Promise<BayeuxMessage | null> {
  for (let i = start; i < extensions.length; i++) {
    if (message === null) return null;
    const hook = extensions[i][direction];
    if (!hook) continue;
    const result = runHook(hook, message, request);
    if (result instanceof Promise) {
      return result.then((next) => pipe(extensions, direction, next, request, i + 1));
    }
    message = result;
  }
  return message;
}
