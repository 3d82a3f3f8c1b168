/** The Bayeux multi-node suite on the in-memory broker. */
import { MemoryBrokerHub } from "../../src/cluster/index.js";
import { bayeuxNodesSuite } from "./bayeux-nodes-suite.js";

bayeuxNodesSuite("memory broker", () => {
  const hub = new MemoryBrokerHub();
  return { connect: () => hub.connect() };
});
