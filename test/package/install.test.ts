/**
 * The package as a user gets it. A clean `git clone` of this checkout's HEAD is
 * packed with `npm pack` (its `prepare` builds dist/), the tarball is installed
 * with `--omit=dev` into an empty project, and that project then runs the
 * installed CLI (Socket.IO, its browser bundle and Bayeux), `require()`s and
 * `import`s every entry point in child processes, and type-checks a consumer.
 * A second project installs the same clone as `git+file://`. A third installs
 * the tarball "with everything": its optional dependencies and the smallest
 * supported Redis client (`@redis/client` 1.6, the version of this checkout's
 * `@redis/client-v1` alias), measures it and starts a `RedisBroker` from the
 * `switchboard/redis` entry against the shared Redis.
 *
 * The clone borrows this checkout's node_modules (same lockfile) rather than
 * installing its devDependencies again; the installs use `--prefer-offline`, so
 * the npm cache that `npm ci` filled serves them and the registry is asked only
 * for what the cache lacks (package metadata npm has not cached yet).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { io as connect } from "socket.io-client";
import { BayeuxClient } from "../../src/bayeux/client/index.js";
import { REDIS_URL, redisSkip } from "../helpers/redis-server.js";
import { waitFor } from "../socketio/helpers.js";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(import.meta.url);
const clientDist = join(dirname(require.resolve("socket.io-client/package.json")), "dist");

/**
 * Limits of the runtime install (socket.io + faye install as 34 packages, 12 MB): issue #10's
 * "with everything: at most 12 packages, 4 MB".
 */
const MAX_PACKAGES = 12;
const MAX_KIB = 4 * 1024;
/** "With everything" (optional dependencies and the Redis client): bytes of files. */
const MAX_BYTES = 4_000_000;
/** The smallest supported Redis client line, pinned by this checkout's devDependency alias. */
const SMALL_REDIS_CLIENT = `@redis/client@${
  (require("@redis/client-v1/package.json") as { version: string }).version
}`;

// A child npm must not inherit the settings of an `npm test` it runs under.
const env: NodeJS.ProcessEnv = Object.fromEntries(
  // Nor join a cluster through a REDIS_URL the suite runs with.
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== "REDIS_URL"),
);
const npmFlags = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

function sh(cmd: string, args: string[], cwd: string, timeout = 120_000) {
  return run(cmd, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 });
}

const work = mkdtempSync(join(tmpdir(), "sb-package-"));
const clone = join(work, "clone");
const consumer = join(work, "consumer");
const gitConsumer = join(work, "git-consumer");
const everything = join(work, "everything");
let tarball = "";
/** The git install, started beside the pack (it installs the clone's devDependencies: the slow part). */
let gitInstall: Promise<unknown> = Promise.resolve();
let tarFiles: string[] = [];
const children = new Set<ChildProcess>();

before(async () => {
  const { stdout: head } = await sh("git", ["rev-parse", "HEAD"], repo);
  await sh("git", ["clone", "--quiet", "--no-checkout", repo, clone], work);
  await sh("git", ["checkout", "--quiet", head.trim()], clone);
  for (const dir of [consumer, gitConsumer, everything]) {
    mkdirSync(dir);
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
    );
  }
  gitInstall = sh("npm", ["install", ...npmFlags, `git+file://${clone}`], gitConsumer, 240_000);
  // Failures are reported by the git install's own test.
  gitInstall.catch(() => {});
  symlinkSync(join(repo, "node_modules"), join(clone, "node_modules"), "dir");
  const { stdout } = await sh("npm", ["pack", "--pack-destination", work, ...npmFlags], clone);
  tarball = join(work, stdout.trim().split("\n").at(-1) ?? "");
  tarFiles = (await sh("tar", ["-tzf", tarball], work)).stdout
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""));
  await sh("npm", ["install", "--omit=dev", ...npmFlags, tarball], consumer);
});

after(async () => {
  await gitInstall.catch(() => {});
  for (const child of children) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** Runs `source` as a file of the consumer project; resolves with its first stdout line. */
async function runInConsumer(
  name: string,
  source: string,
  project = consumer,
  args: string[] = [],
): Promise<{ line: unknown; child: ChildProcess }> {
  const file = join(project, name);
  writeFileSync(file, source);
  const child = spawn(process.execPath, [file, ...args], { cwd: project, env, stdio: "pipe" });
  children.add(child);
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err += c;
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no output; stderr: ${err}`)), 20_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c;
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited ${code}: ${err}`));
    });
  });
  return { line: JSON.parse(line), child };
}

