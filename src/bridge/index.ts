/** The Socket.IO room ⇄ Bayeux channel bridge (docs/bridge.md). */
export {
  BRIDGE_ORIGIN_EXT,
  Bridge,
  type BridgeOptions,
  type BridgeStats,
  bridge,
  type RefusedReason,
} from "./bridge.js";
export { BRIDGE_ROUTE_ERRORS, BridgeRouteError, type BridgeRouteErrorCode } from "./errors.js";
export { argsFromData, dataFromArgs, findBinary } from "./payload.js";
export { type BridgeDirection, type BridgeRoute, CompiledRoute, compileRoutes } from "./routes.js";
