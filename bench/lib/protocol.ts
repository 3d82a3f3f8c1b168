/**
 * Messages exchanged over IPC between the orchestrator (`bench/run.ts`), the
 * target server child and the load-generator child, plus the names shared by
 * all three. Kept in one file so the three processes cannot drift apart.
 */

/**
 * The servers compared in one run. `ws` is the bare ceiling of both families;
 * `switchboard` and `socketio` run the Socket.IO scenarios, `switchboard-bayeux`
 * (Switchboard's BayeuxServer) and `faye` (faye 1.4) the Bayeux ones.
 */
export type TargetName = "switchboard" | "socketio" | "switchboard-bayeux" | "faye" | "ws";
export const TARGETS: readonly TargetName[] = [
  "switchboard",
  "socketio",
  "switchboard-bayeux",
  "faye",
  "ws",
];

/**
 * The load shapes. The five single-node Socket.IO scenarios and the two
 * cluster ones each have a Bayeux twin (`bayeux-<name>`) with the same shape;
 * the cluster scenarios run the fan-out shape across two nodes
 * (`cluster-fanout`) and the `interest` shape (many rooms, each room's
 * members on one node).
 */
export type BaseScenario = "fanout" | "burst" | "echo" | "idle" | "churn" | "interest" | "polling";
export type ClusterScenario =
  | "cluster-fanout"
  | "cluster-interest"
  | "bayeux-cluster-fanout"
  | "bayeux-cluster-interest";
/**
 * The long-polling twins of the fan-out and echo: the same load shapes and
 * server code, with receivers (echo clients) speaking Engine.IO polling or
 * Bayeux long-polling over plain HTTP instead of a websocket; a fan-out's
 * publisher stays on a websocket. The bare `ws` target has no polling.
 */
export type PollingScenario = "fanout-polling" | "bayeux-fanout-polling" | "echo-polling";
export type BayeuxScenario =
  | "bayeux-fanout"
  | "bayeux-burst"
  | "bayeux-publish"
  | "bayeux-idle"
  | "bayeux-churn";
/**
 * Scenarios that compare set-ups of Switchboard alone (no peer, no ceiling):
 * `polling-nosticky` one node against two forwarding nodes behind a
 * round-robin proxy, `fanout-recovery` the websocket fan-out with connection
 * state recovery off, on with the in-memory log and on with the Redis log,
 * `cluster-fanout-recovery` the fan-out over two nodes on one broker with
 * recovery off and on across the nodes (Redis message log and session store),
 * `bayeux-cluster-fanout-recovery` its Bayeux twin: the Bayeux fan-out over
 * two nodes on one broker without and with the channel log (every publish
 * appended to one Redis stream each node delivers from), `metrics-overhead`
 * the fan-out and echo loads of both protocols on the baseline build against
 * this build with `Metrics` watching and scraped every second. Every set-up
 * runs in each rep, one after the other.
 */
export type SetupScenario =
  | "polling-nosticky"
  | "fanout-recovery"
  | "cluster-fanout-recovery"
  | "bayeux-cluster-fanout-recovery"
  | "metrics-overhead";
export type ScenarioName =
  | Exclude<BaseScenario, "interest" | "polling">
  | BayeuxScenario
  | ClusterScenario
  | PollingScenario
  | SetupScenario;
export const SCENARIOS: readonly ScenarioName[] = [
  "fanout",
  "burst",
  "echo",
  "idle",
  "churn",
  "cluster-fanout",
  "cluster-interest",
  "bayeux-fanout",
  "bayeux-burst",
  "bayeux-publish",
  "bayeux-idle",
  "bayeux-churn",
  "bayeux-cluster-fanout",
  "bayeux-cluster-interest",
  "fanout-polling",
  "bayeux-fanout-polling",
  "echo-polling",
  "polling-nosticky",
  "fanout-recovery",
  "cluster-fanout-recovery",
  "bayeux-cluster-fanout-recovery",
  "metrics-overhead",
];

/** The cluster scenarios: two server processes (nodes) joined through Redis. */
export const CLUSTER_SCENARIOS: readonly ScenarioName[] = [
  "cluster-fanout",
  "cluster-interest",
  "bayeux-cluster-fanout",
  "bayeux-cluster-interest",
];

/** Whether `scenario` runs two nodes on one Redis. */
export function isCluster(scenario: ScenarioName): boolean {
  return CLUSTER_SCENARIOS.includes(scenario);
}

/** The scenarios whose receivers (or echo clients) long-poll (see {@link PollingScenario}). */
export const POLLING_SCENARIOS: readonly ScenarioName[] = [
  "fanout-polling",
  "bayeux-fanout-polling",
  "echo-polling",
];

/** Whether the receivers (echo clients) of `scenario` use HTTP long-polling. */
export function isPollingScenario(scenario: ScenarioName): scenario is PollingScenario {
  return POLLING_SCENARIOS.includes(scenario);
}

/** The scenarios that compare Switchboard set-ups (see {@link SetupScenario}). */
export const SETUP_SCENARIOS: readonly ScenarioName[] = [
  "polling-nosticky",
  "fanout-recovery",
  "cluster-fanout-recovery",
  "bayeux-cluster-fanout-recovery",
  "metrics-overhead",
];

