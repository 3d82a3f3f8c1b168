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
import { TimerEntry, type TimerTarget, type TimerWheel } from "../../shared/timer-wheel.js";
import { BayeuxExtensionTimeoutError } from "./errors.js";

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

/**
 * How long an asynchronous hook may take, on the server's one timer wheel:
 * a hook that never calls back must not leave its request waiting forever.
 */
export interface HookGuard {
  readonly wheel: TimerWheel;
  /** Milliseconds (option `extensionTimeout`). */
  readonly timeout: number;
}

type Settle = (message: BayeuxMessage | null) => void;

/**
 * One pending asynchronous hook call: a wheel entry (no `setTimeout`, no
 * closure kept by the wheel) that fails the call when its deadline passes.
 */
class HookCall implements TimerTarget {
  readonly #entry: TimerEntry;
  readonly #wheel: TimerWheel | null;
  readonly #direction: string;
  readonly #channel: string;
  readonly #timeout: number;
  #resolve: Settle | null;
  #reject: ((err: Error) => void) | null;

  constructor(
    guard: HookGuard | null,
    direction: string,
    channel: string,
    resolve: Settle,
    reject: (err: Error) => void,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#direction = direction;
    this.#channel = channel;
    this.#wheel = guard?.wheel ?? null;
    this.#timeout = guard?.timeout ?? 0;
    this.#entry = new TimerEntry(this, 0);
    this.#wheel?.schedule(this.#entry, this.#timeout);
  }

  settle(message: BayeuxMessage | null): void {
    const resolve = this.#resolve;
    if (resolve === null) return;
    this.#done();
    resolve(message);
  }

  fail(err: unknown): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.#done();
    reject(err instanceof Error ? err : new Error(String(err)));
  }

  onTimer(): void {
    this.fail(new BayeuxExtensionTimeoutError(this.#direction, this.#channel, this.#timeout));
  }

  #done(): void {
    this.#resolve = this.#reject = null;
    this.#wheel?.cancel(this.#entry);
  }
}

function runHook(
  hook: Hook,
  message: BayeuxMessage,
  request: IncomingMessage | null,
  direction: string,
  guard: HookGuard | null,
): BayeuxMessage | null | Promise<BayeuxMessage | null> {
  if (hook.length >= 2) {
    return new Promise((resolve, reject) => {
      const call = new HookCall(guard, direction, message.channel, resolve, reject);
      const callback: ExtensionCallback = (result) => call.settle(settle(message, result));
      try {
        if (hook.length >= 3) {
          (hook as (m: BayeuxMessage, r: IncomingMessage | null, c: ExtensionCallback) => void)(
            message,
            request,
            callback,
          );
        } else {
          (hook as unknown as (m: BayeuxMessage, c: ExtensionCallback) => void)(message, callback);
        }
      } catch (err) {
        call.fail(err);
      }
    });
  }
  const result = (hook as (m: BayeuxMessage) => unknown)(message);
  if (result instanceof Promise) {
    return new Promise((resolve, reject) => {
      const call = new HookCall(guard, direction, message.channel, resolve, reject);
      result.then(
        (value) => call.settle(value === undefined ? message : (value as BayeuxMessage | null)),
        (err) => call.fail(err),
      );
    });
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
  guard: HookGuard | null = null,
  start = 0,
): BayeuxMessage | null | Promise<BayeuxMessage | null> {
  for (let i = start; i < extensions.length; i++) {
    if (message === null) return null;
    const hook = extensions[i][direction];
    if (!hook) continue;
    const result = runHook(hook, message, request, direction, guard);
    if (result instanceof Promise) {
      return result.then((next) => pipe(extensions, direction, next, request, guard, i + 1));
    }
    message = result;
  }
  return message;
}
