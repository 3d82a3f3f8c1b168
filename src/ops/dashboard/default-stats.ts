/**
 * The figures a dashboard shows when it is given no `stats` source: the
 * open connections of each protocol, read from counters the servers already
 * keep (no walk over sockets). The traffic counters stay 0 here; give the
 * dashboard the node's full StatsSource for them.
 */
import type { BayeuxServer } from "../../bayeux/server/server.js";
import type { Server } from "../../socketio/server.js";
import type { NodeStats, StatsSource } from "../stats.js";

function zero() {
  return { socketio: 0, bayeux: 0 };
}

export function defaultStats(
  // biome-ignore lint/suspicious/noExplicitAny: any server typing.
  io: Server<any, any, any, any> | undefined,
  bayeux: BayeuxServer | undefined,
  node: string,
): StatsSource {
  const started = Date.now();
  return {
    snapshot(): NodeStats {
      const now = Date.now();
      return {
        node,
        time: now,
        uptime: Math.round((now - started) / 1000),
        connections: {
          socketio: io?.engine ? { all: io.engine.clientsCount } : {},
          bayeux: bayeux ? { all: bayeux.sessionCount } : {},
        },
        namespaces: io?._nsps.size ?? 0,
        rooms: 0,
        channels: 0,
        messagesIn: zero(),
        messagesOut: zero(),
        bytesIn: zero(),
        bytesOut: zero(),
        deliveries: zero(),
        slowConsumerDrops: zero(),
        errors: {},
        recentErrors: [],
        topTopics: [],
        slowConsumers: [],
      };
    },
  };
}
