/**
 * startServer in-process: the shutdown closes Socket.IO clients with the
 * reason "server shutting down" and the HTTP server with them, a taken port is
 * a CliStartError, and unusable TLS files are a CliUsageError.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { io as connect } from "socket.io-client";
import { CliStartError, CliUsageError } from "../../src/cli/errors.js";
import type { ServeOptions } from "../../src/cli/options.js";
import { startServer } from "../../src/cli/server.js";
import { LOCAL_SERVE } from "../helpers/cli-node.js";
import { ALLOWED, corsRequest, crossOrigin, HANDSHAKE, OTHER } from "../mount/cors.js";

const options: ServeOptions = { ...LOCAL_SERVE };

describe("startServer", () => {
  it("closes clients with 'server shutting down' and stops listening", {
    timeout: 10_000,
  }, async () => {
    const running = await startServer(options);
    assert.equal(running.url, `http://127.0.0.1:${running.port}/`);
    const reasons: string[] = [];
    running.io.on("connection", (socket) => {
      socket.on("disconnect", (reason: string) => reasons.push(reason));
    });
    const clients = await Promise.all(
      (["polling", "websocket"] as const).map(async (transport) => {
        const client = connect(`http://127.0.0.1:${running.port}`, {
          transports: [transport],
          forceNew: true,
          reconnection: false,
        });
        await new Promise<void>((resolve, reject) => {
          client.once("connect", resolve);
          client.once("connect_error", reject);
        });
        return client;
      }),
    );
    try {
      await Promise.all([running.close(), running.close()]);
      assert.deepEqual(reasons, ["server shutting down", "server shutting down"]);
      assert.equal(running.server.listening, false);
    } finally {
      for (const client of clients) client.close();
    }
  });

  it("rejects a taken port with CliStartError", { timeout: 10_000 }, async () => {
    const first = await startServer(options);
    try {
      await assert.rejects(startServer({ ...options, port: first.port }), (err: unknown) => {
        assert.ok(err instanceof CliStartError);
        assert.match(err.message, /EADDRINUSE/);
        return true;
      });
    } finally {
      await first.close();
    }
  });

  it("rejects unusable TLS files with CliUsageError", { timeout: 10_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-badtls-"));
    try {
      const cert = join(dir, "cert.pem");
      const key = join(dir, "key.pem");
      writeFileSync(cert, "not a certificate");
      writeFileSync(key, "not a key");
      await assert.rejects(
        startServer({ ...options, tls: { certFile: cert, keyFile: key } }),
        (err: unknown) => err instanceof CliUsageError && /invalid --tls-cert/.test(err.message),
      );
      await assert.rejects(
        startServer({ ...options, tls: { certFile: join(dir, "none"), keyFile: key } }),
        (err: unknown) => err instanceof CliUsageError && /cannot read/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("startServer cross-origin", () => {
  it("--cors-origin allows its origins on both Socket.IO and Bayeux, and no other", {
    timeout: 15_000,
  }, async () => {
    const running = await startServer({ ...options, corsOrigin: [ALLOWED] });
    try {
      const url = `http://127.0.0.1:${running.port}`;
      assert.deepEqual(await crossOrigin(url, ALLOWED), {
        socketio: [ALLOWED, ALLOWED],
        bayeux: [ALLOWED, ALLOWED],
      });
      assert.deepEqual(await crossOrigin(url, OTHER), {
        socketio: [undefined, undefined],
        bayeux: [undefined, undefined],
      });
    } finally {
      await running.close();
    }
  });

  it("--cors-origin '*' answers any origin on both, without credentials", {
    timeout: 15_000,
  }, async () => {
    const running = await startServer({ ...options, corsOrigin: "*" });
    try {
      const url = `http://127.0.0.1:${running.port}`;
      const sio = await corsRequest(`${url}/socket.io/?EIO=4&transport=polling`, "GET", OTHER);
      assert.equal(sio.allowOrigin, "*");
      assert.equal(sio.allowCredentials, undefined);
      // Bayeux reflects the origin; like Socket.IO it must not allow credentials with it.
      const bayeux = await corsRequest(`${url}/bayeux`, "POST", OTHER, HANDSHAKE);
      assert.equal(bayeux.allowOrigin, OTHER);
      assert.equal(bayeux.allowCredentials, undefined);
    } finally {
      await running.close();
    }
  });

  it("without --cors-origin neither protocol answers another origin", {
    timeout: 15_000,
  }, async () => {
    const running = await startServer(options);
    try {
      assert.deepEqual(await crossOrigin(`http://127.0.0.1:${running.port}`, OTHER), {
        socketio: [undefined, undefined],
        bayeux: [undefined, undefined],
      });
    } finally {
      await running.close();
    }
  });
});
