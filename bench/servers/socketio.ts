/**
 * Target `socketio`: the bench application on socket.io 4.8 (the comparison).
 */
import { Server } from "socket.io";
import { host } from "./host.js";
import { startSocketIoApp } from "./sio-app.js";

await host((config) => startSocketIoApp(Server, config));
