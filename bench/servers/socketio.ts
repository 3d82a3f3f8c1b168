/**
 * Target `socketio`: the bench application on socket.io 4.8 (the comparison);
 * in the cluster scenarios with `@socket.io/redis-adapter`.
 */
import { Server } from "socket.io";
import { socketIoRedis } from "./cluster.js";
import { host } from "./host.js";
import { startSocketIoApp } from "./sio-app.js";

await host(async (config) =>
  startSocketIoApp(
    Server,
    config,
    config.cluster === undefined ? {} : await socketIoRedis(config.cluster),
  ),
);
