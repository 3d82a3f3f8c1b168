/** The Socket.IO multi-node suite on a single Redis (REDIS_URL) and on a 3-master Redis Cluster. */
import { onRedis } from "./redis-nodes-backends.js";
import { socketioNodesSuite } from "./socketio-nodes-suite.js";

await onRedis(socketioNodesSuite);
