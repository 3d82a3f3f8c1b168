/** The Faye client library as the cluster tests use it, and a bounded disconnect. */
import { createRequire } from "node:module";
import { until } from "../socketio/raw-clients.js";

const require = createRequire(import.meta.url);

export interface FayeSubscription extends PromiseLike<unknown> {
  cancel(): void;
}
/** The parts of a Faye client the cluster tests use. */
export interface FayeClient {
  subscribe(channel: string, callback: (message: unknown) => void): FayeSubscription;
  publish(channel: string, data: unknown): PromiseLike<unknown>;
  disable(feature: string): void;
  disconnect(): PromiseLike<unknown> | undefined;
  _dispatcher: { close(): void; clientId?: string };
  _state: number;
  addExtension(extension: object): void;
  on(event: string, listener: () => void): void;
}
/** The Faye client library. */
export const faye = require("faye") as {
  Client: new (url: string, options?: object) => FayeClient;
};

/** Disconnects a Faye client once its handshake is through, bounded in time. */
export async function shutdown(client: FayeClient): Promise<void> {
  await until(() => client._state === 3 || client._state === 4, 5000).catch(() => {});
  const done = client.disconnect();
  if (done) {
    let settled = false;
    Promise.resolve(done).then(
      () => (settled = true),
      () => (settled = true),
    );
    await until(() => settled, 3000, "the Faye disconnect").catch(() => {});
  }
  client._dispatcher.close();
}
