/**
 * Prometheus metrics of a Switchboard node. `watch({ io, bayeux, broker })`
 * points the metric families at the servers; `text()` renders the
 * exposition and `handle(req, res)` serves it (mount it at `/metrics` or
 * anywhere). The layers count on their hot paths with plain field
 * increments; a scrape reads those counters, so metrics cost nothing between
 * scrapes.
 *
 * prom-client is not a dependency: the metric objects have the shape its
 * registry takes, so with `registry` (a prom-client `Registry`, e.g. its
 * `register`) they are registered there and the registry renders them with
 * the user's own metrics; without one, Switchboard's own writer renders them
 * in the same format.
 *
 * @example
 * import { Metrics } from "switchboard/metrics";
 *
 * const metrics = new Metrics();
 * metrics.watch({ io, bayeux });
 * http.createServer((req, res) => {
 *   if (req.url === "/metrics") return metrics.handle(req, res);
 *   app(req, res);
 * });
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type NodeParts, NodeStatsReader } from "../node-stats.js";
import { MetricsError } from "./errors.js";
import { CONTENT_TYPE, render } from "./exposition.js";
import { switchboardFamilies } from "./families.js";
import type { Family } from "./family.js";
import { metricsHandler } from "./handler.js";
import { LAG_RESOLUTION, ProcessFigures } from "./process.js";

/** The part of a prom-client `Registry` the metrics use. */
export interface PromRegistryLike {
  /** Takes a {@link Family} (typed loosely: prom-client's own `Metric` type is a union of its classes). */
  // biome-ignore lint/suspicious/noExplicitAny: prom-client's registry is typed for its own classes.
  registerMetric(metric: any): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
  readonly contentType?: string;
  removeSingleMetric?(name: string): void;
}

export interface MetricsOptions {
  /** A prom-client `Registry` to register into (then it renders the exposition). */
  registry?: PromRegistryLike;
  /** Prefix of Switchboard's metric names. Default `switchboard_`. */
  prefix?: string;
  /**
   * How many of the busiest rooms and channels (per protocol, by messages)
   * get a `topic` label in `switchboard_topic_messages_total`. Default 0: no
   * topic names as labels at all. At most 100.
   */
  topicLabels?: number;
  /**
   * Milliseconds between the event-loop monitor's samples (1 to 1000), or 0
   * for no monitor (no lag gauges). Default 50: each sample wakes an idle
   * loop, so a finer one costs CPU on a quiet node.
   */
  eventLoopResolution?: number;
}

/** Most topics `topicLabels` may ask for. */
export const MAX_TOPIC_LABELS = 100;

export class Metrics {
  readonly prefix: string;
  readonly topicLabels: number;
  /** Reads the watched servers' figures (also what `/metrics` reads). */
  readonly reader: NodeStatsReader;
  readonly #registry: PromRegistryLike | undefined;
  readonly #parts: NodeParts = {};
  readonly #process: ProcessFigures;
  readonly #families: Family[];
  readonly #nodeEvents = { up: 0, down: 0 };
  #stopNodes: (() => void) | null = null;
  readonly #handler: (req: IncomingMessage, res: ServerResponse) => void;

  constructor(options: MetricsOptions = {}) {
    const prefix = options.prefix ?? "switchboard_";
    if (
      typeof prefix !== "string" ||
      (prefix !== "" && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    ) {
      throw new MetricsError(
        "ERR_METRICS_PREFIX",
        `metrics prefix ${JSON.stringify(prefix)} is not a metric name start ([a-zA-Z_:][a-zA-Z0-9_:]*)`,
      );
    }
    const topicLabels = options.topicLabels ?? 0;
    if (!Number.isInteger(topicLabels) || topicLabels < 0 || topicLabels > MAX_TOPIC_LABELS) {
      throw new MetricsError(
        "ERR_METRICS_TOPIC_LABELS",
        `metrics topicLabels must be an integer from 0 to ${MAX_TOPIC_LABELS}`,
      );
    }
    const resolution = options.eventLoopResolution ?? LAG_RESOLUTION;
    if (!Number.isInteger(resolution) || resolution < 0 || resolution > 1000) {
      throw new MetricsError(
        "ERR_METRICS_EVENT_LOOP_RESOLUTION",
        "metrics eventLoopResolution must be an integer from 0 (off) to 1000 ms",
      );
    }
    this.prefix = prefix;
    this.topicLabels = topicLabels;
    this.#registry = options.registry;
    this.reader = new NodeStatsReader(this.#parts);
    this.#process = new ProcessFigures(prefix, resolution);
    this.#process.start();
    const own = switchboardFamilies(this.reader, {
      prefix,
      topicLabels,
      nodeEvents: this.#nodeEvents,
    });
    const processFamilies = this.#process.families();
    const registry = this.#registry;
    if (registry === undefined) {
      this.#families = [...processFamilies, ...own];
    } else {
      // The registry's own default metrics (collectDefaultMetrics) keep their names.
      const fresh = processFamilies.filter((f) => registry.getSingleMetric(f.name) === undefined);
      this.#families = [...fresh, ...own];
      const added: Family[] = [];
      try {
        for (const family of this.#families) {
          registry.registerMetric(family);
          added.push(family);
        }
      } catch (err) {
        for (const family of added) registry.removeSingleMetric?.(family.name);
        this.#process.close();
        throw new MetricsError(
          "ERR_METRICS_REGISTERED",
          `cannot register Switchboard's metrics: ${(err as Error)?.message ?? err} (another Metrics on this registry? give it another prefix)`,
          { cause: err },
        );
      }
    }
    this.#handler = metricsHandler(
      () => this.text(),
      () => this.contentType,
    );
  }

  /** The metric objects (prom-client compatible), in exposition order. */
  get families(): readonly Family[] {
    return this.#families;
  }

  /** The Content-Type of `text()`. */
  get contentType(): string {
    return this.#registry?.contentType ?? CONTENT_TYPE;
  }

  /**
   * Counts what `parts` do (any of a Socket.IO server, a Bayeux server, a
   * broker); a part given again replaces the one watched before.
   *
   * @example
   * metrics.watch({ io }).watch({ bayeux, broker });
   */
  watch(parts: NodeParts): this {
    if (parts.io !== undefined) this.#parts.io = parts.io;
    if (parts.bayeux !== undefined) this.#parts.bayeux = parts.bayeux;
    if (parts.broker !== undefined && parts.broker !== this.#parts.broker) {
      this.#stopNodes?.();
      this.#stopNodes = null;
      this.#parts.broker = parts.broker;
      this.#stopNodes =
        parts.broker?.onNodes((event) => {
          this.#nodeEvents[event]++;
        }) ?? null;
    }
    return this;
  }

  /**
   * The exposition: Switchboard's families rendered by its own writer, or,
   * with a `registry`, everything that registry holds (ours included).
   */
  text(): Promise<string> {
    const registry = this.#registry;
    if (registry !== undefined) return registry.metrics();
    try {
      return Promise.resolve(render(this.#families.map((f) => f.collect())));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Answers GET/HEAD with the exposition (405 for other methods); mount it at `/metrics`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#handler(req, res);
  }

  /** Stops the event-loop monitor and the broker listener; a registry keeps the families. */
  close(): void {
    this.#process.close();
    this.#stopNodes?.();
    this.#stopNodes = null;
  }
}
