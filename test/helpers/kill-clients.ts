/**
 * The subscribers of the node-death test (test/cluster/kill.test.ts), each
 * reached through the proxy and tagged with a `kc=<tag>` query parameter so
 * the proxy can cut its connections, each recording the sequence numbers it
 * gets: socket.io-client (polling, websocket, upgrade; connection state
 * recovery, re-joining room "kill" when a reconnect was not recovered),
 * CometD with its AckExtension, Switchboard's Bayeux client (acks on), and
 * Faye. The publishers are in kill-publishers.ts.
 */
import { AckExtension, CometD, type Message } from "cometd";
import { adapt } from "cometd-nodejs-client";
import { io as ioc, type Socket } from "socket.io-client";
import { BayeuxClient } from "../../src/bayeux/client/index.js";
import { Receipts } from "./delivery-tally.js";
import { settledWithin } from "./fault-plan.js";
import { type FayeClient, faye, shutdown } from "./faye.js";
import { CHANNEL, JOIN_EVENT, MESSAGE_EVENT, ROOM } from "./kill-protocol.js";

// CometD runs in Node through the adapter's window and XMLHttpRequest.
adapt();

/** The query parameter naming a client for the proxy's `cut`. */
export const TAG_PARAM = "kc";

/** A subscribed client of some kind, what it got, and how its sessions went. */
export interface Subscriber {
  kind: string;
  tag: string;
  receipts: Receipts;
  /** Sessions started (handshakes, or Socket.IO connects that were not recovered). */
  sessions: number;
  /** Socket.IO reconnects whose state was recovered. */
  recovered: number;
  /** What happened to its connection: `[Date.now(), what]`, oldest first. */
  history: [number, string][];
  /** Resolves once subscribed (joined) the first time. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Longest a subscriber's goodbye may take at the end of the run, ms. */
const CLOSE_WITHIN = 3000;
/** Pause before CometD asks again for a subscription that failed in a live session, ms. */
const RESUBSCRIBE_AFTER = 200;

/**
 * A subscriber's record with nothing received yet, `note` to add to its
 * history and `resolveReady` for its first subscription.
 */
function newSubscriber(
  kind: string,
  tag: string,
  close: () => Promise<void>,
): { subscriber: Subscriber; note(what: string): void; resolveReady(): void } {
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const subscriber: Subscriber = {
    kind,
    tag,
    receipts: new Receipts(),
    sessions: 0,
    recovered: 0,
    history: [],
    ready,
    close,
  };
  const note = (what: string): void => {
    subscriber.history.push([Date.now(), what]);
  };
  return { subscriber, note, resolveReady: () => resolveReady() };
}

/** The URL of `path` on the proxy, tagged. */
export function tagged(base: string, path: string, tag: string): string {
  return `${base}${path}?${TAG_PARAM}=${encodeURIComponent(tag)}`;
}

function seqOf(data: unknown): number | undefined {
  const seq = (data as { seq?: unknown } | null)?.seq;
  return typeof seq === "number" ? seq : undefined;
}

/** Quick reconnects: the test cuts and kills a lot in 60 s. */
export const SOCKET_IO_RECONNECT = {
  reconnectionDelay: 100,
  reconnectionDelayMax: 1000,
  randomizationFactor: 0.5,
} as const;

/**
 * A socket.io-client subscriber (`transports` undefined: polling, then
 * upgrade) with connection state recovery; joins room "kill" on every
 * connect that was not recovered, and on a recovered one while the join of
 * its session was never acknowledged.
 */
export function socketIoSubscriber(
  base: string,
  kind: string,
  tag: string,
  transports?: ("polling" | "websocket")[],
): Subscriber {
  const socket: Socket = ioc(base, {
    forceNew: true,
    query: { [TAG_PARAM]: tag },
    ...SOCKET_IO_RECONNECT,
    ...(transports ? { transports } : {}),
  });
  const { subscriber, note, resolveReady } = newSubscriber(kind, tag, async () => {
    socket.close();
  });
  const receipts = subscriber.receipts;
  // Whether the server acknowledged the join of this session: a join lost
  // with its connection is not in the session a later reconnect recovers.
  let joined = false;
  const join = (): void => {
    socket
      .timeout(5000)
      .emitWithAck(JOIN_EVENT, ROOM)
      .then(
        () => {
          joined = true;
          resolveReady();
        },
        // Still connected and no answer: ask again; otherwise the next connect will.
        () => socket.connected && !joined && join(),
      );
  };
  socket.on("connect", () => {
    note(`${socket.recovered ? "recovered" : "new session"} (${socket.io.engine.transport.name})`);
    if (socket.recovered) {
      subscriber.recovered++;
    } else {
      subscriber.sessions++;
      joined = false;
    }
    if (!joined) join();
  });
  socket.on("disconnect", (reason) => note(`disconnect: ${reason}`));
  socket.on("connect_error", (err) => note(`connect_error: ${err.message}`));
  socket.on(MESSAGE_EVENT, (payload: unknown) => {
    const seq = seqOf(payload);
    if (seq !== undefined) receipts.record(seq);
  });
  return subscriber;
}

/** A CometD long-polling subscriber with the AckExtension, re-subscribing after each handshake. */
export function cometdSubscriber(base: string, kind: string, tag: string): Subscriber {
  const cometd = new CometD();
  cometd.unregisterTransport("websocket");
  cometd.registerExtension("ack", new AckExtension());
  // A query string turns CometD's appendMessageTypeToURL off: one endpoint URL.
  cometd.configure({ url: tagged(base, "/bayeux", tag), logLevel: "warn", maxBackoff: 2000 });
  const { subscriber, note, resolveReady } = newSubscriber(kind, tag, async () => {
    if (cometd.isDisconnected()) return;
    await settledWithin(
      new Promise<void>((resolve) => cometd.disconnect(() => resolve())),
      CLOSE_WITHIN,
    );
  });
  const receipts = subscriber.receipts;
  const subscribe = (clientId: string | undefined): void => {
    cometd.subscribe(
      CHANNEL,
      (message: Message) => {
        const seq = seqOf(message.data);
        if (seq !== undefined) receipts.record(seq);
      },
      (answer: Message) => {
        if (answer.successful) {
          resolveReady();
          return;
        }
        // CometD drops a failed subscription (its callback too): ask again
        // in the same session; a new session subscribes from the listener.
        note(`subscribe failed: ${answer.error ?? "no reply"}`);
        setTimeout(() => {
          if (!cometd.isDisconnected() && cometd.getClientId() === clientId) subscribe(clientId);
        }, RESUBSCRIBE_AFTER);
      },
    );
  };
  // CometD drops its subscriptions at every handshake: the listener subscribes again.
  cometd.addListener("/meta/handshake", (reply: Message) => {
    if (!reply.successful) return;
    subscriber.sessions++;
    note("new session");
    subscribe(reply.clientId);
  });
  cometd.handshake();
  return subscriber;
}

/** A Switchboard Bayeux client subscriber (ack extension on). */
export function bayeuxSubscriber(
  base: string,
  kind: string,
  tag: string,
  transports: ("websocket" | "long-polling")[],
): Subscriber {
  const client = new BayeuxClient(tagged(base, "/bayeux", tag), {
    transports,
    maxNetworkDelay: 5000,
    backoff: { initialDelay: 100, maxDelay: 2000 },
  });
  client.on("error", () => {});
  const { subscriber, note } = newSubscriber(kind, tag, () =>
    settledWithin(client.disconnect(), CLOSE_WITHIN),
  );
  const receipts = subscriber.receipts;
  client.addExtension({
    incoming(message) {
      if (message.channel === "/meta/handshake" && message.successful) {
        subscriber.sessions++;
        note(`new session (${client.connectionType})`);
      }
      return message;
    },
  });
  client.on("disconnected", (error) => note(`disconnected: ${error?.message ?? "by the client"}`));
  subscriber.ready = client.init().then(async () => {
    await client.subscribe(CHANNEL, (message) => {
      const seq = seqOf(message.data);
      if (seq !== undefined) receipts.record(seq);
    });
  });
  return subscriber;
}

/** A Faye subscriber (no ack extension: best effort). */
export function fayeSubscriber(base: string, kind: string, tag: string): Subscriber {
  const client: FayeClient = new faye.Client(tagged(base, "/bayeux", tag), {
    timeout: 10,
    retry: 1,
  });
  const { subscriber, note } = newSubscriber(kind, tag, () => shutdown(client));
  const receipts = subscriber.receipts;
  client.addExtension({
    incoming(message: { channel: string; successful?: boolean }, callback: (m: unknown) => void) {
      if (message.channel === "/meta/handshake" && message.successful) {
        subscriber.sessions++;
        note("new session");
      }
      callback(message);
    },
  });
  subscriber.ready = Promise.resolve(
    client.subscribe(CHANNEL, (data) => {
      const seq = seqOf(data);
      if (seq !== undefined) receipts.record(seq);
    }),
  ).then(() => {});
  return subscriber;
}
