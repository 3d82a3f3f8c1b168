/**
 * The one Socket.IO application both Socket.IO targets run: socket.io 4.8 and
 * Switchboard get exactly this code, only the `Server` class differs (which is
 * the point of Switchboard following socket.io's API).
 *
 * Connections with `?role=ctl` are the load generator's controller (fan-out
 * publisher, burst trigger) and join no room; every other connection is a
 * receiver and joins the bench room in the fan-out scenarios, or in the
 * interest scenario the room its `?room=<n>` names. In the cluster scenarios
 * the same code runs on each node, the server joined to the others by the
 * target's cluster setup (a broker, or socket.io's Redis adapter). Listeners are
 * module-level functions and only the ones a scenario needs are registered, so
 * the idle scenario measures the framework's own per-connection cost.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Server, Socket } from "socket.io";
import { baseScenario, roomName, type ServerConfig } from "../lib/protocol.js";
import type { BenchServer } from "./host.js";

/** The constructor both targets export (Switchboard mirrors socket.io's). */
export type ServerClass = typeof Server;

const ROOM = "bench";

interface BurstRequest {
  count: number;
  batch: number;
  body: string;
}

let io: Server;

function publish(data: unknown): void {
  // Encoded once by the server, written to every member of the room.
  io.to(ROOM).emit("m", data);
}

function burst(request: BurstRequest): void {
  let seq = 0;
  const step = (): void => {
    // A batch per event-loop turn, then setImmediate so socket I/O can flow.
    const end = Math.min(request.count, seq + request.batch);
    for (; seq < end; seq++) io.to(ROOM).emit("m", { seq, b: request.body });
    if (seq < request.count) setImmediate(step);
  };
  step();
}

/** Interest: a message for one of the rooms (`r` is the room number, `d` the data). */
function publishTo(request: { r: number; d: unknown }): void {
  io.to(roomName(request.r)).emit("m", request.d);
}

function echo(data: unknown, ack: (reply: unknown) => void): void {
  if (typeof ack === "function") ack(data);
}

function onConnection(this: ServerConfig, socket: Socket): void {
  if (socket.handshake.query.role === "ctl") {
    socket.on("pub", publish);
    socket.on("burst", burst);
    socket.on("pubto", publishTo);
    return;
  }
  const scenario = baseScenario(this.scenario);
  if (scenario === "fanout" || scenario === "burst") socket.join(ROOM);
  else if (scenario === "interest") socket.join(roomName(Number(socket.handshake.query.room)));
  else if (scenario === "echo") socket.on("echo", echo);
}

/**
 * How a target joins its node to a cluster (or, for `fanout-recovery`, turns
 * on connection state recovery): extra server options, a step after
 * creation, a close.
 */
export interface ClusterSetup {
  /** Merged into the server's options (Switchboard's `broker`). */
  options?: Record<string, unknown>;
  /** Runs once the server exists (socket.io's `io.adapter(...)`). */
  setup?(io: Server): void;
  /** Runs after the server closed (Redis clients, the broker). */
  close?(): Promise<void>;
}

/**
 * Starts the bench application on a `Server` class, on 127.0.0.1 port 0.
 *
 * @example
 * const server = await startSocketIoApp(Server, { scenario: "echo" });
 */
export function startSocketIoApp(
  ServerCtor: ServerClass,
  config: ServerConfig,
  cluster: ClusterSetup = {},
): Promise<BenchServer> {
  const httpServer = createServer();
  // Defaults otherwise (websocket + polling allowed, no permessage-deflate), as an app would have.
  io = new ServerCtor(httpServer, { serveClient: false, ...cluster.options });
  cluster.setup?.(io);
  io.on("connection", onConnection.bind(config));
  return new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", () => {
      resolve({
        port: (httpServer.address() as AddressInfo).port,
        close: async () => {
          await new Promise<void>((done) => io.close(() => done()));
          await cluster.close?.();
        },
      });
    });
  });
}
