/**
 * Churn: `rounds` rounds, each opening `clients` websocket connections (the
 * main namespace joined, or a Bayeux session handshaken, subscribed and its
 * connect held), then closing every one of them the way a client leaves
 * (Socket.IO: DISCONNECT then a websocket close; Bayeux: `/meta/disconnect`,
 * its reply, then the close). At the end of each round the orchestrator takes
 * the server's memory after a forced GC; a server that frees what a closed
 * connection held stays flat from round to round.
 *
 * Metrics: connected (per round), rounds, connectMs and closeMs (mean per round).
 */
import { roundBarrier } from "../lib/protocol.js";
import { type BenchClient, connectMany } from "./clients.js";
import { now, type Scenario, sleep } from "./context.js";

/** Time for the server to finish its side of the closes before the snapshot. */
const SETTLE_MS = 1000;

async function endAll(clients: BenchClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.end()));
}

export const churn: Scenario = async ({ spec, barrier }) => {
  let connectMs = 0;
  let closeMs = 0;
  for (let round = 1; round <= spec.rounds; round++) {
    const opening = now();
    const clients = await connectMany(
      spec.protocol,
      spec.port,
      spec.clients,
      spec.connectConcurrency,
      {},
    );
    connectMs += now() - opening;
    const closing = now();
    await endAll(clients);
    closeMs += now() - closing;
    await sleep(SETTLE_MS);
    await barrier(roundBarrier(round));
  }
  return {
    connected: spec.clients,
    rounds: spec.rounds,
    connectMs: connectMs / spec.rounds,
    closeMs: closeMs / spec.rounds,
  };
};