/** Whether `scenario` compares Switchboard set-ups instead of targets. */
export function isSetupScenario(scenario: ScenarioName): scenario is SetupScenario {
  return SETUP_SCENARIOS.includes(scenario);
}

/** Nodes of a cluster scenario; the publisher is always on the first. */
export const CLUSTER_NODES = 2;

/** A scenario family: which targets it runs against and which wire protocol they speak. */
export type Family = "socketio" | "bayeux";

/** Targets of each family, in table order (the `ws` ceiling last). */
export const FAMILY_TARGETS: Record<Family, readonly TargetName[]> = {
  socketio: ["switchboard", "socketio", "ws"],
  bayeux: ["switchboard-bayeux", "faye", "ws"],
};

const BASE_OF: Record<ScenarioName, BaseScenario> = {
  fanout: "fanout",
  burst: "burst",
  echo: "echo",
  idle: "idle",
  churn: "churn",
  "bayeux-fanout": "fanout",
  "bayeux-burst": "burst",
  // Publish-with-reply is the Bayeux form of echo-with-ack: a closed loop of requests.
  "bayeux-publish": "echo",
  "bayeux-idle": "idle",
  "bayeux-churn": "churn",
  "cluster-fanout": "fanout",
  "bayeux-cluster-fanout": "fanout",
  "cluster-interest": "interest",
  "bayeux-cluster-interest": "interest",
  "fanout-polling": "fanout",
  "bayeux-fanout-polling": "fanout",
  "echo-polling": "echo",
  "polling-nosticky": "polling",
  "fanout-recovery": "fanout",
  "cluster-fanout-recovery": "fanout",
  "bayeux-cluster-fanout-recovery": "fanout",
  // It runs four loads (see METRICS_LOADS); the fan-out's is its nominal shape.
  "metrics-overhead": "fanout",
};

/**
 * The loads of `metrics-overhead`, each run on both of its set-ups: the
 * Socket.IO fan-out and echo, the Bayeux fan-out and publish-with-reply.
 */
export const METRICS_LOADS = ["fanout", "echo", "bayeux-fanout", "bayeux-publish"] as const;

/** The suffix of a `metrics-overhead` load's metrics (`cpuPer100kBayeuxFanoutBase`). */
export function loadTag(load: (typeof METRICS_LOADS)[number]): string {
  return load
    .split("-")
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join("");
}

/**
 * The load shape of a scenario (the Bayeux ones reuse the Socket.IO ones' code).
 *
 * @example
 * baseScenario("bayeux-publish"); // "echo"
 */
export function baseScenario(scenario: ScenarioName): BaseScenario {
  return BASE_OF[scenario];
}

export function familyOf(scenario: ScenarioName): Family {
  return scenario.startsWith("bayeux-") ? "bayeux" : "socketio";
}

/**
 * Whether `target` takes part in `scenario`: the targets of its family, and
 * of the cluster scenarios only the ones that can join a cluster (not `ws`),
 * of the set-up scenarios only `switchboard`, of the polling ones all but `ws`.
 */
export function runsScenario(target: TargetName, scenario: ScenarioName): boolean {
  if (isSetupScenario(scenario)) return target === "switchboard";
  if ((isCluster(scenario) || isPollingScenario(scenario)) && target === "ws") return false;
  return FAMILY_TARGETS[familyOf(scenario)].includes(target);
}

/**
 * How the load generator talks to a target: `sio` is Engine.IO v4 + Socket.IO
 * v5 over a raw websocket (switchboard and socket.io get the same client
 * code); `bayeux` is Bayeux 1.0 over a raw websocket (switchboard-bayeux and
 * faye get the same client code); `ws` is the trivial JSON protocol of the
 * bare target.
 */
export type WireProtocol = "sio" | "bayeux" | "ws";

/**
 * Bayeux channels of the bench application. Receivers of the fan-out
 * scenarios subscribe to `deliveries`; every other client subscribes to a
 * channel of its own under `own` (so it is a handshaken, subscribed client
 * that receives nothing); controllers publish requests under `control`; the
 * publish-with-reply scenario publishes to `echo`, which nobody subscribes to.
 */
export const BAYEUX_CHANNELS = {
  deliveries: "/bench/m",
  own: "/bench/own/",
  control: "/bench/ctl/",
  echo: "/bench/echo",
  rooms: "/bench/r/",
} as const;

/** The Socket.IO room (and, under `BAYEUX_CHANNELS.rooms`, the Bayeux channel) of room `n`. */
export function roomName(n: number): string {
  return `r${n}`;
}

/** Where the Bayeux targets are mounted. */
export const BAYEUX_PATH = "/bayeux";

/** How a node of a cluster scenario joins the others. */
export interface ClusterConfig {
  /** This node's id (`node1`, `node2`). */
  nodeId: string;
  /** Where the node reaches Redis: the counting proxy in front of `REDIS_URL`. */
  redisUrl: string;
  /** Key and channel prefix of this run, unique per run. */
  prefix: string;
}

