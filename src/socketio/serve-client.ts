/**
 * Serves the browser client bundle (`serveClient`): the files of the
 * installed `socket.io-client` package's `dist/`, at `<path>/<file>`, with a
 * weak ETag naming the client version and `304 Not Modified` on a match.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createDebug } from "../shared/debug.js";

const debug = createDebug("socketio:serve-client");

/** Bundles served, with their `.map` siblings. */
export const CLIENT_FILES: readonly string[] = [
  "socket.io.js",
  "socket.io.min.js",
  "socket.io.esm.min.js",
  "socket.io.msgpack.min.js",
].flatMap((f) => [f, `${f}.map`]);

interface ClientPackage {
  dir: string;
  etag: string;
}

let pkg: ClientPackage | null | undefined;
const cache = new Map<string, Promise<Buffer>>();

function clientPackage(): ClientPackage | null {
  if (pkg !== undefined) return pkg;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve("socket.io-client/package.json");
    const { version } = require(manifest) as { version: string };
    pkg = { dir: join(dirname(manifest), "dist"), etag: `W/"${version}"` };
  } catch (err) {
    debug("socket.io-client not found: %s", err);
    pkg = null;
  }
  return pkg;
}

/**
 * Returns a request handler for client files under `path`; it answers and
 * returns true for a client file URL, returns false for anything else.
 */
export function createClientFileHandler(
  path: string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const prefix = `${path.replace(/\/$/, "")}/`;
  return (req, res) => {
    const url = req.url;
    if (!url?.startsWith(prefix)) return false;
    const q = url.indexOf("?");
    const file = url.slice(prefix.length, q === -1 ? undefined : q);
    if (!CLIENT_FILES.includes(file)) return false;
    const info = clientPackage();
    if (!info) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return true;
    }
    res.setHeader("Cache-Control", "public, max-age=0");
    res.setHeader("ETag", info.etag);
    const ifNoneMatch = req.headers["if-none-match"];
    if (ifNoneMatch?.split(/\s*,\s*/).includes(info.etag)) {
      res.writeHead(304).end();
      return true;
    }
    let body = cache.get(file);
    if (!body) {
      body = readFile(join(info.dir, file));
      cache.set(file, body);
    }
    body.then(
      (bytes) => {
        res.writeHead(200, {
          "Content-Type": file.endsWith(".map")
            ? "application/json; charset=utf-8"
            : "application/javascript; charset=utf-8",
          "Content-Length": bytes.length,
        });
        res.end(req.method === "HEAD" ? undefined : bytes);
      },
      (err: unknown) => {
        cache.delete(file);
        debug("cannot read %s: %s", file, err);
        res.writeHead(404).end();
      },
    );
    return true;
  };
}
