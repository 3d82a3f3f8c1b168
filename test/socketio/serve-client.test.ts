/**
 * `serveClient` over real HTTP requests: every bundle and map of the
 * socket.io-client version the package was built with, strong ETag and 304,
 * brotli / gzip / plain by Accept-Encoding, CORS as the server's `cors` option
 * says, and 404 at once for a client-looking URL that names no file.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { acceptedCodings, pickContentCoding } from "../../src/socketio/accept-encoding.js";
import { CLIENT_FILES } from "../../src/socketio/serve-client.js";
import { type RawResponse, rawRequest } from "../engine/helpers.js";
import { startServer, waitFor } from "./helpers.js";

const require = createRequire(import.meta.url);
const clientDir = join(dirname(require.resolve("socket.io-client/package.json")), "dist");
const { version } = require("socket.io-client/package.json") as { version: string };
const ETAG = `"${version}"`;

/** A request that must be answered within `ms` (a hang fails the test rather than stalling it). */
function within(ms: number, pending: Promise<RawResponse>): Promise<RawResponse> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
}

describe("serveClient", () => {
  it("serves every bundle and map, plain, gzip and brotli, with socket.io's headers", async () => {
    const h = await startServer();
    try {
      assert.equal(CLIENT_FILES.length, 8);
      for (const file of CLIENT_FILES) {
        const expected = readFileSync(join(clientDir, file));
        const type = file.endsWith(".map") ? /^application\/json/ : /^application\/javascript/;
        const decoders: Record<string, (b: Buffer) => Buffer> = {
          identity: (b) => b,
          gzip: gunzipSync,
          br: brotliDecompressSync,
        };
        const get = async (accept: string | undefined) => {
          const res = await within(
            10_000,
            rawRequest(h.port, `/socket.io/${file}`, {
              headers: accept ? { "accept-encoding": accept } : {},
            }),
          );
          const what = `${file} (${accept ?? "no Accept-Encoding"})`;
          assert.equal(res.status, 200, what);
          assert.equal(res.headers.etag, ETAG, what);
          assert.equal(res.headers["cache-control"], "public, max-age=0", what);
          assert.match(res.headers["content-type"] ?? "", type, what);
          assert.match(String(res.headers.vary), /Accept-Encoding/, what);
          assert.equal(Number(res.headers["content-length"]), res.body.length, what);
          const coding = res.headers["content-encoding"] ?? "identity";
          assert.ok(decoders[coding](res.body).equals(expected), `${what}: bytes differ`);
          return coding;
        };
        assert.equal(await get(undefined), "identity");
        assert.equal(await get("gzip, deflate"), "gzip");
        // Gzip while the brotli form is being made (in the background), brotli once it is.
        const deadline = Date.now() + 20_000;
        let coding = await get("gzip, deflate, br");
        while (coding !== "br" && Date.now() < deadline) {
          assert.equal(coding, "gzip");
          await new Promise((resolve) => setImmediate(resolve));
          coding = await get("gzip, deflate, br");
        }
        assert.equal(coding, "br", `${file}: never served brotli`);
      }
      // A client that takes brotli alone waits for it.
      const brOnly = await rawRequest(h.port, "/socket.io/socket.io.js.map", {
        headers: { "accept-encoding": "br" },
      });
      assert.equal(brOnly.headers["content-encoding"], "br");
      assert.ok(
        brotliDecompressSync(brOnly.body).equals(readFileSync(join(clientDir, "socket.io.js.map"))),
      );
      // A query string is ignored, as socket.io does.
      const withQuery = await rawRequest(h.port, "/socket.io/socket.io.min.js?v=1");
      assert.equal(withQuery.status, 200);
      // The server still speaks Socket.IO beside the files.
      const client = h.client();
      await waitFor(client, "connect", 5000);
    } finally {
      await h.close();
    }
  });

  it("answers 304 to If-None-Match naming the version, strong or weak, and HEAD without a body", async () => {
    const h = await startServer();
    try {
      for (const tag of [ETAG, `W/${ETAG}`, `"other", ${ETAG}`, "*"]) {
        const res = await rawRequest(h.port, "/socket.io/socket.io.js", {
          headers: { "if-none-match": tag },
        });
        assert.equal(res.status, 304, tag);
        assert.equal(res.headers.etag, ETAG);
        assert.equal(res.body.length, 0);
      }
      const stale = await rawRequest(h.port, "/socket.io/socket.io.js", {
        headers: { "if-none-match": '"0.0.1"' },
      });
      assert.equal(stale.status, 200);
      const head = await rawRequest(h.port, "/socket.io/socket.io.min.js", {
        method: "HEAD",
        headers: { "accept-encoding": "gzip" },
      });
      assert.equal(head.status, 200);
      assert.equal(head.headers["content-encoding"], "gzip");
      assert.ok(Number(head.headers["content-length"]) > 1000);
      assert.equal(head.body.length, 0);
    } finally {
      await h.close();
    }
  });

  it("answers 404 at once to a client-file URL that names no file, under any path", async () => {
    const h = await startServer();
    const custom = await startServer({ path: "/live" });
    try {
      for (const [port, url] of [
        [h.port, "/socket.io/socket.io.foo.js"],
        [h.port, "/socket.io/socket.io.esm.js"],
        [h.port, "/socket.io/socket.io.msgpack.js.map"],
        [h.port, "/socket.io/socket.io.js.gz"],
        [h.port, "/socket.io/socket.io"],
        [custom.port, "/live/socket.io.foo.js"],
      ] as const) {
        const res = await within(5000, rawRequest(port, url));
        assert.equal(res.status, 404, url);
      }
      const served = await rawRequest(custom.port, "/live/socket.io.js");
      assert.equal(served.status, 200);
      assert.equal(served.headers.etag, ETAG);
    } finally {
      await Promise.all([h.close(), custom.close()]);
    }
  });

  it("applies the server's cors option to the files and answers their preflight", async () => {
    const h = await startServer({
      cors: { origin: "https://app.example", credentials: true, methods: ["GET"] },
    });
    const open = await startServer();
    try {
      const res = await rawRequest(h.port, "/socket.io/socket.io.min.js", {
        headers: { origin: "https://app.example" },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers["access-control-allow-origin"], "https://app.example");
      assert.equal(res.headers["access-control-allow-credentials"], "true");
      assert.match(String(res.headers.vary), /Origin/);
      assert.match(String(res.headers.vary), /Accept-Encoding/);
      const preflight = await rawRequest(h.port, "/socket.io/socket.io.min.js", {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "GET" },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers["access-control-allow-methods"], "GET");
      // Without a cors option there are no CORS headers (as socket.io).
      const plain = await rawRequest(open.port, "/socket.io/socket.io.min.js", {
        headers: { origin: "https://app.example" },
      });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers["access-control-allow-origin"], undefined);
    } finally {
      await Promise.all([h.close(), open.close()]);
    }
  });

  it("serves nothing with serveClient: false (the engine answers)", async () => {
    const h = await startServer({ serveClient: false });
    try {
      const res = await within(5000, rawRequest(h.port, "/socket.io/socket.io.js"));
      assert.notEqual(res.status, 200);
    } finally {
      await h.close();
    }
  });
});

describe("Accept-Encoding", () => {
  it("picks brotli, then gzip, by q-value, honouring q=0 and *", () => {
    for (const [header, expected] of [
      [undefined, "identity"],
      ["", "identity"],
      ["identity", "identity"],
      ["deflate", "identity"],
      ["gzip", "gzip"],
      ["x-gzip", "gzip"],
      ["gzip, deflate, br", "br"],
      ["br;q=0.5, gzip", "gzip"],
      ["br;q=0, gzip;q=0", "identity"],
      ["*", "br"],
      ["*;q=0.2, br;q=0", "gzip"],
      ["GZIP ; Q=0.9", "gzip"],
      ["br;q=abc, gzip;q=0.1", "gzip"],
    ] as const) {
      assert.equal(pickContentCoding(header), expected, String(header));
    }
    assert.deepEqual(acceptedCodings("gzip, deflate, br"), ["br", "gzip", "identity"]);
    assert.deepEqual(acceptedCodings("gzip, br;q=0.5"), ["gzip", "br", "identity"]);
    assert.deepEqual(acceptedCodings("deflate"), ["identity"]);
  });
});
