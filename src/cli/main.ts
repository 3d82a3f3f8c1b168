#!/usr/bin/env node
/**
 * `switchboard`: the standalone server (`npm start`, or the package's bin).
 * Logs JSON lines to standard output (`--log-format pretty` for people),
 * the first one an info record with the URL and the bound port; shuts down
 * gracefully on the first SIGTERM/SIGINT and exits at once on the second.
 * Run `switchboard --help` for the options.
 */
import { createJsonLogger, type JsonLogger } from "../ops/json-logger.js";
import { routeDebugTo } from "../shared/debug.js";
import { CliUsageError, EXIT } from "./errors.js";
import { parseCli, USAGE } from "./options.js";
import { packageVersion } from "./package-root.js";
import { startServer } from "./server.js";
import { handleShutdownSignals } from "./signals.js";

/** The CLI's own records (`component: "cli"`) once the options are read: failures are records. */
let log: JsonLogger | undefined;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const command = parseCli(argv, env);
  if (command.kind === "help") {
    process.stdout.write(USAGE);
    return;
  }
  if (command.kind === "version") {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const { options } = command;
  const logger = createJsonLogger({ level: options.logLevel, format: options.logFormat });
  log = logger.child({ component: "cli" });
  // SWITCHBOARD_DEBUG's lines become debug records of the same log.
  routeDebugTo(logger);
  const running = await startServer(options, { logger });
  const version = packageVersion();
  log.info(
    {
      url: running.url,
      port: running.port,
      path: options.path,
      bayeuxPath: options.bayeuxPath,
      version,
    },
    `switchboard ${version} listening on ${running.url} (port ${running.port}, Socket.IO path ${options.path}, ${options.bayeuxPath === false ? "Bayeux off" : `Bayeux path ${options.bayeuxPath}`})`,
  );

  if (running.dashboard) {
    const dashboard = `${running.url.slice(0, -1)}${running.dashboard.path}`;
    const access = running.dashboard.tokenRequired ? "token" : "loopback";
    log.info(
      { dashboard, access },
      `dashboard at ${dashboard} (${access === "token" ? "token required: open it once with ?token=<token>" : "loopback peers only; --dashboard-token <t> lets others in"})`,
    );
  }

  handleShutdownSignals(
    process,
    () => running.close(),
    (code) => process.exit(code),
    log,
  );
}

main(process.argv.slice(2), process.env).catch((err: unknown) => {
  const usage = err instanceof CliUsageError;
  const message = err instanceof Error ? err.message : String(err);
  const hint = "Try 'switchboard --help' for the options.";
  if (log !== undefined) {
    log.fatal(usage ? { hint } : { err }, message);
  } else {
    // Before the options are read there is no logger: plain lines, for the person typing.
    process.stderr.write(`switchboard: ${message}\n`);
    if (usage) process.stderr.write(`${hint}\n`);
  }
  process.exit(usage ? EXIT.usage : EXIT.failed);
});
