/**
 * The `switchboard` process end to end: spawned with tsx on port 0, it prints
 * its URL and port, serves the demo, the client bundle and Socket.IO (a real
 * client round trip through the demo chat handlers), honours --path and CORS,
 * exits 2 on bad options, 0 on SIGTERM after disconnecting clients, at once on
 * a second signal, and serves HTTPS with a self-signed certificate.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { io as connect, type Socket } from "socket.io-client";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const main = join(repo, "src", "cli", "main.ts");

interface Started {
  child: ChildProcess;
  port: number;
  line: string;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const children = new Set<ChildProcess>();

after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
    cwd: repo,
    env: { ...process.env, SWITCHBOARD_PORT: "", PORT: "", REDIS_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Its exit, with everything it wrote: log records go to stdout, plain errors to stderr. */
function exited(child: ChildProcess): Started["exited"] {
  let output = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (output += chunk));
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => (output += chunk));
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal, stderr: output }));
  });
}

/** Spawns the server and waits for its start line. */
function start(args: string[], env?: NodeJS.ProcessEnv): Promise<Started> {
  const child = run(["--host", "127.0.0.1", "--port", "0", ...args], env);
  const done = exited(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+) \(port (\d+),/.exec(out);
      if (match)
        resolve({ child, port: Number(match[2]), line: out.trim(), url: match[1], exited: done });
    });
    done.then(({ code, stderr }) => reject(new Error(`exited ${code} before start: ${stderr}`)));
  });
}

/** Runs to completion (for --help, --version, bad options). */
async function complete(args: string[], env?: NodeJS.ProcessEnv) {
  const child = run(args, env);
  let stdout = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => (stdout += chunk));
  const result = await exited(child);
  return { ...result, stdout };
}

async function connected(
  url: string,
  options: Parameters<typeof connect>[1] = {},
): Promise<Socket> {
  const client = connect(url, { forceNew: true, reconnection: false, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("connect_error", reject);
  });
  return client;
}

async function stop(started: Started): Promise<void> {
  started.child.kill("SIGTERM");
  const { code } = await started.exited;
  assert.equal(code, 0);
}

