/**
 * The logger pieces without a server: the CLI's JSON logger (pino's line
 * shape, levels, child bindings, Error serialisation, the pretty format),
 * the library's line logger, the seam's helpers, the warning rate limit and
 * the routing of SWITCHBOARD_DEBUG lines into a logger.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import { createJsonLogger, type LogLevel } from "../../src/ops/json-logger.js";
import { configureDebug, createDebug, debugLogger, routeDebugTo } from "../../src/shared/debug.js";
import { SwitchboardError } from "../../src/shared/errors.js";
import { LogLimiter } from "../../src/shared/log-limiter.js";
import {
  childLogger,
  debugEnabled,
  defaultLogger,
  type Logger,
  lineLogger,
  silentLogger,
} from "../../src/shared/logger.js";
import { recordingLogger } from "../helpers/recording-logger.js";

const T0 = Date.UTC(2026, 11, 5, 1, 2, 3, 45);

function capture(level?: LogLevel, format?: "json" | "pretty", color = false) {
  const lines: string[] = [];
  const logger = createJsonLogger({
    level,
    format,
    color,
    now: () => T0,
    write: (line) => lines.push(line),
  });
  return { lines, logger, records: () => lines.map((l) => JSON.parse(l)) };
}

describe("createJsonLogger", () => {
  it("writes pino's line shape: level, time, pid, hostname, the object's fields, msg", () => {
    const { lines, logger } = capture();
    logger.info({ sid: "abc", port: 3000 }, "listening");
    logger.warn("plain message");
    assert.equal(lines.length, 2);
    assert.equal(
      lines[0],
      `{"level":30,"time":${T0},"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"sid":"abc","port":3000,"msg":"listening"}`,
    );
    assert.deepEqual(JSON.parse(lines[1]), {
      level: 40,
      time: T0,
      pid: process.pid,
      hostname: hostname(),
      msg: "plain message",
    });
  });

  it("numbers the levels as pino does and drops those below its level", () => {
    const { logger, records } = capture("trace");
    for (const level of ["trace", "debug", "info", "warn", "error", "fatal"] as const) {
      logger[level]({}, level);
    }
    assert.deepEqual(
      records().map((r) => [r.level, r.msg]),
      [
        [10, "trace"],
        [20, "debug"],
        [30, "info"],
        [40, "warn"],
        [50, "error"],
        [60, "fatal"],
      ],
    );
    const warn = capture("warn");
    warn.logger.info({}, "no");
    warn.logger.debug({}, "no");
    warn.logger.error({}, "yes");
    assert.deepEqual(
      warn.records().map((r) => r.msg),
      ["yes"],
    );
    assert.equal(warn.logger.isLevelEnabled("debug"), false);
    assert.equal(warn.logger.isLevelEnabled("warn"), true);
    assert.equal(warn.logger.isLevelEnabled("nonsense"), false);
    const silent = capture("silent");
    silent.logger.fatal({}, "nothing");
    assert.deepEqual(silent.lines, []);
    assert.equal(silent.logger.isLevelEnabled("fatal"), false);
    assert.equal(capture().logger.level, "info");
  });

  it("refuses an unknown level or format", () => {
    assert.throws(() => createJsonLogger({ level: "loud" as LogLevel }), TypeError);
    assert.throws(() => createJsonLogger({ format: "xml" as "json" }), TypeError);
  });

  it("child() adds bindings to every record, children of children too", () => {
    const { logger, records } = capture("debug");
    const engine = logger.child({ component: "engine" });
    engine.debug({ sid: "s1" }, "handshake");
    engine.child({ node: "a" }).info({}, "joined");
    logger.info({}, "root");
    const [a, b, c] = records();
    assert.equal(a.component, "engine");
    assert.equal(a.sid, "s1");
    assert.equal(b.component, "engine");
    assert.equal(b.node, "a");
    assert.equal(c.component, undefined);
    assert.equal(engine.isLevelEnabled("debug"), true);
  });

  it("serialises an err as {type, message, stack, code}, and an Error passed alone", () => {
    const { logger, records } = capture();
    const err = new SwitchboardError("ERR_TEST", "it broke");
    logger.error({ err, sid: "x" }, "failed");
    logger.error(new TypeError("bad type"));
    const [a, b] = records();
    assert.equal(a.err.type, "SwitchboardError");
    assert.equal(a.err.message, "it broke");
    assert.equal(a.err.code, "ERR_TEST");
    assert.match(a.err.stack, /it broke/);
    assert.equal(a.msg, "failed");
    assert.equal(b.err.type, "TypeError");
    assert.equal(b.msg, "bad type");
  });

  it("writes cycles and BigInts without throwing", () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = { name: "a" };
    cyclic.self = cyclic;
    logger.info({ cyclic, big: 10n }, "odd values");
    const [r] = records();
    assert.equal(r.cyclic.self, "[Circular]");
    assert.equal(r.big, "10");
  });

  it("pretty: HH:MM:SS.mmm LEVEL msg key=value, the stack under an error, colours on request", () => {
    const { lines, logger } = capture("debug", "pretty");
    logger.child({ component: "engine" }).debug({ sid: "s1", reason: "ping timeout" }, "closed");
    logger.error({ err: new Error("boom") }, "failed");
    assert.match(
      lines[0],
      /^\d\d:\d\d:\d\d\.045 DEBUG closed component=engine sid=s1 reason="ping timeout"$/,
    );
    const [first, ...stack] = lines[1].split("\n");
    assert.match(first, /^\d\d:\d\d:\d\d\.045 ERROR failed err="boom"$/);
    assert.ok(stack.length > 0 && stack.every((l) => l.startsWith("    ")));
    const coloured = capture("info", "pretty", true);
    coloured.logger.warn({}, "careful");
    assert.ok(coloured.lines[0].includes("\u001b[33mWARN \u001b[0m careful"), coloured.lines[0]);
  });
});

/** pino's logger type, as far as a server uses it (its LogFn overloads, child, isLevelEnabled). */
interface PinoLogFn {
  <T extends object>(obj: T, msg?: string, ...args: unknown[]): void;
  (obj: unknown, msg?: string, ...args: unknown[]): void;
  (msg: string, ...args: unknown[]): void;
}
interface PinoShaped {
  level: string;
  trace: PinoLogFn;
  debug: PinoLogFn;
  info: PinoLogFn;
  warn: PinoLogFn;
  error: PinoLogFn;
  fatal: PinoLogFn;
  silent: PinoLogFn;
  child(bindings: Record<string, unknown>, options?: { level?: string }): PinoShaped;
  isLevelEnabled(level: string): boolean;
}

