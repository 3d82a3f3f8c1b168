/**
 * Interop with Debian's python3-socketio 5.x, a real third-party Socket.IO client, over
 * polling, websocket and the polling → websocket upgrade.
 *
 * Needs `apt-get install python3-socketio python3-websocket python3-requests python3-aiohttp`
 * (run by `.ci/run`). Outside CI a machine without them skips with that message; with CI=true
 * the test runs and must pass.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Server } from "../../src/index.js";

const PYTHON = "/usr/bin/python3";
const script = fileURLToPath(new URL("./python/client.py", import.meta.url));
const probe = spawnSync(PYTHON, ["-c", "import socketio, websocket, aiohttp, requests"]);
const available = probe.status === 0;
const skip =
  !available && process.env.CI !== "true"
    ? "python3-socketio missing: apt-get install python3-socketio python3-websocket python3-requests python3-aiohttp"
    : false;

interface PythonResult {
  errors: string[];
  transport?: string;
  echo?: unknown;
  sum?: unknown;
  bin?: unknown;
  pushed?: unknown;
  welcome?: { nsp: string; id: string };
  chatAck?: unknown;
}

function runClient(url: string, mode: string): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [script, url, mode], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python client failed: ${err.message}\n${stderr}`));
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as PythonResult);
      } catch {
        reject(new Error(`python client printed no result: ${stdout}\n${stderr}`));
      }
    });
  });
}

describe("python-socketio client", { skip }, () => {
  const httpServer = createServer();
  const io = new Server(httpServer);
  let url = "";
  const auths: unknown[] = [];

  before(async () => {
    io.on("connection", (socket) => {
      auths.push(socket.handshake.auth);
      socket.on("echo", (data: unknown) => socket.emit("echo", data));
      socket.on("sum", (pair: [number, number], ack: (n: number) => void) =>
        ack(pair[0] + pair[1]),
      );
      socket.on("bin", (buf: Buffer) => socket.emit("bin", buf));
      socket.on("ask-me", (n: number) => {
        socket.timeout(5000).emit("ask", { n }, (err: Error | null, resp: unknown) => {
          socket.emit("pushed", { err: err ? err.message : null, resp });
        });
      });
    });
    io.of("/chat").on("connection", (socket) => {
      socket.emit("welcome", { nsp: socket.nsp.name, id: socket.id });
      socket.on("whoami", (ack: (s: string) => void) => ack(`chat:${socket.nsp.name}`));
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => io.close(() => resolve())));

  for (const mode of ["polling", "websocket", "upgrade"]) {
    it(`connect, emit, acks both ways, binary and namespaces over ${mode}`, async () => {
      const r = await runClient(url, mode);
      assert.deepEqual(r.errors, []);
      assert.equal(r.transport, mode === "polling" ? "polling" : "websocket");
      assert.deepEqual(r.echo, { text: "hello", n: [1, 2, 3] });
      assert.equal(r.sum, 42);
      assert.deepEqual(r.bin, [0, 1, 2, 255]);
      assert.deepEqual(r.pushed, { err: null, resp: { answer: 42 } });
      assert.equal(r.welcome?.nsp, "/chat");
      assert.equal(typeof r.welcome?.id, "string");
      assert.equal(r.chatAck, "chat:/chat");
      assert.deepEqual(auths.at(-1), { token: "py" });
    });
  }
});
