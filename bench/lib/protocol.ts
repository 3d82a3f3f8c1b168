/**
 * Messages exchanged over IPC between the orchestrator (`bench/run.ts`), the
 * target server child and the load-generator child, plus the names shared by
 * all three. Kept in one file so the three processes cannot drift apart.
 */

/** The servers compared in one run. `ws` is the bare ceiling. */
export type TargetName = "switchboard" | "socketio" | "ws";
export const TARGETS: readonly TargetName[] = ["switchboard", "socketio", "ws"];

export type ScenarioName = "fanout" | "burst" | "echo" | "idle";
export const SCENARIOS: readonly ScenarioName[] = ["fanout", "burst", "echo", "idle"];

/**
 * How the load generator talks to a target: `sio` is Engine.IO v4 + Socket.IO
 * v5 over a raw websocket (switchboard and socket.io get the same client
 * code); `ws` is the trivial JSON protocol of the bare target.
 */
export type WireProtocol = "sio" | "ws";

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
 * bracket the idle connections (memory after a forced GC).
 */
export type BarrierName = "start" | "end" | "baseline" | "loaded";
