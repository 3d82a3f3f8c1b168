/**
 * Bayeux in the standalone server: the spawned CLI serves Bayeux at /bayeux,
 * the demo chat rooms are bridged both ways with the Bayeux channels
 * /chat/<room> (real Faye client and real socket.io-client, no echo loop),
 * bad chat data is refused with a Bayeux error, --bayeux-path and --no-bayeux
 * are honoured, SIGTERM ends Faye sessions and exits 0, and /bayeux-client.js
 * serves the browser bundle, or a 404 and one log line when it is not built.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { io as connect, type Socket } from "socket.io-client";
import type { ServeOptions } from "../../src/cli/options.js";
import { startServer } from "../../src/cli/server.js";
import { LOCAL_SERVE } from "../helpers/cli-node.js";
import {
  bayeuxHandshake,
  delay,
  type FayeTransport,
  fayeClient,
  fayeClientId,
  shutdownFaye,
  until,
} from "../mount/faye.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const main = join(repo, "src", "cli", "main.ts");
const builtBundle = join(repo, "dist", "bayeux-client.browser.js");

interface Started {
  child: ChildProcess;
  base: string;
  line: string;
  exited: Promise<{ code: number | null; stderr: string }>;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

function start(args: string[]): Promise<Started> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", main, "--host", "127.0.0.1", "--port", "0", ...args],
    {
      cwd: repo,
      env: {
        ...process.env,
        SWITCHBOARD_PORT: "",
        PORT: "",
        SWITCHBOARD_BAYEUX_PATH: "",
        REDIS_URL: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.add(child);
  // Log records go to stdout, anything else to stderr: both are the log here.
  let output = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.once("exit", (code) => {
      children.delete(child);
      resolve({ code, stderr: output });
    });
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      out += chunk;
      output += chunk;
      const match = /listening on \S+ \(port (\d+),[^\n]*\n/.exec(out);
      if (match) {
        resolve({ child, base: `http://127.0.0.1:${match[1]}`, line: out.trim(), exited });
      }
    });
    exited.then(({ code }) => reject(new Error(`exited ${code} before start: ${output}`)));
  });
}

async function stop(started: Started): Promise<string> {
  started.child.kill("SIGTERM");
  const { code, stderr } = await started.exited;
  assert.equal(code, 0, stderr);
  return stderr;
}

async function member(base: string, nickname: string, room: string): Promise<Socket> {
  const client = connect(base, { forceNew: true, reconnection: false, transports: ["websocket"] });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("connect_error", reject);
  });
  assert.equal((await client.timeout(5000).emitWithAck("nickname", nickname)).ok, true);
  assert.equal((await client.timeout(5000).emitWithAck("join", room)).ok, true);
  return client;
}

interface ChatMessage {
  room: string;
  from: string;
  text: string;
  at: number;
  via?: string;
}

describe("switchboard CLI with Bayeux", () => {
  for (const transport of ["long-polling", "websocket"] as FayeTransport[]) {
    it(`bridges /chat/lobby and the lobby room both ways (Faye over ${transport})`, {
      timeout: 30_000,
    }, async () => {
      const started = await start([]);
      assert.match(started.line, /Bayeux path \/bayeux\)/);
      const faye = fayeClient(`${started.base}/bayeux`, transport);
      const socket = await member(started.base, "ada", "lobby");
      try {
        const fromSocketIo: unknown[] = [];
        await faye.subscribe("/chat/lobby", (data) => fromSocketIo.push(data));
        const atSocket: ChatMessage[] = [];
        socket.on("message", (message: ChatMessage) => atSocket.push(message));

        // Bayeux -> Socket.IO.
        await faye.publish("/chat/lobby", { from: "faye-user", text: " hello from faye " });
        await until(() => atSocket.length === 1);
        assert.equal(atSocket[0].room, "lobby");
        assert.equal(atSocket[0].from, "faye-user");
        assert.equal(atSocket[0].text, "hello from faye");
        assert.equal(atSocket[0].via, "bayeux");
        // The Faye client also hears its own publish, once; the bridge sent nothing back.
        await until(() => fromSocketIo.length === 1);
        assert.deepEqual(fromSocketIo[0], { from: "faye-user", text: " hello from faye " });

        // Socket.IO -> Bayeux.
        assert.deepEqual(await socket.timeout(5000).emitWithAck("message", "hi faye"), {
          ok: true,
        });
        await until(() => fromSocketIo.length === 2);
        const bridged = fromSocketIo[1] as ChatMessage;
        assert.equal(bridged.room, "lobby");
        assert.equal(bridged.from, "ada");
        assert.equal(bridged.text, "hi faye");
        assert.equal(typeof bridged.at, "number");

        // No loop: each message reached each side exactly once.
        await delay(300);
        assert.equal(atSocket.length, 2);
        assert.equal(atSocket[1].text, "hi faye");
        assert.equal(atSocket[1].via, undefined);
        assert.equal(fromSocketIo.length, 2);
      } finally {
        socket.close();
        await shutdownFaye(faye);
        await stop(started);
      }
    });
  }

  it("refuses chat data the room cannot show, and bridges no other channel", {
    timeout: 30_000,
  }, async () => {
    const started = await start([]);
    const faye = fayeClient(`${started.base}/bayeux`, "long-polling");
    const socket = await member(started.base, "bob", "lobby");
    try {
      const atSocket: ChatMessage[] = [];
      socket.on("message", (message: ChatMessage) => atSocket.push(message));
      await assert.rejects(
        Promise.resolve(faye.publish("/chat/lobby", { text: "" })),
        (err: { code?: number; message?: string }) => {
          assert.equal(err.code, 400);
          return true;
        },
      );
      await faye.publish("/chat/lobby/deeper", { text: "not a room" });
      await faye.publish("/elsewhere", { text: "not chat" });
      await faye.publish("/chat/lobby", "plain text works");
      await until(() => atSocket.length === 1);
      await delay(200);
      assert.deepEqual(
        atSocket.map((m) => [m.from, m.text]),
        [["bayeux", "plain text works"]],
      );
    } finally {
      socket.close();
      await shutdownFaye(faye);
      await stop(started);
    }
  });

  it("honours --bayeux-path and --no-bayeux", { timeout: 30_000 }, async () => {
    const moved = await start(["--bayeux-path", "/faye"]);
    try {
      assert.match(moved.line, /Bayeux path \/faye\)/);
      assert.equal((await bayeuxHandshake(`${moved.base}/faye`)).status, 200);
      assert.equal((await bayeuxHandshake(`${moved.base}/bayeux`)).status, 405);
      assert.equal((await (await fetch(`${moved.base}/config.json`)).json()).bayeuxPath, "/faye");
    } finally {
      await stop(moved);
    }
    const off = await start(["--no-bayeux"]);
    try {
      assert.match(off.line, /Bayeux off\)/);
      const config = await (await fetch(`${off.base}/config.json`)).json();
      assert.equal(config.bayeuxPath, null);
      assert.equal(config.bayeuxClient, null);
      assert.equal((await fetch(`${off.base}/bayeux`)).status, 404);
      assert.equal((await fetch(`${off.base}/bayeux-client.js`)).status, 404);
    } finally {
      await stop(off);
    }
  });

  it("on SIGTERM ends a Faye session held in long-polling and exits 0", {
    timeout: 30_000,
  }, async () => {
    const started = await start([]);
    const faye = fayeClient(`${started.base}/bayeux`, "long-polling");
    try {
      await faye.subscribe("/chat/lobby", () => {});
      assert.ok(fayeClientId(faye));
      // Let the next /meta/connect be held by the server.
      await delay(300);
      const began = Date.now();
      const stderr = await stop(started);
      assert.match(stderr, /SIGTERM, shutting down/);
      // A held connect would otherwise keep the shutdown waiting for its timeout.
      const took = Date.now() - began;
      assert.ok(took < 5000, `shut down in ${took} ms`);
    } finally {
      faye._dispatcher.close();
    }
  });

  it("serves /bayeux-client.js from dist when built, else a 404 saying how to build", {
    timeout: 20_000,
  }, async () => {
    const started = await start([]);
    try {
      const res = await fetch(`${started.base}/bayeux-client.js`);
      const body = await res.text();
      if (existsSync(builtBundle)) {
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /^text\/javascript/);
        assert.equal(body, readFileSync(builtBundle, "utf8"));
      } else {
        assert.equal(res.status, 404);
        assert.match(body, /npm run build/);
      }
    } finally {
      const stderr = await stop(started);
      assert.equal(/Bayeux browser client not built/.test(stderr), !existsSync(builtBundle));
    }
  });
});

describe("/bayeux-client.js in-process", () => {
  const options: ServeOptions = { ...LOCAL_SERVE };

  it("serves a freshly built bundle", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-bundle-"));
    try {
      const script = join(repo, "scripts", "build-client-bundle.mjs");
      const { buildClientBundle } = (await import(script)) as {
        buildClientBundle(o: { outdir: string }): Promise<{ iife: string }>;
      };
      const { iife } = await buildClientBundle({ outdir: dir });
      const lines: string[] = [];
      const running = await startServer(options, {
        bayeuxBundle: iife,
        log: (line) => lines.push(line),
      });
      try {
        const base = `http://127.0.0.1:${running.port}`;
        const res = await fetch(`${base}/bayeux-client.js`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
        const text = await res.text();
        assert.equal(text, readFileSync(iife, "utf8"));
        assert.match(text, /Switchboard/);
        const head = await fetch(`${base}/bayeux-client.js`, { method: "HEAD" });
        assert.equal(head.headers.get("content-length"), String(Buffer.byteLength(text)));
        assert.equal((await fetch(`${base}/bayeux-client.js`, { method: "POST" })).status, 405);
        assert.deepEqual(lines, []);
      } finally {
        await running.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers 404 and logs once when the bundle is missing", { timeout: 10_000 }, async () => {
    const lines: string[] = [];
    const missing = join(tmpdir(), "switchboard-no-such-dir", "bayeux-client.browser.js");
    const running = await startServer(options, {
      bayeuxBundle: missing,
      log: (line) => lines.push(line),
    });
    try {
      const base = `http://127.0.0.1:${running.port}`;
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${base}/bayeux-client.js`);
        assert.equal(res.status, 404);
        assert.match(await res.text(), /not built.*npm run build/);
      }
      assert.equal(lines.length, 1);
      assert.match(lines[0], /Bayeux browser client not built: .*bayeux-client\.browser\.js/);
      assert.ok(running.bayeux);
    } finally {
      await running.close();
    }
    assert.equal(running.bayeux?.closed, true);
  });
});