/**
 * The connection state recovery set-up of a `fanout-recovery` run: off
 * (absent), on with the in-memory log, or on with a Redis message log under
 * the run's prefix. `cluster` (a node of `cluster-fanout-recovery`, next to
 * its broker): a Redis message log and a Redis session store under the
 * prefix the node's broker has, which turns recovery on across the nodes; on
 * a Bayeux node (`bayeux-cluster-fanout-recovery`) what the standalone server
 * gives it with recovery on: the channel log, the session store and the ack
 * log on Redis under that prefix.
 */
export type RecoveryConfig =
  | { log: "memory" }
  | { log: "redis" | "cluster"; redisUrl: string; prefix: string };

/** What a server child needs to know; passed as JSON in `BENCH_SERVER_CONFIG`. */
export interface ServerConfig {
  scenario: ScenarioName;
  /**
   * Set for the cluster scenarios, and for each node of `polling-nosticky`
   * (there the node's broker and session store share the run's prefix) and
   * of `cluster-fanout-recovery` and `bayeux-cluster-fanout-recovery` (a
   * broker only).
   */
  cluster?: ClusterConfig;
  /**
   * `fanout-recovery`: connection state recovery on, with this log;
   * `cluster-fanout-recovery`: on across the nodes (with `cluster`);
   * `bayeux-cluster-fanout-recovery`: the channel log on (with `cluster`).
   */
  recovery?: RecoveryConfig;
  /** The round-robin proxy child: the ports of the nodes it spreads requests over. */
  upstreams?: number[];
  /**
   * `metrics-overhead`: the Switchboard build directory to load (relative to
   * the repository or absolute) instead of `BENCH_SWITCHBOARD_DIST` / `dist`.
   */
  dist?: string;
  /** `metrics-overhead`: watch the server with `Metrics` and render its exposition every second. */
  metrics?: boolean;
}

/** A snapshot of a server child's resource use. CPU in microseconds, memory in bytes. */
export interface ServerStats {
  cpuUser: number;
  cpuSystem: number;
  rss: number;
  heapUsed: number;
  external: number;
}

/** Orchestrator → server child. */
export type ServerCommand = { type: "stats"; id: number; gc: boolean } | { type: "stop" };

/** Server child → orchestrator. */
export type ServerReport =
  | { type: "ready"; port: number }
  /** The target cannot run this scenario here (say, a cluster API not built yet). */
  | { type: "skip"; reason: string }
  | { type: "stats"; id: number; stats: ServerStats }
  | { type: "error"; message: string };

/** Everything a load-generator run needs, for any scenario. */
export interface LoadSpec {
  scenario: ScenarioName;
  protocol: WireProtocol;
  port: number;
  /**
   * Every node's port, the first being `port`: one entry for a single
   * server, one per node in the cluster scenarios (receivers are spread over
   * them, the publisher uses the first).
   */
  ports: number[];
  /** Interest: rooms (Bayeux channels); each room's members are on one node. */
  rooms: number;
  /** Receiving clients (fan-out, burst), echo clients, or idle connections. */
  clients: number;
  /** Measured duration for the timed scenarios (fan-out, echo), in ms. */
  durationMs: number;
  /** Unmeasured warm-up before the measured window, in ms. */
  warmupMs: number;
  /** Fan-out publish rate, messages per second. */
  rate: number;
  /** Burst: messages the server broadcasts. */
  messages: number;
  /** Burst: messages emitted per event-loop turn (setImmediate between batches). */
  batch: number;
  /** Size of the filler string carried by every message. */
  payloadBytes: number;
  /** Echo: requests in flight per client. */
  window: number;
  /** Handshakes in flight at once while connecting. */
  connectConcurrency: number;
  /** Churn: rounds of opening and closing `clients` connections. */
  rounds: number;
}

/** Orchestrator → load child (its `LoadSpec` comes as JSON in `BENCH_LOAD_SPEC`). */
export type LoadCommand = { type: "continue" };

/** Raw numbers measured by the load generator (names per scenario, see `load/*.ts`). */
export type Metrics = Record<string, number>;

/** Load child → orchestrator. A barrier pauses the load until `continue`. */
export type LoadReport =
  | { type: "barrier"; name: BarrierName }
  | { type: "result"; metrics: Metrics }
  | { type: "error"; message: string };

/**
 * Points where the load generator waits for the orchestrator to snapshot the
 * server: `start`/`end` bracket a measured window (CPU), `baseline`/`loaded`
 * bracket the idle connections (memory after a forced GC), `round<n>` ends
 * churn round n, every connection of it closed (memory after a forced GC).
 */
export type BarrierName = "start" | "end" | "baseline" | "loaded" | `round${number}`;

/** The barrier that ends churn round `round` (1-based). */
export function roundBarrier(round: number): BarrierName {
  return `round${round}`;
}

/** Whether the orchestrator forces a GC before its snapshot at `name` (memory barriers). */
export function isMemoryBarrier(name: BarrierName): boolean {
  return name === "baseline" || name === "loaded" || name.startsWith("round");
}
