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

/** The five Socket.IO scenarios; each has a Bayeux twin (`bayeux-<name>`) with the same load shape. */
export type BaseScenario = "fanout" | "burst" | "echo" | "idle" | "churn";
export type BayeuxScenario =
  | "bayeux-fanout"
  | "bayeux-burst"
  | "bayeux-publish"
  | "bayeux-idle"
  | "bayeux-churn";
export type ScenarioName = BaseScenario | BayeuxScenario;
export const SCENARIOS: readonly ScenarioName[] = [
  "fanout",
  "burst",
  "echo",
  "idle",
  "churn",
  "bayeux-fanout",
  "bayeux-burst",
  "bayeux-publish",
  "bayeux-idle",
  "bayeux-churn",
];

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
};

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

/** Whether `target` takes part in `scenario` (ws takes part in every one). */
export function runsScenario(target: TargetName, scenario: ScenarioName): boolean {
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
} as const;

/** Where the Bayeux targets are mounted. */
export const BAYEUX_PATH = "/bayeux";

/** What a server child needs to know; passed as JSON in `BENCH_SERVER_CONFIG`. */
export interface ServerConfig {
  scenario: ScenarioName;
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
  | { type: "stats"; id: number; stats: ServerStats }
  | { type: "error"; message: string };

/** Everything a load-generator run needs, for any scenario. */
export interface LoadSpec {
  scenario: ScenarioName;
  protocol: WireProtocol;
  port: number;
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