/** The installed packages of `project` (without dev dependencies), by name. */
async function installedPackages(project: string): Promise<string[]> {
  const { stdout } = await sh("npm", ["ls", "--all", "--omit=dev", "--parseable"], project);
  return stdout
    .split("\n")
    .filter(Boolean)
    .slice(1) // the project itself
    .map((p) => p.slice(p.lastIndexOf("node_modules/") + 13));
}

/** Apparent size: the bytes of every file under `dir` (links not followed). */
function fileBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += fileBytes(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

/** Disk usage of `dir` in KiB (blocks, as `du -sk` counts them). */
async function diskKib(dir: string): Promise<number> {
  const { stdout } = await sh("du", ["-sk", dir], work);
  return Number(stdout.split("\t")[0]);
}

async function sayHello(port: number): Promise<string> {
  const client = connect(`http://127.0.0.1:${port}`, { forceNew: true, reconnection: false });
  try {
    const [text] = await waitFor<[string]>(client, "hello", 10_000);
    return text;
  } finally {
    client.close();
  }
}

function stop(child: ChildProcess): Promise<unknown> {
  const exited = child.exitCode === null ? once(child, "exit") : Promise.resolve();
  child.kill("SIGKILL");
  children.delete(child);
  return exited;
}

/** Type-checks `files` of the consumer project `dir` as a strict nodenext project would. */
async function typecheck(
  dir: string,
  files: string[],
  options: { skipLibCheck: boolean },
): Promise<void> {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: options.skipLibCheck,
        types: ["node"],
        typeRoots: [join(repo, "node_modules", "@types")],
      },
      files,
    }),
  );
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
  await sh(process.execPath, [tsc, "-p", "tsconfig.json"], dir).catch((err: { stdout?: string }) =>
    assert.fail(`tsc: ${err.stdout ?? err}`),
  );
}

