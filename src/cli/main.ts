#!/usr/bin/env node
/**
 * `switchboard`: the standalone server (`npm start`, or the package's bin).
 * Prints one line on start with the URL and the bound port, shuts down
 * gracefully on the first SIGTERM/SIGINT and exits at once on the second.
 * Run `switchboard --help` for the options.
 */
import { CliUsageError, EXIT } from "./errors.js";
import { parseCli, USAGE } from "./options.js";
import { packageVersion } from "./package-root.js";
import { startServer } from "./server.js";
import { handleShutdownSignals } from "./signals.js";

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
  const running = await startServer(options);
  process.stdout.write(
    `switchboard ${packageVersion()} listening on ${running.url} (port ${running.port}, Socket.IO path ${options.path}, ${options.bayeuxPath === false ? "Bayeux off" : `Bayeux path ${options.bayeuxPath}`})\n`,
  );

  if (running.dashboard) {
    const access = running.dashboard.tokenRequired
      ? "token required: open it once with ?token=<token>"
      : "loopback peers only; --dashboard-token <t> lets others in";
    process.stdout.write(
      `dashboard at ${running.url.slice(0, -1)}${running.dashboard.path} (${access})\n`,
    );
  }

  handleShutdownSignals(
    process,
    () => running.close(),
    (code) => process.exit(code),
    (line) => process.stderr.write(`${line}\n`),
  );
}

main(process.argv.slice(2), process.env).catch((err: unknown) => {
  const usage = err instanceof CliUsageError;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`switchboard: ${message}\n`);
  if (usage) process.stderr.write("Try 'switchboard --help' for the options.\n");
  process.exit(usage ? EXIT.usage : EXIT.failed);
});
