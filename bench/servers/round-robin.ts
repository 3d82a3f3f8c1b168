/**
 * The round-robin proxy of the no-sticky scenario as a server child
 * (`config.upstreams`: the nodes' ports), so that the orchestrator measures
 * its CPU apart from the nodes'. Not a target: it runs no application.
 */
import { startRoundRobin } from "../lib/round-robin.js";
import { host } from "./host.js";

await host(async (config) => {
  const proxy = await startRoundRobin(config.upstreams ?? []);
  return { port: proxy.port, close: () => proxy.close() };
});