describe("npm pack of a clean clone", () => {
  it("ships the built dist/ and the client bundles, no src/ and no map pointing at a missing file", () => {
    for (const file of [
      "package.json",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "dist/bayeux-client.browser.js",
      "dist/client-dist/client.json",
      "dist/client-dist/socket.io.min.js.gz",
      "demo/index.html",
      "dashboard/index.html",
      "dashboard/app.js",
      "dashboard/app.css",
    ]) {
      assert.ok(tarFiles.includes(file), `${file} not in the tarball`);
    }
    assert.deepEqual(
      tarFiles.filter((f) => f.startsWith("src/") || f.startsWith("test/")),
      [],
    );
    const extracted = join(work, "extracted");
    mkdirSync(extracted);
    return sh("tar", ["-xzf", tarball, "-C", extracted], work).then(() => {
      const root = join(extracted, "package");
      for (const file of tarFiles) {
        const path = join(root, file);
        if (file.endsWith(".js") || file.endsWith(".mjs")) {
          const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(path, "utf8"))?.[1];
          if (url && !url.startsWith("data:")) {
            assert.ok(tarFiles.includes(join(dirname(file), url)), `${file} maps to ${url}`);
          }
        }
        if (!/\.map(\.gz)?$/.test(file)) continue;
        const raw = readFileSync(path);
        const map = JSON.parse((file.endsWith(".gz") ? gunzipSync(raw) : raw).toString()) as {
          sources: string[];
          sourcesContent?: (string | null)[];
        };
        map.sources.forEach((source, i) => {
          const shipped = tarFiles.includes(join(dirname(file), source));
          assert.ok(
            shipped || typeof map.sourcesContent?.[i] === "string",
            `${file}: ${source} neither shipped nor inlined`,
          );
        });
      }
    });
  });

  it(`installs with --omit=dev as at most ${MAX_PACKAGES} packages and ${MAX_KIB / 1024} MB, no client library`, async () => {
    const packages = await installedPackages(consumer);
    assert.ok(packages.includes("switchboard"), packages.join(", "));
    assert.ok(packages.includes("ws"), packages.join(", "));
    assert.ok(packages.length <= MAX_PACKAGES, `${packages.length}: ${packages.join(", ")}`);
    for (const name of packages) {
      assert.ok(
        ["switchboard", "ws", "bufferutil", "node-gyp-build", "utf-8-validate"].includes(name),
        `unexpected runtime package ${name}`,
      );
    }
    const kib = await diskKib(join(consumer, "node_modules"));
    assert.ok(kib <= MAX_KIB, `node_modules is ${kib} KiB`);
  });

  it("the installed CLI serves Socket.IO, its browser bundle and Bayeux", async () => {
    const bin = join(consumer, "node_modules", ".bin", "switchboard");
    const child = spawn(bin, ["--port", "0", "--host", "127.0.0.1"], { cwd: consumer, env });
    children.add(child);
    try {
      let out = "";
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 20_000);
        child.stdout.on("data", (c: Buffer) => {
          out += c;
          const found = /\(port (\d+)/.exec(out);
          if (found) {
            clearTimeout(timer);
            resolve(Number(found[1]));
          }
        });
      });
      const base = `http://127.0.0.1:${port}`;
      const bundle = await fetch(`${base}/socket.io/socket.io.min.js`);
      assert.equal(bundle.status, 200);
      const served = Buffer.from(await bundle.arrayBuffer());
      assert.ok(served.equals(readFileSync(join(clientDist, "socket.io.min.js"))));
      const bayeuxBundle = await fetch(`${base}/bayeux-client.js`);
      assert.equal(bayeuxBundle.status, 200);
      await bayeuxBundle.arrayBuffer();

      const sio = connect(base, { forceNew: true, reconnection: false });
      await waitFor(sio, "connect", 10_000);
      sio.close();

      const bayeux = new BayeuxClient(`${base}/bayeux`);
      await bayeux.init();
      let delivered: (data: unknown) => void = () => {};
      const got = new Promise((resolve) => {
        delivered = resolve;
      });
      // subscribe() resolves once the server has acknowledged the subscription.
      await bayeux.subscribe("/package/test", (message) => delivered(message.data));
      await bayeux.publish("/package/test", { ok: 1 });
      assert.deepEqual(await got, { ok: 1 });
      await bayeux.disconnect();
    } finally {
      await stop(child);
    }
  });

  it("require() gives the callable factory carrying the classes; every subpath requires", async () => {
    const { line, child } = await runInConsumer(
      "factory.cjs",
      `const io = require("switchboard");
const server = io(0);
server.on("connection", (socket) => socket.emit("hello", "from require"));
// The framework adapters need their framework (an optional peer); these need nothing more.
const subpaths = ["engine", "bayeux", "bayeux-client", "node"];
const loaded = Object.fromEntries(subpaths.map((s) => [s, Object.keys(require("switchboard/" + s)).length > 0]));
server.httpServer.once("listening", () => console.log(JSON.stringify({
  callable: typeof io,
  members: ["Server", "Namespace", "Socket", "Adapter", "BroadcastOperator"].filter((k) => typeof io[k] === "function"),
  isServer: server instanceof io.Server,
  port: server.httpServer.address().port,
  loaded,
})));`,
    );
    try {
      const result = line as {
        callable: string;
        members: string[];
        isServer: boolean;
        port: number;
        loaded: Record<string, boolean>;
      };
      assert.equal(result.callable, "function");
      assert.deepEqual(result.members, [
        "Server",
        "Namespace",
        "Socket",
        "Adapter",
        "BroadcastOperator",
      ]);
      assert.equal(result.isServer, true);
      assert.ok(Object.values(result.loaded).every(Boolean), JSON.stringify(result.loaded));
      assert.equal(await sayHello(result.port), "from require");
    } finally {
      await stop(child);
    }
  });

  it("import: the default export is the same factory and the named exports stay", async () => {
    const { line, child } = await runInConsumer(
      "factory.mjs",
      `import io, { Server, Namespace } from "switchboard";
import { Server as EngineServer } from "switchboard/engine";
import { BayeuxServer } from "switchboard/bayeux";
import { BayeuxClient } from "switchboard/bayeux-client";
import { attachSwitchboard } from "switchboard/node";
const server = io(0);
server.on("connection", (socket) => socket.emit("hello", "from import"));
server.httpServer.once("listening", () => console.log(JSON.stringify({
  same: io.Server === Server && io.Namespace === Namespace,
  engine: server.engine instanceof EngineServer,
  others: [BayeuxServer, BayeuxClient, attachSwitchboard].every((f) => typeof f === "function"),
  port: server.httpServer.address().port,
})));`,
    );
    try {
      const result = line as { same: boolean; engine: boolean; others: boolean; port: number };
      assert.deepEqual(
        { same: result.same, engine: result.engine, others: result.others },
        { same: true, engine: true, others: true },
      );
      assert.equal(await sayHello(result.port), "from import");
    } finally {
      await stop(child);
    }
  });

  it("TypeScript sees the typed factory (import and require) and the entry points", async () => {
    writeFileSync(
      join(consumer, "consumer.mts"),
      `import io, { Server } from "switchboard";
import { Server as EngineServer } from "switchboard/engine";
import { BayeuxClient } from "switchboard/bayeux-client";
interface ToClient { news: (title: string) => void }
const server: Server<{}, ToClient> = io<{}, ToClient>(3000, { serveClient: false });
server.emit("news", "typed");
// @ts-expect-error: news takes a string
server.emit("news", 1);
const engine: EngineServer = server.engine;
const made: Server = new io.Server();
void [engine, made, BayeuxClient];
`,
    );
    // CommonJS TypeScript: `require` of the ES module gives the typed factory ("module.exports").
    writeFileSync(
      join(consumer, "consumer.cts"),
      `import io = require("switchboard");
const server = io(3000, { serveClient: false });
const same: InstanceType<typeof io.Server> = server;
// @ts-expect-error: a port is a number
io("3000");
void same;
`,
    );
    await typecheck(consumer, ["consumer.mts", "consumer.cts"], { skipLibCheck: true });
  });
});

