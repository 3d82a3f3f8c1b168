/**
 * The load generator child: runs the scenario of its `BENCH_LOAD_SPEC`
 * against the target, pausing at each barrier until the orchestrator says
 * `continue`, reports the metrics and exits. Runs in its own process so its
 * CPU never counts as the server's.
 */
import {
  type BarrierName,
  type BaseScenario,
  baseScenario,
  type LoadCommand,
  type LoadReport,
  type LoadSpec,
} from "../lib/protocol.js";
import { burst } from "./burst.js";
import { churn } from "./churn.js";
import type { Scenario } from "./context.js";
import { echo } from "./echo.js";
import { fanout } from "./fanout.js";
import { idle } from "./idle.js";
import { interest } from "./interest.js";
import { polling } from "./polling.js";

// The Bayeux scenarios run the same load code: the wire protocol is the client's business.
const scenarios: Record<BaseScenario, Scenario> = {
  fanout,
  burst,
  echo,
  idle,
  churn,
  interest,
  polling,
};

function send(report: LoadReport, sent?: () => void): void {
  process.send?.(report, undefined, {}, sent);
}

let release: (() => void) | undefined;

function barrier(name: BarrierName): Promise<void> {
  return new Promise((resolve) => {
    release = resolve;
    send({ type: "barrier", name });
  });
}

process.on("message", (command: LoadCommand) => {
  if (command.type !== "continue") return;
  const resume = release;
  release = undefined;
  resume?.();
});
process.on("disconnect", () => setTimeout(() => process.exit(0), 200).unref());

const spec = JSON.parse(process.env.BENCH_LOAD_SPEC ?? "null") as LoadSpec | null;
if (spec === null || process.send === undefined) {
  throw new Error("the load generator is started by bench/run.ts (BENCH_LOAD_SPEC and IPC)");
}
scenarios[baseScenario(spec.scenario)]({ spec, barrier }).then(
  // Exit once the report is written: terminated sockets may still hold handles.
  (metrics) => send({ type: "result", metrics }, () => process.exit(0)),
  (error: Error) =>
    send({ type: "error", message: error.stack ?? String(error) }, () => process.exit(1)),
);
