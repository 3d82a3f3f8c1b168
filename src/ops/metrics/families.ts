/**
 * Switchboard's metric families: each reads, when collected, the counters
 * the layers keep (`io.stats`, `io.engine.stats`, `bayeux.stats`,
 * `broker.stats`) through a {@link NodeStatsReader}. A scrape costs
 * O(namespaces + tracked topics + error codes), never O(connections).
 *
 * Labels are bounded: `protocol` (socketio, bayeux), `transport`, error
 * `code` (at most 100 per layer, then `other`), fixed `reason`/`result`/
 * `direction` values, and a `topic` label only with `topicLabels` > 0: the N
 * busiest rooms and channels by messages, no other topic (their messages
 * count in the per-protocol totals only).
 */
import type { Histogram } from "../../shared/histogram.js";
import type { NodeStatsReader } from "../node-stats.js";
import type { MetricValue } from "./exposition.js";
import { Family, histogramValues } from "./family.js";

export interface FamilyOptions {
  /** Prefix of every name. */
  prefix: string;
  /** How many topics per protocol get a `topic` label (0: none). */
  topicLabels: number;
  /** Cluster nodes seen up and down since watching (counted from the broker's events). */
  nodeEvents: { up: number; down: number };
}

type Values = MetricValue[];

function sample(value: number, labels: Record<string, string> = {}): MetricValue {
  return { value, labels };
}

