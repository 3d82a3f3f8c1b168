/**
 * Serves the Bayeux browser client (`dist/bayeux-client.browser.js`, built by
 * `npm run build`) at `/bayeux-client.js`. The file is looked up on every
 * request, so building while the server runs is enough; when it is missing the
 * answer is a 404 saying how to build it, and the log says so once.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { packageRoot } from "./package-root.js";

/** Where the standalone server serves the bundle. */
export const BAYEUX_CLIENT_URL = "/bayeux-client.js";

/** The bundle inside the package, as `scripts/build-client-bundle.mjs` writes it. */
export function defaultBundleFile(): string {
  return join(packageRoot(), "dist", "bayeux-client.browser.js");
}

/** The text of the 404 and of the log line when the bundle is missing. */
export function missingBundleMessage(file: string): string {
  return `Bayeux browser client not built: ${file} is missing; run \`npm run build\` to serve ${BAYEUX_CLIENT_URL}`;
}

const HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
} as const;

export interface BundleHandler {
  (req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Looks for the file now (at start), logging if it is missing; resolves whether it exists. */
  check(): Promise<boolean>;
}

/**
 * A handler answering GET/HEAD with the bundle `file`. `log` receives one line
 * the first time the file is found missing.
 *
 * @example
 * const serveBundle = createBundleHandler(defaultBundleFile(), console.error);
 */
export function createBundleHandler(file: string, log: (line: string) => void): BundleHandler {
  let warned = false;
  const warn = (): void => {
    if (warned) return;
    warned = true;
    log(missingBundleMessage(file));
  };
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendText(res, 405, "Method Not Allowed", { Allow: "GET, HEAD" });
    }
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error("not a file");
      size = info.size;
    } catch {
      warn();
      return sendText(res, 404, missingBundleMessage(file));
    }
    res.writeHead(200, {
      ...HEADERS,
      "Content-Type": "text/javascript; charset=utf-8",
      "Content-Length": size,
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(file), res);
    } catch {
      // The client went away, or the file was replaced mid-read by a rebuild.
      res.destroy();
    }
  };
  const check = async (): Promise<boolean> => {
    const found = await stat(file).then(
      (info) => info.isFile(),
      () => false,
    );
    if (!found) warn();
    return found;
  };
  return Object.assign(handler, { check });
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...HEADERS,
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
