/**
 * The dashboard page's three files (`index.html`, `app.js`, `app.css`), read
 * once from the package's `dashboard/` folder (the same place from `src/`
 * under tsx and from `dist/` after a build) and kept in memory. The HTML
 * names its script and style by the dashboard path, filled in here, so the
 * page works under any path; it has no inline script or style, which the
 * strict Content-Security-Policy of the page would refuse.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMON_HEADERS } from "./http.js";

/** `dashboard/` of the package: three levels above this module in `src/` and in `dist/`. */
export const ASSETS_DIR = fileURLToPath(new URL("../../../dashboard/", import.meta.url));

/** The page may load its own script, style and API, nothing else, and no one may frame it. */
export const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FILES = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
} as const;

export type AssetName = keyof typeof FILES;

export function isAsset(name: string): name is AssetName {
  return Object.hasOwn(FILES, name);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class Assets {
  readonly #dir: string;
  readonly #base: string;
  readonly #loaded = new Map<AssetName, Promise<Buffer>>();

  /** `base`: the dashboard path, written into the page's links. */
  constructor(base: string, dir = ASSETS_DIR) {
    this.#base = base;
    this.#dir = dir;
  }

  #load(name: AssetName): Promise<Buffer> {
    let loaded = this.#loaded.get(name);
    if (loaded === undefined) {
      loaded = readFile(join(this.#dir, FILES[name].file)).then((bytes) =>
        name === "/"
          ? Buffer.from(bytes.toString("utf8").replaceAll("%BASE%", escapeHtml(this.#base)))
          : bytes,
      );
      // A failed read is tried again on the next request.
      loaded.catch(() => this.#loaded.delete(name));
      this.#loaded.set(name, loaded);
    }
    return loaded;
  }

  /** Answers one file (GET or HEAD). */
  async serve(name: AssetName, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.#load(name);
    const headers: Record<string, string | number> = {
      ...COMMON_HEADERS,
      "Cache-Control": "no-cache",
      "Content-Type": FILES[name].type,
      "Content-Length": body.length,
    };
    if (name === "/") {
      headers["Content-Security-Policy"] = PAGE_POLICY;
      headers["X-Frame-Options"] = "DENY";
    }
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  }
}
