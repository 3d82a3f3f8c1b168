/**
 * The metrics side of `metrics-overhead`'s `Metrics` set-up: a `Metrics` of
 * the built Switchboard (`<dist>/ops/metrics/index.js`) watching the target's
 * server, its exposition rendered every second as a Prometheus scrape would
 * ask for it. Rendered in-process (no HTTP client in the measured process):
 * the cost measured is the counting plus producing the text.
 *
 * @example
 * const scrape = await loadScraper(DIST);
 * const stop = scrape({ io });
 * stop();
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

interface MetricsModule {
  Metrics: new () => {
    watch(parts: object): unknown;
    text(): Promise<string>;
    close(): void;
  };
}

/** How often the exposition is rendered, ms (Prometheus' scrape interval at its most eager). */
export const SCRAPE_INTERVAL_MS = 1000;

/** Loads the build's metrics; resolves with a function that starts watching and scraping. */
export async function loadScraper(dist: string): Promise<(parts: object) => () => void> {
  const file = resolve(dist, "ops/metrics/index.js");
  const { Metrics } = (await import(pathToFileURL(file).href)) as MetricsModule;
  return (parts) => scrapeEverySecond(new Metrics(), parts);
}

/** Starts watching `parts` and scraping; returns the function that stops both. */
function scrapeEverySecond(
  metrics: InstanceType<MetricsModule["Metrics"]>,
  parts: object,
): () => void {
  metrics.watch(parts);
  const timer = setInterval(() => {
    metrics.text().catch((error: unknown) => {
      process.stderr.write(`metrics scrape failed: ${(error as Error).message}\n`);
    });
  }, SCRAPE_INTERVAL_MS);
  return () => {
    clearInterval(timer);
    metrics.close();
  };
}
