/**
 * `switchboard` option parsing: defaults, flags over environment over
 * defaults, list forms of --cors-origin, and every kind of bad input ending in
 * a CliUsageError (the process turns it into exit code 2).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactRedisUrl } from "../../src/cli/cluster.js";
import { CliStartError, CliUsageError } from "../../src/cli/errors.js";
import {
  type CliCommand,
  DEFAULTS,
  parseCli,
  type ServeOptions,
  USAGE,
} from "../../src/cli/options.js";
import { startServer } from "../../src/cli/server.js";

function serve(argv: string[], env: NodeJS.ProcessEnv = {}): ServeOptions {
  const command: CliCommand = parseCli(argv, env);
  assert.equal(command.kind, "serve");
  return (command as { options: ServeOptions }).options;
}

function usageError(argv: string[], env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(
    () => parseCli(argv, env),
    (err: unknown) => {
      assert.ok(err instanceof CliUsageError, `expected CliUsageError, got ${String(err)}`);
      assert.equal(err.code, "ERR_CLI_USAGE");
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe("parseCli", () => {
  it("has the documented defaults", () => {
    assert.deepEqual(serve([]), {
      port: 3000,
      host: "0.0.0.0",
      path: "/socket.io",
      bayeuxPath: "/bayeux",
      shutdownTimeout: 10_000,
      logLevel: "info",
      logFormat: "json",
    });
    assert.equal(DEFAULTS.port, 3000);
  });

  it("reads every flag", () => {
    assert.deepEqual(
      serve([
        "--port=0",
        "--host",
        "127.0.0.1",
        "--path",
        "/rt/",
        "--cors-origin",
        "https://a.example",
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
        "--shutdown-timeout",
        "250",
      ]),
      {
        port: 0,
        host: "127.0.0.1",
        path: "/rt",
        bayeuxPath: "/bayeux",
        corsOrigin: ["https://a.example"],
        tls: { certFile: "c.pem", keyFile: "k.pem", names: "--tls-cert/--tls-key" },
        shutdownTimeout: 250,
        logLevel: "info",
        logFormat: "json",
      },
    );
    assert.equal(serve(["-p", "8080"]).port, 8080);
  });

  it("reads the environment, flags winning over it", () => {
    const env = {
      SWITCHBOARD_PORT: "4000",
      PORT: "5000",
      SWITCHBOARD_HOST: "::1",
      SWITCHBOARD_PATH: "/env-io",
      SWITCHBOARD_CORS_ORIGIN: "http://a.test, http://b.test:8080",
      SWITCHBOARD_TLS_CERT: "cert.pem",
      SWITCHBOARD_TLS_KEY: "key.pem",
      SWITCHBOARD_SHUTDOWN_TIMEOUT: "0",
    };
    assert.deepEqual(serve([], env), {
      port: 4000,
      host: "::1",
      path: "/env-io",
      bayeuxPath: "/bayeux",
      corsOrigin: ["http://a.test", "http://b.test:8080"],
      tls: {
        certFile: "cert.pem",
        keyFile: "key.pem",
        names: "SWITCHBOARD_TLS_CERT/SWITCHBOARD_TLS_KEY",
      },
      shutdownTimeout: 0,
      logLevel: "info",
      logFormat: "json",
    });
    assert.equal(serve([], { PORT: "5000" }).port, 5000);
    assert.equal(serve([], { PORT: "5000", SWITCHBOARD_PORT: "" }).port, 5000);
    const flagged = serve(["--port", "1", "--host", "localhost", "--cors-origin", "*"], env);
    assert.equal(flagged.port, 1);
    assert.equal(flagged.host, "localhost");
    assert.equal(flagged.corsOrigin, "*");
    assert.equal(serve([]).drainDelay, undefined);
    assert.equal(serve(["--drain-delay", "5000"]).drainDelay, 5000);
    assert.equal(serve([], { SWITCHBOARD_DRAIN_DELAY: "250" }).drainDelay, 250);
  });

  it("accepts repeated and comma-listed origins, * winning", () => {
    assert.deepEqual(
      serve(["--cors-origin", "http://a.test,https://b.test/", "--cors-origin", "http://a.test"])
        .corsOrigin,
      ["http://a.test", "https://b.test"],
    );
    assert.equal(serve(["--cors-origin", "http://a.test,*"]).corsOrigin, "*");
  });

  it("reads --log-level and --log-format, the environment, and SWITCHBOARD_DEBUG's default", () => {
    assert.equal(serve(["--log-level", "warn"]).logLevel, "warn");
    assert.equal(serve(["--log-level=SILENT"]).logLevel, "silent");
    assert.equal(serve([], { SWITCHBOARD_LOG_LEVEL: "error" }).logLevel, "error");
    assert.equal(
      serve(["--log-level", "trace"], { SWITCHBOARD_LOG_LEVEL: "error" }).logLevel,
      "trace",
    );
    assert.equal(serve([], { SWITCHBOARD_DEBUG: "engine" }).logLevel, "debug");
    assert.equal(serve([], { SWITCHBOARD_DEBUG: "1" }).logLevel, "debug");
    assert.equal(serve([], { SWITCHBOARD_DEBUG: "0" }).logLevel, "info");
    assert.equal(serve([], { DEBUG: "switchboard:*" }).logLevel, "debug");
    assert.equal(serve([], { DEBUG: "express:*" }).logLevel, "info");
    assert.equal(serve(["--log-level", "warn"], { SWITCHBOARD_DEBUG: "1" }).logLevel, "warn");
    assert.equal(serve(["--log-format", "pretty"]).logFormat, "pretty");
    assert.equal(serve([], { SWITCHBOARD_LOG_FORMAT: "pretty" }).logFormat, "pretty");
    assert.equal(
      serve(["--log-format", "json"], { SWITCHBOARD_LOG_FORMAT: "pretty" }).logFormat,
      "json",
    );
    usageError(
      ["--log-level", "loud"],
      {},
      /invalid --log-level "loud": expected one of trace, debug/,
    );
    usageError([], { SWITCHBOARD_LOG_LEVEL: "verbose" }, /invalid SWITCHBOARD_LOG_LEVEL "verbose"/);
    usageError(["--log-format", "xml"], {}, /invalid --log-format "xml": expected json or pretty/);
    assert.match(USAGE, /--log-format <format>/);
    assert.match(USAGE, /--log-level <level>/);
  });

  it("reads the Bayeux path from --bayeux-path, the environment, or turns it off", () => {
    assert.equal(serve(["--bayeux-path", "/faye/"]).bayeuxPath, "/faye");
    assert.equal(serve([], { SWITCHBOARD_BAYEUX_PATH: "/cometd" }).bayeuxPath, "/cometd");
    assert.equal(
      serve(["--bayeux-path", "/flag"], { SWITCHBOARD_BAYEUX_PATH: "/env" }).bayeuxPath,
      "/flag",
    );
    assert.equal(serve(["--no-bayeux"]).bayeuxPath, false);
    assert.equal(serve(["--no-bayeux"], { SWITCHBOARD_BAYEUX_PATH: "/env" }).bayeuxPath, false);
    // Socket.IO may take /bayeux when Bayeux is off.
    assert.equal(serve(["--no-bayeux", "--path", "/bayeux"]).path, "/bayeux");
  });

  it("refuses a Bayeux path that is invalid or collides", () => {
    usageError(["--bayeux-path", "bayeux"], {}, /invalid --bayeux-path "bayeux"/);
    usageError(["--bayeux-path", "/a/../b"], {}, /invalid --bayeux-path/);
    usageError(["--bayeux-path", "/"], {}, /--bayeux-path may not be \//);
    usageError(["--bayeux-path", "/socket.io"], {}, /overlaps the Socket\.IO path \/socket\.io/);
    usageError(["--path", "/rt", "--bayeux-path", "/rt/bayeux"], {}, /overlaps/);
    usageError(["--path", "/bayeux"], {}, /overlaps the Socket\.IO path \/bayeux/);
    usageError(["--bayeux-path", "/config.json"], {}, /would hide \/config\.json/);
    usageError(["--bayeux-path", "/bayeux-client.js"], {}, /would hide \/bayeux-client\.js/);
    usageError(["--no-bayeux", "--bayeux-path", "/b"], {}, /exclude each other/);
  });

  it("answers --help and --version", () => {
    assert.deepEqual(parseCli(["--help"], {}), { kind: "help" });
    assert.deepEqual(parseCli(["-h", "--port", "nope"], {}), { kind: "help" });
    assert.deepEqual(parseCli(["--version"], {}), { kind: "version" });
    for (const flag of [
      "--port",
      "--host",
      "--path",
      "--bayeux-path",
      "--no-bayeux",
      "--cors-origin",
      "--tls-cert",
      "--tls-key",
      "--redis-url",
      "--node-id",
      "SWITCHBOARD_REDIS_URL",
      "SWITCHBOARD_NODE_ID",
    ]) {
      assert.ok(USAGE.includes(flag), `help mentions ${flag}`);
    }
  });

  it("refuses bad input with a clear message", () => {
    usageError(["--bogus"], {}, /unknown option '--bogus'/i);
    usageError(["extra"], {}, /unexpected argument 'extra'/i);
    usageError(["--port"], {}, /argument missing|--port/i);
    usageError(["--port", "65536"], {}, /invalid --port "65536"/);
    usageError(["--port", "-1"], {}, /port|argument missing/i);
    usageError(["--port", "3e3"], {}, /invalid --port "3e3"/);
    usageError([], { PORT: "http" }, /invalid PORT "http"/);
    usageError(["--path", "socket.io"], {}, /invalid --path "socket.io"/);
    usageError(["--path", "/a/../b"], {}, /invalid --path/);
    usageError(["--path", "/"], {}, /may not be \//);
    usageError(["--host", ""], {}, /invalid --host/);
    usageError(["--cors-origin", "example.com"], {}, /invalid --cors-origin "example.com"/);
    usageError(["--cors-origin", "https://a.test/path"], {}, /invalid --cors-origin/);
    usageError(["--cors-origin", "ftp://a.test"], {}, /invalid --cors-origin/);
    usageError(["--cors-origin", "http://a.test,,http://b.test"], {}, /empty origin/);
    usageError(
      ["--tls-cert", "c.pem"],
      {},
      /--tls-cert is set without --tls-key: .* must be given together/,
    );
    usageError([], { SWITCHBOARD_TLS_KEY: "k.pem" }, /must be given together/);
    usageError(["--shutdown-timeout", "soon"], {}, /invalid --shutdown-timeout/);
    usageError(["--drain-delay", "later"], {}, /invalid --drain-delay/);
    usageError(["--help=yes"], {}, /does not take an argument/i);
  });

  it("names the environment variable, not the flag, when the bad value came from the environment", () => {
    const named = (env: NodeJS.ProcessEnv, variable: string, argv: string[] = []): void => {
      assert.throws(
        () => parseCli(argv, env),
        (err: unknown) => {
          assert.ok(err instanceof CliUsageError);
          assert.ok(
            err.message.startsWith(`invalid ${variable} `) ||
              err.message.startsWith(`${variable} `) ||
              err.message.startsWith(`${variable}:`),
            err.message,
          );
          assert.doesNotMatch(err.message.split(":")[0], /--/, err.message);
          return true;
        },
      );
    };
    named({ SWITCHBOARD_PORT: "abc" }, "SWITCHBOARD_PORT");
    named({ PORT: "70000" }, "PORT");
    named({ SWITCHBOARD_HOST: "a b" }, "SWITCHBOARD_HOST");
    named({ SWITCHBOARD_PATH: "socket.io" }, "SWITCHBOARD_PATH");
    named({ SWITCHBOARD_PATH: "/" }, "SWITCHBOARD_PATH");
    named({ SWITCHBOARD_BAYEUX_PATH: "bayeux" }, "SWITCHBOARD_BAYEUX_PATH");
    named({ SWITCHBOARD_BAYEUX_PATH: "/socket.io/b" }, "SWITCHBOARD_BAYEUX_PATH");
    named({ SWITCHBOARD_BAYEUX_PATH: "/bayeux-client.js" }, "SWITCHBOARD_BAYEUX_PATH");
    named({ SWITCHBOARD_CORS_ORIGIN: "example.com" }, "SWITCHBOARD_CORS_ORIGIN");
    named({ SWITCHBOARD_CORS_ORIGIN: "http://a.test,," }, "SWITCHBOARD_CORS_ORIGIN");
    named({ SWITCHBOARD_TLS_CERT: "c.pem" }, "SWITCHBOARD_TLS_CERT");
    named({ SWITCHBOARD_TLS_KEY: "k.pem" }, "SWITCHBOARD_TLS_KEY");
    named({ SWITCHBOARD_SHUTDOWN_TIMEOUT: "soon" }, "SWITCHBOARD_SHUTDOWN_TIMEOUT");
    // A flag wins over its variable, and its error names the flag.
    usageError(["--port", "x"], { SWITCHBOARD_PORT: "3000" }, /^invalid --port "x"/);
    // A bad variable shadowed by a good flag is not read.
    assert.equal(serve(["--port", "0"], { SWITCHBOARD_PORT: "abc" }).port, 0);
  });

  it("names the TLS variables when their files cannot be read", { timeout: 10_000 }, async () => {
    const options = serve(["--port", "0", "--host", "127.0.0.1"], {
      SWITCHBOARD_TLS_CERT: "/nonexistent/cert.pem",
      SWITCHBOARD_TLS_KEY: "/nonexistent/key.pem",
    });
    await assert.rejects(
      startServer(options, { log: () => {} }),
      (err: unknown) =>
        err instanceof CliUsageError &&
        /^cannot read SWITCHBOARD_TLS_CERT\/SWITCHBOARD_TLS_KEY: /.test(err.message),
    );
  });
});

describe("parseCli cluster options", () => {
  it("joins a cluster with --redis-url, SWITCHBOARD_REDIS_URL or REDIS_URL", () => {
    assert.equal(serve([]).cluster, undefined);
    assert.equal(serve([], {}).cluster, undefined);
    assert.deepEqual(serve([], { REDIS_URL: "redis://127.0.0.1:6379" }).cluster, {
      redisUrl: "redis://127.0.0.1:6379",
    });
    assert.deepEqual(
      serve([], { REDIS_URL: "redis://127.0.0.1:6379", SWITCHBOARD_REDIS_URL: "redis://b:1" })
        .cluster,
      { redisUrl: "redis://b:1" },
    );
    assert.deepEqual(serve(["--redis-url", "redis://10.0.0.5:6380/2"]).cluster, {
      redisUrl: "redis://10.0.0.5:6380/2",
    });
    assert.deepEqual(
      serve([], { SWITCHBOARD_REDIS_URL: "rediss://user:pw@cache.internal" }).cluster,
      {
        redisUrl: "rediss://user:pw@cache.internal",
      },
    );
    assert.deepEqual(
      serve(["--redis-url=redis://a:1", "--node-id", "eu-1.a_b"], {
        SWITCHBOARD_REDIS_URL: "redis://env:2",
        SWITCHBOARD_NODE_ID: "env-node",
      }).cluster,
      { redisUrl: "redis://a:1", nodeId: "eu-1.a_b" },
    );
    assert.deepEqual(
      serve([], { SWITCHBOARD_REDIS_URL: "redis://env:2", SWITCHBOARD_NODE_ID: "env-node" })
        .cluster,
      { redisUrl: "redis://env:2", nodeId: "env-node" },
    );
    // An empty variable counts as unset, like the other SWITCHBOARD_* variables.
    assert.equal(serve([], { SWITCHBOARD_REDIS_URL: "" }).cluster, undefined);
  });

  it("--redis-cluster makes the URL a node of a Redis Cluster", () => {
    assert.deepEqual(serve(["--redis-url", "redis://10.0.0.5:7000", "--redis-cluster"]).cluster, {
      redisUrl: "redis://10.0.0.5:7000",
      redisCluster: true,
    });
    assert.deepEqual(
      serve([], { REDIS_URL: "redis://r:7000", SWITCHBOARD_REDIS_CLUSTER: "1" }).cluster,
      { redisUrl: "redis://r:7000", redisCluster: true },
    );
    usageError(["--redis-cluster"], {}, /--redis-cluster is set without --redis-url/);
  });

  it("refuses a bad Redis URL or node id, naming where it came from", () => {
    usageError(["--redis-url", "localhost:6379"], {}, /^invalid --redis-url: scheme localhost:/);
    usageError(["--redis-url", "not a url"], {}, /^invalid --redis-url: not a URL/);
    usageError(["--redis-url", "http://cache:6379"], {}, /^invalid --redis-url: scheme http:/);
    usageError(["--redis-url", "redis://"], {}, /^invalid --redis-url: no host/);
    usageError(["--redis-url", "redis://cache/x"], {}, /database "x" is not a number/);
    usageError(["--redis-url", "redis://cache?db=1"], {}, /query or fragment/);
    usageError(["--redis-url", "redis://cache:99999"], {}, /^invalid --redis-url: not a URL/);
    usageError([], { SWITCHBOARD_REDIS_URL: "cache" }, /^invalid SWITCHBOARD_REDIS_URL: /);
    // The message never repeats the URL: it may hold a password.
    assert.throws(
      () => parseCli(["--redis-url", "http://u:s3cret@cache"], {}),
      (err: unknown) => err instanceof CliUsageError && !err.message.includes("s3cret"),
    );
    usageError(["--redis-url", "redis://a", "--node-id", ""], {}, /^invalid --node-id ""/);
    usageError(["--redis-url", "redis://a", "--node-id", "a b"], {}, /^invalid --node-id "a b"/);
    usageError(["--redis-url", "redis://a", "--node-id", "x".repeat(65)], {}, /1-64 letters/);
    usageError(["--redis-url", "redis://a", "--node-id", "a/b"], {}, /invalid --node-id/);
    usageError(
      ["--redis-url", "redis://a"],
      { SWITCHBOARD_NODE_ID: "a:b" },
      /^invalid SWITCHBOARD_NODE_ID "a:b"/,
    );
    usageError(["--node-id", "a"], {}, /^--node-id is set without --redis-url/);
    usageError(
      [],
      { SWITCHBOARD_NODE_ID: "a" },
      /^SWITCHBOARD_NODE_ID is set without SWITCHBOARD_REDIS_URL/,
    );
  });

  it("hides the password when it shows a Redis URL", () => {
    assert.equal(redactRedisUrl("redis://app:s3cret@cache:6379/1"), "redis://app:***@cache:6379/1");
    assert.equal(redactRedisUrl("redis://cache:6379"), "redis://cache:6379");
  });

  it("fails to start with a CliStartError when the cluster cannot be joined", {
    timeout: 15_000,
  }, async () => {
    const options = serve([
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--redis-url",
      "redis://u:s3cret@127.0.0.1:1",
    ]);
    // Port 1 has no Redis: the start fails (no broker in this build, or not ready in time).
    options.cluster = {
      ...options.cluster,
      redisUrl: "redis://u:s3cret@127.0.0.1:1",
      readyTimeout: 1500,
    };
    await assert.rejects(
      startServer(options, { log: () => {} }),
      (err: unknown) =>
        err instanceof CliStartError &&
        err.message.startsWith("cannot join the cluster at redis://u:***@127.0.0.1:1") &&
        !err.message.includes("s3cret"),
    );
  });
});

describe("parseCli recovery options", () => {
  const REDIS = ["--redis-url", "redis://127.0.0.1:6379"];

  it("is on by default with a cluster, off alone, with its two-minute window", () => {
    assert.deepEqual(serve(REDIS).recovery, { window: 120_000 });
    assert.deepEqual(serve([], { REDIS_URL: "redis://127.0.0.1:6379" }).recovery, {
      window: 120_000,
    });
    assert.equal(serve([]).recovery, undefined);
  });

  it("turns on alone with --recovery or SWITCHBOARD_RECOVERY=1, off with --no-recovery or =0", () => {
    assert.deepEqual(serve(["--recovery"]).recovery, { window: 120_000 });
    assert.deepEqual(serve([], { SWITCHBOARD_RECOVERY: "1" }).recovery, { window: 120_000 });
    assert.equal(serve([...REDIS, "--no-recovery"]).recovery, undefined);
    assert.equal(serve(REDIS, { SWITCHBOARD_RECOVERY: "0" }).recovery, undefined);
    // The flag wins over the variable.
    assert.deepEqual(serve(["--recovery"], { SWITCHBOARD_RECOVERY: "0" }).recovery, {
      window: 120_000,
    });
  });

  it("takes the window from --recovery-window or SWITCHBOARD_RECOVERY_WINDOW", () => {
    assert.deepEqual(serve([...REDIS, "--recovery-window", "30000"]).recovery, { window: 30_000 });
    assert.deepEqual(serve(["--recovery"], { SWITCHBOARD_RECOVERY_WINDOW: "5000" }).recovery, {
      window: 5000,
    });
  });

  it("refuses contradictions and bad windows", () => {
    usageError(["--recovery", "--no-recovery"], {}, /contradict/);
    usageError(["--recovery-window", "30000"], {}, /recovery is off/);
    usageError([...REDIS, "--recovery-window", "soon"], {}, /expected milliseconds/);
    usageError([...REDIS, "--recovery-window", "10"], {}, /at least 1000 ms/);
  });

  it("documents the flags", () => {
    for (const flag of ["--recovery ", "--no-recovery", "--recovery-window <ms>"]) {
      assert.ok(USAGE.includes(flag), flag);
    }
  });
});

describe("parseCli dashboard options", () => {
  it("is on by default for loopback peers, off with --no-dashboard", () => {
    assert.equal(serve([]).dashboard, undefined);
    assert.equal(serve(["--no-dashboard"]).dashboard, false);
  });

  it("takes the token from --dashboard-token or SWITCHBOARD_DASHBOARD_TOKEN, the flag winning", () => {
    assert.deepEqual(serve(["--dashboard-token", "letmein-123"]).dashboard, {
      token: "letmein-123",
    });
    assert.deepEqual(serve([], { SWITCHBOARD_DASHBOARD_TOKEN: "from-the-env" }).dashboard, {
      token: "from-the-env",
    });
    assert.deepEqual(
      serve(["--dashboard-token=from-the-flag"], { SWITCHBOARD_DASHBOARD_TOKEN: "from-the-env" })
        .dashboard,
      { token: "from-the-flag" },
    );
    // The variable set for other runs does not stop --no-dashboard.
    assert.equal(
      serve(["--no-dashboard"], { SWITCHBOARD_DASHBOARD_TOKEN: "from-the-env" }).dashboard,
      false,
    );
  });

  it("refuses a short token, contradictions and a mount over /dashboard", () => {
    usageError(["--dashboard-token", "short"], {}, /--dashboard-token: expected at least 8/);
    usageError(
      [],
      { SWITCHBOARD_DASHBOARD_TOKEN: " padded-token " },
      /SWITCHBOARD_DASHBOARD_TOKEN/,
    );
    usageError(["--no-dashboard", "--dashboard-token", "letmein-123"], {}, /exclude each other/);
    usageError(["--bayeux-path", "/dashboard"], {}, /overlaps the dashboard/);
    usageError(["--path", "/dashboard/io"], {}, /overlaps the dashboard/);
    assert.equal(serve(["--no-dashboard", "--bayeux-path", "/dashboard"]).bayeuxPath, "/dashboard");
  });

  it("documents the flags", () => {
    for (const flag of ["--no-dashboard", "--dashboard-token <t>", "SWITCHBOARD_DASHBOARD_TOKEN"]) {
      assert.ok(USAGE.includes(flag), flag);
    }
  });
});
