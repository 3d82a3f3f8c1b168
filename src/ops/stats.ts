/**
 * One node's figures as operators see them: what `/metrics` exports and the
 * dashboard shows. The protocol layers keep plain counters on their hot paths
 * (an increment, never a call into a metrics library); `snapshot()` of
 * {@link StatsSource} reads them on demand, so a scrape or a dashboard poll
 * costs work proportional to the figures, never to the traffic.
 */

/** The two protocols a node serves. */
export type Protocol = "socketio" | "bayeux";

/** A figure per protocol. */
export type PerProtocol = Record<Protocol, number>;

/** Open connections of one protocol by transport name (`polling`, `websocket`, `long-polling`, ...). */
export type ByTransport = Record<string, number>;

/** One error an operator may want to see (a refused handshake, a protocol error). */
export interface RecentError {
  /** Epoch ms. */
  time: number;
  protocol: Protocol | "cluster";
  /** The error's string code, e.g. `ERR_BAYEUX_HANDSHAKE` or an Engine.IO code name. */
  code: string;
  message: string;
}

/** A topic (Socket.IO room or Bayeux channel) and its figures. */
export interface TopicFigure {
  protocol: Protocol;
  /** `<namespace> <room>` for Socket.IO, the channel name for Bayeux. */
  name: string;
  members: number;
  /**
   * Messages published to it from this node since it started (0 when not
   * tracked). A broadcast another node made is counted there, not again
   * where it is delivered: summed over the nodes, each counts once.
   */
  messages: number;
}

/** A topic in a {@link TopicTable}: name (as in {@link TopicFigure}), members here, messages from here. */
export type TopicRow = [name: string, members: number, messages: number];

/**
 * Every topic of a node with its figures, for the cluster's exact sums
 * (distinct rooms and channels, members per topic across nodes). Bounded:
 * past `limit` rows (both protocols together) only the biggest by members
 * are listed and `complete` is false.
 */
export interface TopicTable {
  socketio: TopicRow[];
  bayeux: TopicRow[];
  /** The node's Socket.IO namespaces (rooms are per namespace: `<namespace> <room>`). */
  namespaces: string[];
  /** Whether every topic with a member or with traffic here is listed. */
  complete: boolean;
}

/** A connection slower than its buffers allow. */
export interface SlowConsumer {
  protocol: Protocol;
  /** Engine.IO session id (a Socket.IO connection) or Bayeux clientId. */
  id: string;
  /** Messages dropped for it, and closes for being too slow. */
  dropped: number;
  /** Epoch ms of the last drop. */
  last: number;
}

export interface NodeStats {
  /** The node id (the broker's, or a local one). */
  node: string;
  /** Epoch ms when taken. */
  time: number;
  /** Seconds since the node started. */
  uptime: number;
  connections: Record<Protocol, ByTransport>;
  /** Socket.IO namespaces, rooms (private rooms excluded), Bayeux channels with a subscriber. */
  namespaces: number;
  rooms: number;
  channels: number;
  /** Counters since start. */
  messagesIn: PerProtocol;
  messagesOut: PerProtocol;
  bytesIn: PerProtocol;
  bytesOut: PerProtocol;
  deliveries: PerProtocol;
  /** Messages dropped because a consumer's buffer was full. */
  slowConsumerDrops: PerProtocol;
  /** Handshake and connect errors by code. */
  errors: Record<string, number>;
  /** The last few errors, newest last. */
  recentErrors: RecentError[];
  /**
   * The biggest topics by members, then the busiest by messages not already
   * listed (each ranking bounded, 10 by default).
   */
  topTopics: TopicFigure[];
  slowConsumers: SlowConsumer[];
  /**
   * Every topic with its figures (bounded, see {@link TopicTable}): what
   * the cluster sums need. Absent from a source that does not tell.
   */
  topics?: TopicTable;
  /** Sessions opened since start (Engine.IO handshakes, Bayeux handshakes). */
  handshakes?: PerProtocol;
  /** The broker's figures; null (or absent) on a node alone. */
  cluster?: ClusterFigures | null;
}

/** What a cluster node's broker counted since it joined. */
export interface ClusterFigures {
  /** Live nodes, this one included. */
  nodes: number;
  published: number;
  received: number;
  reconnects: number;
  /** Cluster queries made, and those some node did not answer in time. */
  requests: number;
  partial: number;
}

/** Whatever can tell a node's figures now. */
export interface StatsSource {
  snapshot(): NodeStats;
}
