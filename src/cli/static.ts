/**
 * Static file serving for the demo page: GET and HEAD only, files strictly
 * inside one root directory (no `..`, no encoded traversal, no symlink that
 * leads out), a content type per extension, 404 for anything else. Small and
 * strict on purpose; it serves a handful of files.
 */
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { requestPath } from "../mount/path.js";

/** Content types by file extension (RFC 9239 for JavaScript). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** Headers sent with every static file. */
const BASE_HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
} as const;

/** Extra headers for HTML documents: a policy allowing only this origin's scripts and sockets. */
const HTML_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
} as const;

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Serves files under `root`; `/` and directory-like paths ending in `/` serve
 * `index.html` from that directory.
 *
 * @example
 * const serveDemo = createStaticHandler("/srv/switchboard/demo");
 * http.createServer((req, res) => void serveDemo(req, res));
 */
export function createStaticHandler(root: string): StaticHandler {
  const absoluteRoot = resolve(root);
  let realRoot: Promise<string> | undefined;
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendText(res, 405, "Method Not Allowed", { Allow: "GET, HEAD" });
    }
    const file = resolveFile(absoluteRoot, req.url);
    if (file === null) return sendText(res, 400, "Bad Request");
    if (file === undefined) return sendText(res, 404, "Not Found");
    try {
      realRoot ??= realpath(absoluteRoot);
      const [rootPath, filePath] = await Promise.all([realRoot, realpath(file)]);
      // A symlink inside the root may point anywhere; follow it only if it stays inside.
      if (!filePath.startsWith(rootPath + sep)) return sendText(res, 404, "Not Found");
      const info = await stat(filePath);
      if (!info.isFile()) return sendText(res, 404, "Not Found");
      const type = CONTENT_TYPES[extname(filePath).toLowerCase()] ?? "application/octet-stream";
      res.writeHead(200, {
        ...BASE_HEADERS,
        ...(type.startsWith("text/html") ? HTML_HEADERS : {}),
        "Content-Type": type,
        "Content-Length": info.size,
        "Last-Modified": info.mtime.toUTCString(),
      });
      if (req.method === "HEAD") {
        res.end();
        return;
      }
      await pipeline(createReadStream(filePath), res);
    } catch {
      // Missing file, or the client went away mid-stream; neither concerns the server.
      if (!res.headersSent) sendText(res, 404, "Not Found");
      else res.destroy();
    }
  };
}

/**
 * Maps a request target to a file path inside `root`: undefined when it cannot
 * name a file there (404), null when the target is malformed (400).
 */
export function resolveFile(root: string, url: string | undefined): string | undefined | null {
  const path = requestPath(url);
  if (path === undefined) return null;
  const segments: string[] = [];
  for (const raw of path.split("/").slice(1)) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    // Decoded separators, NUL and dot segments could step outside the root or
    // confuse the file system; no demo file needs them.
    if (/[/\\\0]/.test(segment) || segment === "." || segment === "..") return undefined;
    if (segment.startsWith(".")) return undefined;
    segments.push(segment);
  }
  if (segments.length === 0 || segments[segments.length - 1] === "") {
    segments[Math.max(segments.length - 1, 0)] = "index.html";
  }
  const file = resolve(join(root, ...segments));
  return file.startsWith(root + sep) ? file : undefined;
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...BASE_HEADERS,
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