describe("the logger seam", () => {
  it("takes pino's type, console and a printf-style logger (compile-time)", () => {
    const fromPino = (pino: PinoShaped): Logger => pino;
    const fromConsole: Logger = console;
    const printf: Logger = {
      debug(_message: string, ..._args: unknown[]) {},
      info(_message: string, ..._args: unknown[]) {},
      warn(_message: string, ..._args: unknown[]) {},
      error(_message: string, ..._args: unknown[]) {},
    };
    assert.equal(typeof fromPino, "function");
    assert.equal(typeof fromConsole.warn, "function");
    assert.equal(typeof printf.debug, "function");
  });

  it("childLogger uses child() when there is one, else the logger itself", () => {
    const { logger, records } = recordingLogger();
    childLogger(logger, { component: "bayeux" }).info({ clientId: "c" }, "hello");
    assert.deepEqual(records[0].bindings, { component: "bayeux" });
    const plain: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    assert.equal(childLogger(plain, { component: "x" }), plain);
  });

  it("debugEnabled asks isLevelEnabled, and assumes yes without it", () => {
    assert.equal(debugEnabled(silentLogger), false);
    assert.equal(debugEnabled(defaultLogger), false);
    assert.equal(debugEnabled(createJsonLogger({ level: "debug", write() {} })), true);
    assert.equal(debugEnabled(console), true);
  });

  it("lineLogger writes warn and above as one readable line, drops debug and info", () => {
    const lines: string[] = [];
    const logger = lineLogger((line) => lines.push(line));
    logger.debug({ sid: "a" }, "no");
    logger.info({ sid: "a" }, "no");
    logger.warn({ node: "b", err: new Error("gone") }, "node died");
    logger.error("plain");
    assert.deepEqual(lines, [
      "switchboard: warn: node died node=b err=gone",
      "switchboard: error: plain",
    ]);
  });

  it("a printf-style logger receives the object first, the message second", () => {
    const calls: unknown[][] = [];
    const printf = {
      debug(message: string, ...args: unknown[]) {
        calls.push([message, ...args]);
      },
      info() {},
      warn() {},
      error() {},
    };
    const logger: Logger = printf;
    logger.debug({ sid: "a" }, "handshake");
    assert.deepEqual(calls, [[{ sid: "a" }, "handshake"]]);
  });
});

describe("LogLimiter", () => {
  it("lets one record through per interval and counts the ones left out", () => {
    let now = 1000;
    const limit = new LogLimiter(10_000, () => now);
    assert.equal(limit.take(), 0);
    assert.equal(limit.take(), -1);
    assert.equal(limit.take(), -1);
    now += 9_999;
    assert.equal(limit.take(), -1);
    now += 1;
    assert.equal(limit.take(), 3);
    assert.equal(limit.take(), -1);
  });
});

describe("SWITCHBOARD_DEBUG routed into a logger", () => {
  it("routeDebugTo sends enabled namespaces' lines as debug records with ns", () => {
    const { logger, records } = capture("debug");
    configureDebug({ SWITCHBOARD_DEBUG: "engine" });
    try {
      routeDebugTo(logger);
      createDebug("engine")("handshake %s", "abc");
      createDebug("socketio")("not enabled");
      const [r, ...rest] = records();
      assert.deepEqual(rest, []);
      assert.equal(r.level, 20);
      assert.equal(r.ns, "switchboard:engine");
      assert.equal(r.msg, "handshake abc");
    } finally {
      routeDebugTo(null);
      configureDebug({});
    }
  });

  it("debugLogger: without a logger option, an enabled namespace prints a component's records", () => {
    const lines: string[] = [];
    configureDebug({ SWITCHBOARD_DEBUG: "bayeux" }, (line) => lines.push(line));
    try {
      const logger = debugLogger("bayeux");
      assert.equal(debugEnabled(logger), true);
      logger.debug({ clientId: "c1", reason: "expired" }, "session ended");
      assert.equal(lines.length, 1);
      assert.match(lines[0], /switchboard:bayeux session ended clientId=c1 reason=expired$/);
      assert.equal(debugLogger("engine"), defaultLogger);
    } finally {
      configureDebug({}, (line) => process.stderr.write(`${line}\n`));
    }
  });
});
