/**
 * CometD test helpers: the CometD client reports replies through callbacks;
 * `call` turns one into a promise with a deadline.
 */
import type { Message } from "cometd";

/**
 * Resolves with the reply `register` delivers to its callback, or rejects
 * after `ms`.
 *
 * @example
 * const reply = await call((done) => cometd.handshake(done));
 */
export function call(
  register: (callback: (m: Message) => void) => void,
  ms = 5000,
): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reply in time")), ms);
    register((message) => {
      clearTimeout(timer);
      resolve(message);
    });
  });
}
