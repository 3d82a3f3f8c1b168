/**
 * Nodes for the bridge suites: one HTTP server per node serving Socket.IO
 * and Bayeux on one broker (none for a lone node), real socket.io-client and
 * Faye clients, and waits with deadlines.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Socket as ClientSocket, io as connect } from "socket.io-client";
import type { BayeuxServer } from "../../src/bayeux/index.js";
import type { Broker, MessageLog } from "../../src/cluster/index.js";
import type { Server } from "../../src/index.js";
import { createSocketIoRouter } from "../../src/mount/socketio.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";

export interface BridgeNode {
  io: Server;
  bayeux: BayeuxServer;
  http: HttpServer;
  port: number;
  broker?: Broker;
  close(): Promise<void>;
}

/** Starts a node on 127.0.0.1, port 0, whose sockets join the room named in their `join` event. */
export async function startNode(broker?: Broker, channelLog?: MessageLog): Promise<BridgeNode> {
  const logged = channelLog ? { channelLog } : {};
  const { io, bayeux, router } = createSocketIoRouter(
    broker
      ? { broker, bayeux: { broker, timeout: 5000, ...logged } }
      : { bayeux: { timeout: 5000, ...logged } },
  );
  if (bayeux === null) throw new Error("no Bayeux server");
  io.on("connection", (socket) => {
    socket.on("join", (room: string, ack: () => void) => {
      void socket.join(room);
      ack();
    });
  });
  const http = createServer();
  router.attach(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    io,
    bayeux,
    http,
    port,
    broker,
    async close() {
      await router.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Clients opened by a suite, closed by {@link Clients.close}. */
export class Clients {
  readonly #sockets: ClientSocket[] = [];
  readonly #fayes: FayeClient[] = [];

  /** A socket.io-client in `room` of node, keeping the args of every `event`. */
  async member(node: BridgeNode, room: string, event: string) {
    const socket = connect(`http://127.0.0.1:${node.port}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    this.#sockets.push(socket);
    const got: unknown[][] = [];
    socket.on(event, (...args: unknown[]) => got.push(args));
    await socket.timeout(5000).emitWithAck("join", room);
    return { socket, got };
  }

  /** A Faye client of node subscribed to `channel`, keeping `[channel of subscription, data]`. */
  async subscriber(node: BridgeNode, channel: string) {
    const client = new faye.Client(`http://127.0.0.1:${node.port}/bayeux`, { timeout: 5 });
    this.#fayes.push(client);
    const got: unknown[] = [];
    await client.subscribe(channel, (data) => got.push(data));
    return { client, got };
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets.splice(0)) socket.close();
    await Promise.all(this.#fayes.splice(0).map(shutdown));
  }
}
