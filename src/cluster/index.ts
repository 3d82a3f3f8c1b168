/** The broker seam between nodes and its backends. */
export {
  type Broker,
  type BrokerHandler,
  type BrokerResponder,
  BrokerTimeoutError,
  matchTopic,
  type RequestOptions,
  type Unsubscribe,
} from "./broker.js";
export { MemoryBroker, MemoryBrokerHub } from "./memory-broker.js";