/** Every family of a node, in exposition order. */
export function switchboardFamilies(reader: NodeStatsReader, options: FamilyOptions): Family[] {
  const p = options.prefix;
  const parts = () => reader.parts;
  const io = () => parts().io ?? undefined;
  const bayeux = () => parts().bayeux ?? undefined;
  const broker = () => parts().broker ?? undefined;
  /** A histogram of the broker's stats, empty without a broker or without that histogram. */
  const brokerHistogram = (
    name: string,
    help: string,
    key: "requestLatency" | "publishLatency" | "receiveLatency",
  ) =>
    histogram(name, help, (full) => {
      const h = broker()?.stats[key];
      return h ? histogramValues(full, h) : [];
    });

  /** One sample per protocol present. */
  const perProtocol = (sio: () => number, bx: () => number): Values => {
    const out: Values = [];
    if (io()) out.push(sample(sio(), { protocol: "socketio" }));
    if (bayeux()) out.push(sample(bx(), { protocol: "bayeux" }));
    return out;
  };
  const counter = (name: string, help: string, collect: () => Values) =>
    new Family(`${p}${name}`, help, "counter", collect);
  const gauge = (name: string, help: string, collect: () => Values) =>
    new Family(`${p}${name}`, help, "gauge", collect);
  const histogram = (name: string, help: string, collect: (full: string) => Values) => {
    const full = `${p}${name}`;
    return new Family(full, help, "histogram", () => collect(full));
  };
  const histogramPerProtocol = (
    full: string,
    sio: () => Histogram | undefined,
    bx: () => Histogram | undefined,
  ): Values => {
    const out: Values = [];
    const s = io() ? sio() : undefined;
    const b = bayeux() ? bx() : undefined;
    if (s) out.push(...histogramValues(full, s, { protocol: "socketio" }));
    if (b) out.push(...histogramValues(full, b, { protocol: "bayeux" }));
    return out;
  };

  const families: Family[] = [
    gauge("connections", "Open connections by protocol and transport.", () => {
      const out: Values = [];
      const connections = reader.connections();
      if (io())
        for (const [transport, n] of Object.entries(connections.socketio))
          out.push(sample(n, { protocol: "socketio", transport }));
      if (bayeux())
        for (const [transport, n] of Object.entries(connections.bayeux))
          out.push(sample(n, { protocol: "bayeux", transport }));
      return out;
    }),
    gauge("socketio_sockets", "Sockets connected to a Socket.IO namespace.", () => {
      const server = io();
      if (!server) return [];
      let sockets = 0;
      for (const nsp of server._nsps.values()) sockets += nsp.sockets.size;
      return [sample(sockets)];
    }),
    gauge("socketio_namespaces", "Socket.IO namespaces.", () => {
      const server = io();
      return server ? [sample(server._nsps.size)] : [];
    }),
    gauge("socketio_rooms", "Socket.IO rooms on this node, private rooms excluded.", () =>
      io() ? [sample(reader.roomCount())] : [],
    ),
    gauge("bayeux_channels", "Bayeux channels (names and patterns) subscribed to here.", () =>
      bayeux() ? [sample(reader.channelCount())] : [],
    ),
    counter("handshakes_total", "Sessions opened (Engine.IO and Bayeux handshakes).", () =>
      perProtocol(
        () => io()?.engine.stats.handshakes ?? 0,
        () => bayeux()?.stats.handshakes ?? 0,
      ),
    ),
    counter("socketio_connects_total", "Sockets connected to a namespace.", () => {
      const server = io();
      return server ? [sample(server.stats.connects)] : [];
    }),
    counter("socketio_upgrades_total", "Engine.IO sessions upgraded to websocket.", () => {
      const server = io();
      return server ? [sample(server.engine.stats.upgrades)] : [];
    }),
    counter(
      "errors_total",
      "Refused handshakes and connects, and Bayeux error replies, by protocol and code.",
      () => {
        const out: Values = [];
        const server = io();
        if (server) {
          for (const tally of [server.engine.stats.errors, server.stats.errors])
            for (const [code, n] of Object.entries(tally.counts))
              out.push(sample(n, { protocol: "socketio", code }));
        }
        const bx = bayeux();
        if (bx)
          for (const [code, n] of Object.entries(bx.stats.errors.counts))
            out.push(sample(n, { protocol: "bayeux", code }));
        return out;
      },
    ),
    counter(
      "messages_received_total",
      "Messages received (Socket.IO packets, Bayeux messages).",
      () =>
        perProtocol(
          () => io()?.stats.messagesIn ?? 0,
          () => bayeux()?.stats.messagesIn ?? 0,
        ),
    ),
    counter("messages_sent_total", "Messages sent (packets and replies written, deliveries).", () =>
      perProtocol(
        () => io()?.stats.messagesOut ?? 0,
        () => bayeux()?.stats.messagesOut ?? 0,
      ),
    ),
    counter(
      "bytes_received_total",
      "Bytes received: websocket frame payloads, polling and Bayeux request bodies.",
      () =>
        perProtocol(
          () => io()?.engine.stats.bytesIn ?? 0,
          () => bayeux()?.stats.bytesIn ?? 0,
        ),
    ),
    counter(
      "bytes_sent_total",
      "Bytes written: websocket frames, polling and Bayeux response bodies.",
      () =>
        perProtocol(
          () => io()?.engine.stats.bytesOut ?? 0,
          () => bayeux()?.stats.bytesOut ?? 0,
        ),
    ),
    counter("socketio_events_received_total", "Socket.IO EVENT packets from clients.", () => {
      const server = io();
      return server ? [sample(server.stats.eventsIn)] : [];
    }),
    counter("bayeux_publishes_received_total", "Bayeux publishes from clients.", () => {
      const server = bayeux();
      return server ? [sample(server.stats.publishes)] : [];
    }),
    counter(
      "deliveries_total",
      "Recipients of broadcasts and publishes (this node's and other nodes').",
      () =>
        perProtocol(
          () => io()?.stats.deliveries ?? 0,
          () => bayeux()?.stats.deliveries ?? 0,
        ),
    ),
    histogram(
      "broadcast_fanout",
      "Recipients per broadcast (Socket.IO) or publish (Bayeux) routed on this node.",
      (full) =>
        histogramPerProtocol(
          full,
          () => io()?.stats.fanout,
          () => bayeux()?.stats.fanout,
        ),
    ),
    counter("socketio_acks_total", "Socket.IO acknowledgements by direction.", () => {
      const server = io();
      if (!server) return [];
      return [
        sample(server.stats.acksSent, { direction: "sent" }),
        sample(server.stats.acksReceived, { direction: "received" }),
      ];
    }),
    counter(
      "socketio_ack_timeouts_total",
      "Emits and broadcasts whose acknowledgement did not come in time.",
      () => {
        const server = io();
        return server ? [sample(server.stats.ackTimeouts)] : [];
      },
    ),
    counter(
      "messages_dropped_total",
      "Messages not delivered to a slow consumer: volatile packets to a busy connection, deliveries past a full Bayeux queue.",
      () => {
        const out: Values = [];
        const server = io();
        if (server)
          out.push(
            sample(server.stats.volatileDrops, { protocol: "socketio", reason: "volatile" }),
          );
        const bx = bayeux();
        if (bx) out.push(sample(bx.stats.queueDrops, { protocol: "bayeux", reason: "queue_full" }));
        return out;
      },
    ),
    counter(
      "slow_consumer_disconnects_total",
      "Connections cut for falling maxBufferedBytes behind.",
      () =>
        perProtocol(
          () => io()?.engine.stats.overflows ?? 0,
          () => bayeux()?.stats.overflows ?? 0,
        ),
    ),
    counter(
      "recoveries_total",
      "Session recoveries (Socket.IO connection state recovery, Bayeux adoption of a dead node's session) by result: succeeded, failed, gap (a failure because the log lost entries).",
      () => {
        const out: Values = [];
        const server = io();
        if (server) {
          let gaps = 0;
          for (const nsp of server._nsps.values()) {
            const stats = (nsp.adapter as { recoveryStats?: { gaps: number } }).recoveryStats;
            if (stats) gaps += stats.gaps;
          }
          out.push(
            sample(server.stats.recovered, { protocol: "socketio", result: "succeeded" }),
            sample(server.stats.recoveryFailed, { protocol: "socketio", result: "failed" }),
            sample(gaps, { protocol: "socketio", result: "gap" }),
          );
        }
        const bx = bayeux();
        if (bx) {
          out.push(
            sample(bx.stats.adopted, { protocol: "bayeux", result: "succeeded" }),
            sample(bx.stats.adoptFailed, { protocol: "bayeux", result: "failed" }),
            sample(bx.channelLog?.stats.gaps ?? 0, { protocol: "bayeux", result: "gap" }),
          );
        }
        return out;
      },
    ),
  ];

  if (options.topicLabels > 0) {
    const n = options.topicLabels;
    families.push(
      counter(
        "topic_messages_total",
        `Messages published to the ${n} busiest rooms and channels (per protocol) by topic.`,
        () => {
          const out: Values = [];
          const server = io();
          if (server) {
            const all: [string, number][] = [];
            for (const nsp of server._nsps.values()) {
              const traffic = (nsp.adapter as { traffic?: { top(n: number): [string, number][] } })
                .traffic;
              for (const [room, count] of traffic?.top(n) ?? [])
                all.push([`${nsp.name} ${room}`, count]);
            }
            all.sort((a, b) => b[1] - a[1]);
            for (const [topic, count] of all.slice(0, n))
              out.push(sample(count, { protocol: "socketio", topic }));
          }
          const bx = bayeux();
          if (bx)
            for (const [topic, count] of bx.stats.traffic.top(n))
              out.push(sample(count, { protocol: "bayeux", topic }));
          return out;
        },
      ),
    );
  }

  families.push(
    gauge("cluster_nodes", "Live cluster nodes, this one included.", () => {
      const b = broker();
      return b ? [sample(1 + b.nodes().length)] : [];
    }),
    counter("cluster_node_events_total", "Other nodes seen joining (up) and leaving (down).", () =>
      broker()
        ? [
            sample(options.nodeEvents.up, { event: "up" }),
            sample(options.nodeEvents.down, { event: "down" }),
          ]
        : [],
    ),
    counter("broker_published_total", "Publishes handed to the broker.", () => {
      const b = broker();
      return b ? [sample(b.stats.published)] : [];
    }),
    counter("broker_received_total", "Messages received from other nodes.", () => {
      const b = broker();
      return b ? [sample(b.stats.received)] : [];
    }),
    counter("broker_dropped_total", "Broker messages dropped as malformed or foreign.", () => {
      const b = broker();
      return b ? [sample(b.stats.dropped)] : [];
    }),
    counter("broker_lost_total", "Publishes lost while the broker was unreachable.", () => {
      const b = broker();
      return b ? [sample(b.stats.lost)] : [];
    }),
    counter("broker_reconnects_total", "Times the broker connection was re-established.", () => {
      const b = broker();
      return b ? [sample(b.stats.reconnects)] : [];
    }),
    counter(
      "cluster_requests_total",
      "Cluster queries (fetchSockets, serverSideEmit acks, ...).",
      () => {
        const b = broker();
        return b ? [sample(b.stats.requests ?? 0)] : [];
      },
    ),
    counter(
      "cluster_partial_answers_total",
      "Cluster queries that ended without the answer of some node.",
      () => {
        const b = broker();
        return b ? [sample(b.stats.partial ?? 0)] : [];
      },
    ),
    brokerHistogram(
      "cluster_request_duration_seconds",
      "Seconds a cluster query took.",
      "requestLatency",
    ),
    brokerHistogram(
      "broker_publish_duration_seconds",
      "Seconds the broker took to accept a publish (a Redis round trip).",
      "publishLatency",
    ),
    brokerHistogram(
      "broker_receive_latency_seconds",
      "Seconds from another node's publish to its receipt here (by the nodes' clocks; whole ms on Redis).",
      "receiveLatency",
    ),
  );
  return families;
}