const noRedis = await redisSkip();

describe(`with everything: optional dependencies and ${SMALL_REDIS_CLIENT}`, () => {
  before(async () => {
    await sh(
      "npm",
      ["install", "--omit=dev", ...npmFlags, tarball, SMALL_REDIS_CLIENT],
      everything,
      240_000,
    );
  });

  it(`installs as at most ${MAX_PACKAGES} packages and ${MAX_BYTES.toLocaleString("en")} bytes of files`, async (t) => {
    const packages = await installedPackages(everything);
    for (const name of ["switchboard", "ws", "bufferutil", "@redis/client"])
      assert.ok(packages.includes(name), `${name} missing: ${packages.join(", ")}`);
    assert.ok(packages.length <= MAX_PACKAGES, `${packages.length}: ${packages.join(", ")}`);
    const modules = join(everything, "node_modules");
    const bytes = fileBytes(modules);
    const kib = await diskKib(modules);
    t.diagnostic(
      `${packages.length} packages (${packages.join(", ")}), ${bytes} bytes of files, ${kib} KiB on disk`,
    );
    assert.ok(bytes <= MAX_BYTES, `node_modules holds ${bytes} bytes of files`);
  });

  it("TypeScript takes that client's own connections, declarations checked too (skipLibCheck off)", async () => {
    writeFileSync(
      join(everything, "consumer.mts"),
      `import { createClient } from "@redis/client";
import { closeRedis, connectRedis, RedisBroker, RedisSessionStore, type RedisConnection } from "switchboard/redis";
const redis: RedisConnection = await connectRedis({ url: "redis://127.0.0.1:6379" });
const own = createClient();
const stores = [new RedisSessionStore(redis), new RedisSessionStore(own)];
const broker = new RedisBroker({ client: own });
// @ts-expect-error: a store needs a connection
new RedisSessionStore({});
await closeRedis(own);
void [stores, broker];
`,
    );
    await typecheck(everything, ["consumer.mts"], { skipLibCheck: false });
  });

  it("switchboard/redis starts a RedisBroker on that client: two nodes meet and deliver", {
    skip: noRedis,
  }, async () => {
    const { line, child } = await runInConsumer(
      "broker.mjs",
      `import { createRequire } from "node:module";
import { RedisBroker } from "switchboard/redis";
const url = process.argv[2];
const prefix = "sbinstall:" + process.pid + ":";
const options = { url, prefix, logger: { info() {}, warn() {}, error() {} } };
const a = new RedisBroker(options);
const b = new RedisBroker(options);
await Promise.all([a.ready(), b.ready()]);
let delivered = () => {};
const got = new Promise((resolve) => {
  delivered = resolve;
});
await b.subscribe("room", (topic, bytes) => delivered(topic + "=" + bytes));
await a.publish("room", Buffer.from("hi"));
const message = await got;
const meets = a.nodes().includes(b.nodeId) && b.nodes().includes(a.nodeId);
await Promise.all([a.close(), b.close()]);
const client = createRequire(import.meta.url)("@redis/client/package.json").version;
console.log(JSON.stringify({ delivered: message, meets, client }));`,
      everything,
      [REDIS_URL],
    );
    try {
      const want = SMALL_REDIS_CLIENT.slice(SMALL_REDIS_CLIENT.lastIndexOf("@") + 1);
      assert.deepEqual(line, { delivered: "room=hi", meets: true, client: want });
    } finally {
      await stop(child);
    }
  });
});

describe("npm install git+file://", () => {
  it("builds through prepare and installs a working package", async () => {
    await gitInstall;
    const installed = join(gitConsumer, "node_modules", "switchboard");
    for (const file of ["dist/index.js", "dist/client-dist/client.json", "dist/cli/main.js"]) {
      assert.ok(existsSync(join(installed, file)), `${file} missing after a git install`);
    }
    const { stdout } = await sh(
      process.execPath,
      [
        "-e",
        `const io = require("switchboard"); const s = io({ serveClient: false });
         console.log(typeof io, s instanceof io.Server); s.close();`,
      ],
      gitConsumer,
    );
    assert.equal(stdout.trim(), "function true");
  });
});