describe("switchboard CLI", () => {
  it("prints help and version, exit 0", { timeout: 20_000 }, async () => {
    const help = await complete(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: switchboard \[options\]/);
    const version = await complete(["--version"]);
    assert.equal(version.code, 0);
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string };
    assert.equal(version.stdout.trim(), pkg.version);
  });

  it("exits 2 with a message on bad options", { timeout: 30_000 }, async () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [["--port", "99999"], {}, /invalid --port "99999"/],
      [["--nope"], {}, /unknown option '--nope'/i],
      [["--tls-cert", "x.pem"], {}, /must be given together/],
      [[], { SWITCHBOARD_PATH: "relative" }, /invalid SWITCHBOARD_PATH "relative"/],
      [["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"], {}, /cannot read/],
    ];
    await Promise.all(
      cases.map(async ([args, env, pattern]) => {
        const result = await complete(args, env);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, pattern);
        assert.match(result.stderr, /--help/);
      }),
    );
  });

  it("exits 1 when the port is taken", { timeout: 20_000 }, async () => {
    const first = await start([]);
    try {
      const second = await complete(["--host", "127.0.0.1", "--port", String(first.port)]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /EADDRINUSE/);
    } finally {
      await stop(first);
    }
  });

  it("serves the demo, the client bundle and Socket.IO", { timeout: 20_000 }, async () => {
    const started = await start([]);
    const base = `http://127.0.0.1:${started.port}`;
    assert.equal(started.url, `${base}/`);
    try {
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await page.text(), /Switchboard demo chat/);
      const app = await fetch(`${base}/app.js`);
      assert.match(app.headers.get("content-type") ?? "", /^text\/javascript/);
      assert.deepEqual(await (await fetch(`${base}/config.json`)).json(), {
        path: "/socket.io",
        bayeuxPath: "/bayeux",
        bayeuxClient: "/bayeux-client.js",
        version: JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version,
      });
      const bundle = await fetch(`${base}/socket.io/socket.io.js`);
      assert.equal(bundle.status, 200);
      assert.match(await bundle.text(), /io/);
      assert.equal((await fetch(`${base}/nothing`)).status, 404);
      assert.equal((await fetch(`${base}/../package.json`)).status, 404);

      for (const transport of ["polling", "websocket"] as const) {
        const a = await connected(base, { transports: [transport] });
        const b = await connected(base, { transports: [transport] });
        try {
          assert.deepEqual(await a.timeout(5000).emitWithAck("nickname", " ada "), {
            ok: true,
            nickname: "ada",
          });
          await b.timeout(5000).emitWithAck("nickname", "bob");
          assert.deepEqual(await a.timeout(5000).emitWithAck("join", "lobby"), {
            ok: true,
            room: "lobby",
            members: ["ada"],
          });
          const joined = new Promise((resolve) => a.once("presence", resolve));
          const bJoin = await b.timeout(5000).emitWithAck("join", "lobby");
          assert.deepEqual(bJoin.members, ["ada", "bob"]);
          assert.deepEqual(await joined, {
            room: "lobby",
            nickname: "bob",
            action: "join",
            members: ["ada", "bob"],
          });
          const received = new Promise<{ from: string; text: string }>((resolve) =>
            b.once("message", resolve),
          );
          assert.deepEqual(await a.timeout(5000).emitWithAck("message", "hi bob"), { ok: true });
          const message = await received;
          assert.equal(message.from, "ada");
          assert.equal(message.text, "hi bob");
          const refused = await a.timeout(5000).emitWithAck("message", "x".repeat(501));
          assert.equal(refused.ok, false);
          const left = new Promise((resolve) => a.once("presence", resolve));
          b.close();
          assert.deepEqual(await left, {
            room: "lobby",
            nickname: "bob",
            action: "leave",
            members: ["ada"],
          });
        } finally {
          a.close();
          b.close();
        }
      }
    } finally {
      await stop(started);
    }
  });

  it("honours --path and --cors-origin", { timeout: 20_000 }, async () => {
    const started = await start(["--path", "/rt", "--cors-origin", "http://allowed.test"]);
    const base = `http://127.0.0.1:${started.port}`;
    try {
      assert.match(started.line, /Socket\.IO path \/rt, Bayeux path \/bayeux\)/);
      assert.equal((await (await fetch(`${base}/config.json`)).json()).path, "/rt");
      const client = await connected(base, { path: "/rt", transports: ["polling"] });
      assert.equal((await client.timeout(5000).emitWithAck("join", "x")).ok, false);
      client.close();
      const handshake = await fetch(`${base}/rt/?EIO=4&transport=polling`, {
        headers: { origin: "http://allowed.test" },
      });
      assert.equal(handshake.status, 200);
      assert.equal(handshake.headers.get("access-control-allow-origin"), "http://allowed.test");
      await handshake.text();
    } finally {
      await stop(started);
    }
  });

  it("on SIGTERM disconnects clients and exits 0", { timeout: 20_000 }, async () => {
    const started = await start([]);
    const client = await connected(`http://127.0.0.1:${started.port}`, {
      transports: ["websocket"],
    });
    const reason = new Promise<string>((resolve) => client.once("disconnect", resolve));
    started.child.kill("SIGTERM");
    const { code, stderr } = await started.exited;
    assert.equal(code, 0);
    assert.match(stderr, /SIGTERM, shutting down/);
    assert.equal(await reason, "transport close");
    client.close();
  });

  it("cuts a stuck connection after --shutdown-timeout, or at a second signal", {
    timeout: 20_000,
  }, async () => {
    for (const [timeout, signals] of [
      ["200", 1],
      ["60000", 2],
    ] as const) {
      const started = await start(["--shutdown-timeout", timeout]);
      // A request whose headers never end keeps the HTTP server from closing.
      const stuck = connectTcp(started.port, "127.0.0.1");
      stuck.on("error", () => {});
      await new Promise<void>((resolve) => stuck.once("connect", resolve));
      stuck.write("GET / HTTP/1.1\r\nHost: x\r\n");
      await new Promise((resolve) => setTimeout(resolve, 100));
      const begun = Date.now();
      started.child.kill("SIGINT");
      if (signals === 2) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        started.child.kill("SIGINT");
      }
      const { code, stderr } = await started.exited;
      stuck.destroy();
      if (signals === 1) {
        assert.equal(code, 0);
      } else {
        assert.equal(code, 1);
        assert.match(stderr, /SIGINT again, exiting now/);
      }
      assert.ok(Date.now() - begun < 10_000);
    }
  });
});

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

describe("switchboard CLI over TLS", () => {
  it("serves HTTPS and Socket.IO with a self-signed certificate", {
    timeout: 30_000,
    skip: hasOpenssl ? false : "openssl not found: cannot generate a test certificate",
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-tls-"));
    try {
      const cert = join(dir, "cert.pem");
      const key = join(dir, "key.pem");
      const made = spawnSync("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
      ]);
      assert.equal(made.status, 0, String(made.stderr));
      const ca = readFileSync(cert, "utf8");
      const started = await start([], { SWITCHBOARD_TLS_CERT: cert, SWITCHBOARD_TLS_KEY: key });
      const base = `https://127.0.0.1:${started.port}`;
      try {
        assert.equal(started.url, `${base}/`);
        const page = await new Promise<string>((resolve, reject) => {
          httpsRequest(`${base}/`, { ca }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve(`${res.statusCode} ${body}`));
          })
            .on("error", reject)
            .end();
        });
        assert.match(page, /^200 [\s\S]*Switchboard demo chat/);
        for (const transport of ["polling", "websocket"] as const) {
          const client = await connected(base, { transports: [transport], ca });
          assert.deepEqual(await client.timeout(5000).emitWithAck("nickname", "tls"), {
            ok: true,
            nickname: "tls",
          });
          client.close();
        }
      } finally {
        await stop(started);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
