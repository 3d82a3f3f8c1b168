/**
 * Runs a list of `(subject, next)` middlewares in order, as socket.io does for
 * namespace (connection) and socket (packet) middlewares: each one calls
 * `next()` to pass on or `next(err)` to stop; a middleware that throws stops
 * the chain with what it threw.
 */

/** A middleware: `next()` passes to the following one, `next(err)` ends the chain. */
export type ChainMiddleware<Subject, Err extends Error = Error> = (
  subject: Subject,
  next: (err?: Err) => void,
) => void;

/**
 * Runs `fns` over `subject`, then calls `done` once: with no argument when
 * every middleware passed, else with the first error. The list is copied
 * first, so a middleware added while the chain runs waits for the next one.
 *
 * @example
 * runMiddlewares(nsp._fns, socket, (err) => (err ? refuse(err) : admit(socket)));
 */
export function runMiddlewares<Subject, Err extends Error>(
  fns: readonly ChainMiddleware<Subject, Err>[],
  subject: Subject,
  done: (err?: Err) => void,
): void {
  const chain = fns.slice();
  let i = 0;
  const next = (err?: Err): void => {
    const fn = err ? undefined : chain[i++];
    if (!fn) {
      done(err);
      return;
    }
    try {
      fn(subject, next);
    } catch (e) {
      done(e as Err);
    }
  };
  next();
}
