/**
 * The cross-origin checks every mount passes: with one mount-level `cors`,
 * a preflight and a request from the allowed origin get the CORS headers at
 * both the Socket.IO and the Bayeux path, another origin gets none at either;
 * with `bayeux.cors` set separately the two protocols answer differently.
 * Plain node:http requests, so the Origin header is sent exactly as given.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { it } from "node:test";
import type { MountOptions } from "../../src/mount/socketio.js";

export const ALLOWED = "https://allowed.example";
export const OTHER = "https://other.example";

/** A started mount under test: its base URL and how to stop it. */
export interface StartedMount {
  url: string;
  close(): Promise<void>;
}

export interface CorsAnswer {
  status: number;
  allowOrigin: string | undefined;
  allowCredentials: string | undefined;
}

/** One request with an Origin header (a preflight for OPTIONS); its CORS answer. */
export function corsRequest(
  url: string,
  method: "OPTIONS" | "GET" | "POST",
  origin: string,
  body?: string,
): Promise<CorsAnswer> {
  const headers: Record<string, string> = { Origin: origin, Connection: "close" };
  if (method === "OPTIONS") {
    headers["Access-Control-Request-Method"] = "POST";
    headers["Access-Control-Request-Headers"] = "content-type";
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      res.resume();
      res.on("end", () => {
        const allowOrigin = res.headers["access-control-allow-origin"];
        const allowCredentials = res.headers["access-control-allow-credentials"];
        resolve({
          status: res.statusCode ?? 0,
          allowOrigin: typeof allowOrigin === "string" ? allowOrigin : undefined,
          allowCredentials: typeof allowCredentials === "string" ? allowCredentials : undefined,
        });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

export const HANDSHAKE = JSON.stringify([
  { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
]);

/**
 * The Access-Control-Allow-Origin that `origin` gets from a preflight and from
 * a real request (the polling handshake; a Bayeux handshake POST), per protocol.
 */
export async function crossOrigin(
  url: string,
  origin: string,
  paths: { socketio?: string; bayeux?: string } = {},
): Promise<{ socketio: (string | undefined)[]; bayeux: (string | undefined)[] }> {
  const sio = `${url}${paths.socketio ?? "/socket.io"}/?EIO=4&transport=polling`;
  const bayeux = `${url}${paths.bayeux ?? "/bayeux"}`;
  const sioPreflight = await corsRequest(sio, "OPTIONS", origin);
  const sioRequest = await corsRequest(sio, "GET", origin);
  assert.equal(sioRequest.status, 200, "Socket.IO polling handshake");
  const bayeuxPreflight = await corsRequest(bayeux, "OPTIONS", origin);
  const bayeuxRequest = await corsRequest(bayeux, "POST", origin, HANDSHAKE);
  assert.equal(bayeuxRequest.status, 200, "Bayeux handshake");
  return {
    socketio: [sioPreflight.allowOrigin, sioRequest.allowOrigin],
    bayeux: [bayeuxPreflight.allowOrigin, bayeuxRequest.allowOrigin],
  };
}

/**
 * Registers the cross-origin tests of one mount. `start` builds and starts the
 * mount with the given options (Socket.IO and Bayeux at their default paths).
 */
export function itAppliesOneCors(start: (options: MountOptions) => Promise<StartedMount>): void {
  it("one cors option allows an origin on both Socket.IO and Bayeux, and no other", {
    timeout: 15_000,
  }, async () => {
    const mount = await start({ cors: { origin: [ALLOWED], credentials: true } });
    try {
      const allowed = await crossOrigin(mount.url, ALLOWED);
      assert.deepEqual(allowed, { socketio: [ALLOWED, ALLOWED], bayeux: [ALLOWED, ALLOWED] });
      const other = await crossOrigin(mount.url, OTHER);
      assert.deepEqual(other, {
        socketio: [undefined, undefined],
        bayeux: [undefined, undefined],
      });
    } finally {
      await mount.close();
    }
  });

  it("Bayeux options without cors keep the mount's; bayeux.cors configures Bayeux apart", {
    timeout: 20_000,
  }, async () => {
    const inheriting = await start({ cors: { origin: [ALLOWED] }, bayeux: { timeout: 20_000 } });
    try {
      assert.deepEqual((await crossOrigin(inheriting.url, ALLOWED)).bayeux, [ALLOWED, ALLOWED]);
      assert.deepEqual((await crossOrigin(inheriting.url, OTHER)).bayeux, [undefined, undefined]);
    } finally {
      await inheriting.close();
    }
    const mount = await start({
      cors: { origin: [ALLOWED] },
      bayeux: { cors: { origin: [OTHER] } },
    });
    try {
      assert.deepEqual(await crossOrigin(mount.url, ALLOWED), {
        socketio: [ALLOWED, ALLOWED],
        bayeux: [undefined, undefined],
      });
      assert.deepEqual(await crossOrigin(mount.url, OTHER), {
        socketio: [undefined, undefined],
        bayeux: [OTHER, OTHER],
      });
    } finally {
      await mount.close();
    }
  });
}
