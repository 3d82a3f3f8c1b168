/** The Socket.IO multi-node suite on the in-memory broker. */
import { MemoryBrokerHub } from "../../src/cluster/index.js";
import { socketioNodesSuite } from "./socketio-nodes-suite.js";

socketioNodesSuite("memory broker", () => {
  const hub = new MemoryBrokerHub();
  return { connect: () => hub.connect() };
});
