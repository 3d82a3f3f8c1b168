/**
 * What the two Bayeux targets share: the burst loop (driven through each
 * server's own server-side publish API), the control request that starts it,
 * and listening on 127.0.0.1 port 0. The fan-out, publish-with-reply and idle
 * scenarios need no application code at all: clients publish and subscribe,
 * the Bayeux server routes.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { BAYEUX_CHANNELS } from "../lib/protocol.js";

/** Publishes on a channel from the server side (`bayeux.publish` / faye's in-process client). */
export type ServerPublish = (channel: string, data: unknown) => void;

/** The channel a controller publishes to to start a burst. */
export const BURST_CHANNEL = `${BAYEUX_CHANNELS.control}burst`;

/** Server-side lifetime of a websocket `/meta/connect`, the same for both targets (ms). */
export const CONNECT_TIMEOUT_MS = 30_000;

interface BurstRequest {
  count: number;
  batch: number;
  body: string;
}

/**
 * Publishes `count` messages to the fan-out channel, `batch` per event-loop
 * turn with setImmediate between batches, like the Socket.IO burst.
 */
export function burst(request: unknown, publish: ServerPublish): void {
  const { count, batch, body } = request as BurstRequest;
  let seq = 0;
  const step = (): void => {
    const end = Math.min(count, seq + batch);
    for (; seq < end; seq++) publish(BAYEUX_CHANNELS.deliveries, { seq, b: body });
    if (seq < count) setImmediate(step);
  };
  step();
}

/** A node http server answering 404 to whatever the Bayeux mount does not take. */
export function plainHttpServer(): Server {
  return createServer((_request, response) => {
    response.statusCode = 404;
    response.end();
  });
}

/** Listens on 127.0.0.1, port 0, and resolves with the port. */
export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

/** Closes the http server and drops the connections it still holds. */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
