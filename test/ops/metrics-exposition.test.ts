/**
 * The text exposition writer: format vectors (HELP/TYPE lines, labels,
 * escaping of help text and label values, special values, histograms), and
 * the promise that prom-client's Registry renders the same metric objects
 * byte for byte as our writer does (prom-client is a dev dependency only).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { MemoryBroker } from "../../src/cluster/memory-broker.js";
import { Server } from "../../src/index.js";
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  render,
} from "../../src/ops/metrics/exposition.js";
import { Family, histogramValues } from "../../src/ops/metrics/family.js";
import { Metrics } from "../../src/ops/metrics/index.js";
import { Histogram } from "../../src/shared/histogram.js";
import { untilAsync } from "../socketio/raw-clients.js";

describe("the exposition writer", () => {
  it("writes HELP, TYPE and one line per sample, families apart, a final newline", () => {
    const text = render([
      {
        name: "a_total",
        help: "Things.",
        type: "counter",
        aggregator: "sum",
        values: [
          { value: 3, labels: { protocol: "socketio" } },
          { value: 0.5, labels: { protocol: "bayeux", code: "x" } },
        ],
      },
      { name: "b", help: "Nothing yet.", type: "gauge", aggregator: "sum", values: [] },
      {
        name: "c",
        help: "One.",
        type: "gauge",
        aggregator: "sum",
        values: [{ value: 1, labels: {} }],
      },
    ]);
    assert.equal(
      text,
      [
        "# HELP a_total Things.",
        "# TYPE a_total counter",
        'a_total{protocol="socketio"} 3',
        'a_total{protocol="bayeux",code="x"} 0.5',
        "",
        "# HELP b Nothing yet.",
        "# TYPE b gauge",
        "",
        "# HELP c One.",
        "# TYPE c gauge",
        "c 1",
        "",
      ].join("\n"),
    );
  });

  it("escapes help text and label values as the format requires", () => {
    assert.equal(escapeHelp('a\\b\nc "d"'), 'a\\\\b\\nc "d"');
    assert.equal(escapeLabelValue('say "hi"\\\n'), 'say \\"hi\\"\\\\\\n');
    assert.equal(escapeLabelValue(1.5), "1.5");
    const text = render([
      {
        name: "t",
        help: "Line one\nline two \\ end",
        type: "gauge",
        aggregator: "sum",
        values: [{ value: 1, labels: { topic: '/ room "1"\n' } }],
      },
    ]);
    assert.equal(
      text,
      '# HELP t Line one\\nline two \\\\ end\n# TYPE t gauge\nt{topic="/ room \\"1\\"\\n"} 1\n',
    );
  });

  it("writes special values as Prometheus spells them", () => {
    assert.equal(formatValue(Number.POSITIVE_INFINITY), "+Inf");
    assert.equal(formatValue(Number.NEGATIVE_INFINITY), "-Inf");
    assert.equal(formatValue(Number.NaN), "NaN");
    assert.equal(formatValue(1e21), "1e+21");
    assert.equal(formatValue(-0.25), "-0.25");
  });

  it("writes histograms as cumulative buckets (le last), +Inf, sum and count", () => {
    const h = new Histogram([1, 5]);
    for (const v of [0, 1, 2, 7]) h.observe(v);
    const text = render([
      {
        name: "f",
        help: "Fan-out.",
        type: "histogram",
        aggregator: "sum",
        values: histogramValues("f", h, { protocol: "socketio" }),
      },
    ]);
    assert.equal(
      text,
      [
        "# HELP f Fan-out.",
        "# TYPE f histogram",
        'f_bucket{protocol="socketio",le="1"} 2',
        'f_bucket{protocol="socketio",le="5"} 3',
        'f_bucket{protocol="socketio",le="+Inf"} 4',
        'f_sum{protocol="socketio"} 10',
        'f_count{protocol="socketio"} 4',
        "",
      ].join("\n"),
    );
    assert.throws(() => new Histogram([2, 1]), RangeError);
  });
});

describe("the event-loop monitor", () => {
  it("samples at the resolution asked for, and is left out at 0", async () => {
    const off = new Metrics({ eventLoopResolution: 0 });
    const on = new Metrics({ eventLoopResolution: 5 });
    try {
      const offText = await off.text();
      assert.doesNotMatch(offText, /^switchboard_event_loop_lag_seconds\{/m);
      assert.match(offText, /^# TYPE switchboard_event_loop_lag_seconds gauge$/m);
      // A 60 ms block is seen by a 5 ms monitor, once it has taken its first samples.
      const started = Date.now();
      await untilAsync(async () => Date.now() - started >= 25, 2000, "the monitor to start");
      const until = Date.now() + 60;
      while (Date.now() < until) {}
      // The late sample is recorded when the monitor's timer next fires (a read before
      // that would restart its interval), so a few timer turns pass first.
      const blocked = Date.now();
      await untilAsync(async () => Date.now() - blocked >= 20, 2000, "a few timer turns");
      const text = await on.text();
      const max = Number(/^switchboard_event_loop_lag_max_seconds (\S+)$/m.exec(text)?.[1]);
      assert.ok(max >= 0.03, `max lag ${max}`);
    } finally {
      off.close();
      on.close();
    }
  });
});

describe("prom-client compatibility", () => {
  it("a prom-client Registry renders our metric objects byte for byte as our writer", async () => {
    const h = new Histogram([0.001, 0.5]);
    h.observe(0.0002);
    h.observe(3);
    const families = [
      new Family("x_total", 'Help with \\ and\nnewline and "quotes".', "counter", () => [
        { value: 7, labels: { protocol: "socketio", code: 'ERR "x"\\\n' } },
        { value: 1e-7, labels: { protocol: "bayeux", code: "y" } },
      ]),
      new Family("y", "Empty.", "gauge", () => []),
      new Family("z", "Histogram.", "histogram", () => histogramValues("z", h, { protocol: "b" })),
      new Family("w", "Infinite.", "gauge", () => [
        { value: Number.POSITIVE_INFINITY, labels: {} },
      ]),
    ];
    const registry = new Registry();
    for (const family of families) registry.registerMetric(family as never);
    assert.equal(await registry.metrics(), render(families.map((f) => f.collect())));
  });

  it("a Metrics watching a live node renders as prom-client renders the same families", async () => {
    const broker = new MemoryBroker();
    const io = new Server({ broker });
    const ours = new Metrics({ topicLabels: 2 });
    const registry = new Registry();
    const theirs = new Metrics({ registry, topicLabels: 2 });
    try {
      ours.watch({ io, broker });
      theirs.watch({ io, broker });
      io.of("/chat");
      io.to("lobby").emit("news", "hi");
      // Same families in the same order; the event-loop figures are read (and reset) per scrape.
      const mine = (await ours.text()).replace(/^switchboard_event_loop.*$/gm, "");
      const promText = (await theirs.text()).replace(/^switchboard_event_loop.*$/gm, "");
      const strip = (t: string) =>
        t.replace(/^(process_cpu|process_resident|nodejs_heap).*$/gm, "");
      assert.equal(strip(promText), strip(mine));
      assert.match(mine, /^switchboard_socketio_namespaces 2$/m);
      assert.equal(theirs.contentType, registry.contentType);
    } finally {
      ours.close();
      theirs.close();
      await io.close();
      await broker.close();
    }
  });

  it("skips process figures the user's registry already has, and refuses a second registration", async () => {
    const registry = new Registry();
    const { collectDefaultMetrics } = await import("prom-client");
    collectDefaultMetrics({ register: registry });
    const metrics = new Metrics({ registry });
    try {
      const text = await metrics.text();
      assert.equal(text.match(/^# TYPE process_cpu_seconds_total /gm)?.length, 1);
      assert.equal(text.match(/^# TYPE process_resident_memory_bytes /gm)?.length, 1);
      assert.match(text, /^# TYPE switchboard_connections gauge$/m);
      assert.match(text, /^# TYPE nodejs_heap_used_bytes gauge$/m);
      assert.throws(() => new Metrics({ registry }), { code: "ERR_METRICS_REGISTERED" });
      // The failed one took nothing away.
      assert.match(await registry.metrics(), /^# TYPE switchboard_connections gauge$/m);
      const other = new Metrics({ registry, prefix: "sb2_" });
      other.close();
    } finally {
      metrics.close();
    }
  });

  it("checks its options", () => {
    assert.throws(() => new Metrics({ prefix: "1x" }), { code: "ERR_METRICS_PREFIX" });
    assert.throws(() => new Metrics({ topicLabels: -1 }), { code: "ERR_METRICS_TOPIC_LABELS" });
    assert.throws(() => new Metrics({ topicLabels: 1.5 }), { code: "ERR_METRICS_TOPIC_LABELS" });
    assert.throws(() => new Metrics({ topicLabels: 101 }), { code: "ERR_METRICS_TOPIC_LABELS" });
    for (const eventLoopResolution of [-1, 0.5, 1001]) {
      assert.throws(() => new Metrics({ eventLoopResolution }), {
        code: "ERR_METRICS_EVENT_LOOP_RESOLUTION",
      });
    }
  });
});
