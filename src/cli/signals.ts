/**
 * Graceful shutdown on SIGTERM/SIGINT: the first signal starts the shutdown
 * and exits 0 when it is done (1 if it failed); a second signal exits at once
 * with 1, for the operator who does not want to wait. The process, exit and
 * logger are injected so the policy is tested without sending signals.
 */
import type { Logger } from "../shared/logger.js";
import { EXIT } from "./errors.js";

/** The part of `process` this needs. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Installs the shutdown policy on `source`.
 *
 * @example
 * handleShutdownSignals(process, () => running.close(), (code) => process.exit(code), logger);
 */
export function handleShutdownSignals(
  source: SignalSource,
  shutdown: () => Promise<void>,
  exit: (code: number) => void,
  logger: Logger,
  signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"],
): void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received++;
    if (received > 1) {
      logger.warn({ signal }, `${signal} again, exiting now`);
      exit(EXIT.failed);
      return;
    }
    logger.info({ signal }, `${signal}, shutting down`);
    shutdown().then(
      () => {
        logger.info({ signal }, "shutdown complete");
        exit(EXIT.ok);
      },
      (err: unknown) => {
        logger.error(
          { err },
          `shutdown failed: ${err instanceof Error ? err.message : String(err)}`,
        );
        exit(EXIT.failed);
      },
    );
  };
  for (const signal of signals) source.on(signal, onSignal);
}
