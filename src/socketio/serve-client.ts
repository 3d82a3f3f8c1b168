/**
 * Serves the Socket.IO browser client (`serveClient`) at `<path>/<file>` as
 * socket.io 4.8 does: the bundles and maps of the socket.io-client version the
 * package was built with, `ETag: "<version>"` (strong), `304` when
 * `If-None-Match` names it, `Cache-Control: public, max-age=0`, brotli or gzip
 * by `Accept-Encoding`, and the server's CORS headers.
 *
 * The build (`scripts/build-socketio-client.mjs`) ships each file gzipped in
 * `dist/client-dist/`; the plain and brotli forms are derived on first request
 * and kept (gzip is sent while the brotli form is being made). A
 * `<path>/socket.io*` URL that names no file gets `404` at once.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliCompress, constants, gunzip, gzip } from "node:zlib";
import { applyCors } from "../engine/cors.js";
import type { CorsOptions } from "../engine/types.js";
import { createDebug } from "../shared/debug.js";
import { acceptedCodings, type ContentCoding } from "./accept-encoding.js";

const debug = createDebug("socketio:serve-client");

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Bundles served, with their `.map` siblings. */
export const CLIENT_FILES: readonly string[] = [
  "socket.io.js",
  "socket.io.min.js",
  "socket.io.esm.min.js",
  "socket.io.msgpack.min.js",
].flatMap((f) => [f, `${f}.map`]);

/** Where the client files are and which version they are. */
interface ClientDist {
  dir: string;
  version: string;
  /** True for the built package's `<file>.gz`; false for a dev checkout's socket.io-client. */
  gzipped: boolean;
}

let located: ClientDist | null | undefined;

function readVersion(manifest: string): string | undefined {
  try {
    const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version?: unknown };
    return typeof version === "string" ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The built `dist/client-dist/` (beside this module in dist/, or the build
 * output when running from src/ under tsx), else, in a development checkout
 * that was not built, the socket.io-client devDependency itself.
 */
function locate(): ClientDist | null {
  if (located !== undefined) return located;
  for (const rel of ["../client-dist/", "../../dist/client-dist/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    const version = readVersion(join(dir, "client.json"));
    if (version) {
      located = { dir, version, gzipped: true };
      return located;
    }
  }
  try {
    const manifest = createRequire(import.meta.url).resolve("socket.io-client/package.json");
    const version = readVersion(manifest);
    located = version ? { dir: join(dirname(manifest), "dist"), version, gzipped: false } : null;
  } catch (err) {
    debug("no client files: not built and socket.io-client not found: %s", err);
    located = null;
  }
  return located;
}

/** Each file's bytes per content coding, read or computed once. */
const cache = new Map<string, Promise<Buffer>>();
/** The entries of `cache` that have settled successfully. */
const ready = new Set<string>();

function bytesOf(dist: ClientDist, file: string, coding: ContentCoding): Promise<Buffer> {
  const key = `${coding} ${file}`;
  let bytes = cache.get(key);
  if (bytes) return bytes;
  if (coding === "gzip") {
    bytes = dist.gzipped
      ? readFile(join(dist.dir, `${file}.gz`))
      : bytesOf(dist, file, "identity").then((plain) =>
          gzipAsync(plain, { level: constants.Z_BEST_COMPRESSION }),
        );
  } else if (coding === "identity") {
    bytes = dist.gzipped
      ? bytesOf(dist, file, "gzip").then((gz) => gunzipAsync(gz))
      : readFile(join(dist.dir, file));
  } else {
    // Brotli at its best quality runs once per file, off the event loop (zlib's thread pool).
    bytes = bytesOf(dist, file, "identity").then((plain) =>
      brotliAsync(plain, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
        },
      }),
    );
  }
  // A failed read is not kept: the next request tries again.
  bytes.then(
    () => ready.add(key),
    () => cache.delete(key),
  );
  cache.set(key, bytes);
  return bytes;
}

/**
 * The coding to answer with: the client's favourite when its bytes are ready.
 * Brotli at its best quality takes a few hundred milliseconds per bundle, so
 * until a file's brotli form is made (started here, in the background) a
 * client that also takes gzip gets gzip rather than waiting.
 */
function chooseCoding(dist: ClientDist, file: string, accepted: ContentCoding[]): ContentCoding {
  const best = accepted[0];
  if (best !== "br" || accepted.length === 1 || ready.has(`br ${file}`)) return best;
  bytesOf(dist, file, "br").catch(() => {});
  return accepted[1];
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  for (const item of header.split(",")) {
    const tag = item.trim();
    // RFC 9110 13.1.2: If-None-Match compares weakly.
    if (tag === "*" || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 9 });
  res.end("Not Found");
}

function serve(req: IncomingMessage, res: ServerResponse, file: string): void {
  const dist = locate();
  if (!dist) {
    notFound(res);
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 }).end();
    return;
  }
  const etag = `"${dist.version}"`;
  res.setHeader("Cache-Control", "public, max-age=0");
  res.setHeader("ETag", etag);
  res.setHeader("Vary", appendVary(res.getHeader("Vary"), "Accept-Encoding"));
  if (etagMatches(req.headers["if-none-match"], etag)) {
    res.writeHead(304).end();
    return;
  }
  const coding = chooseCoding(dist, file, acceptedCodings(req.headers["accept-encoding"]));
  bytesOf(dist, file, coding).then(
    (bytes) => {
      res.setHeader(
        "Content-Type",
        file.endsWith(".map")
          ? "application/json; charset=utf-8"
          : "application/javascript; charset=utf-8",
      );
      if (coding !== "identity") res.setHeader("Content-Encoding", coding);
      res.setHeader("Content-Length", bytes.length);
      res.writeHead(200);
      res.end(req.method === "HEAD" ? undefined : bytes);
    },
    (err: unknown) => {
      debug("cannot read %s (%s): %s", file, coding, err);
      if (!res.headersSent) {
        for (const name of ["Cache-Control", "ETag", "Vary"]) res.removeHeader(name);
        notFound(res);
      }
    },
  );
}

function appendVary(current: number | string | string[] | undefined, field: string): string {
  if (current === undefined) return field;
  const text = Array.isArray(current) ? current.join(", ") : String(current);
  return text.split(/\s*,\s*/).includes(field) ? text : `${text}, ${field}`;
}

/**
 * Returns a request handler for client files under `path`: it answers a
 * client file URL (and any other `<path>/socket.io*` URL, with 404) and returns
 * true, or returns false for anything else. `cors` gives the server's current
 * CORS options, applied as the engine applies them (preflights answered 204).
 *
 * @example
 * const serve = createClientFileHandler("/socket.io", () => engine.opts.cors);
 * httpServer.on("request", (req, res) => serve(req, res) || app(req, res));
 */
export function createClientFileHandler(
  path: string,
  cors: () => CorsOptions | null | undefined = () => undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const prefix = `${path.replace(/\/$/, "")}/`;
  const clientPrefix = `${prefix}socket.io`;
  return (req, res) => {
    const url = req.url;
    if (!url?.startsWith(clientPrefix)) return false;
    const q = url.indexOf("?");
    const file = url.slice(prefix.length, q === -1 ? undefined : q);
    if (!CLIENT_FILES.includes(file)) {
      notFound(res);
      return true;
    }
    const options = cors();
    if (options) {
      applyCors(options, req, res, (handled) => {
        if (!handled) serve(req, res, file);
      });
    } else {
      serve(req, res, file);
    }
    return true;
  };
}
