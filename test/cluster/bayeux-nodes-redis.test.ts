/** The Bayeux multi-node suite on a single Redis (REDIS_URL) and on a 3-master Redis Cluster. */
import { bayeuxNodesSuite } from "./bayeux-nodes-suite.js";
import { onRedis } from "./redis-nodes-backends.js";

await onRedis(bayeuxNodesSuite);
