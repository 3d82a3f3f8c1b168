/**
 * The few HTTP moves of the dashboard: a JSON answer (never cached), an
 * error answer from {@link DashboardError}, and reading a small JSON body
 * with a size limit. Nothing here knows about sockets or sessions.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { DashboardError } from "./errors.js";

/** Headers of every dashboard answer: no caching, no sniffing, no referrer. */
export const COMMON_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
} as const;

/** Answers `body` as JSON with `status` (HEAD gets the headers only). */
export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(req.method === "HEAD" ? undefined : text);
}

/** Answers a refusal as `{ error: { code, message } }` with its status. */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: DashboardError,
  headers: Record<string, string> = {},
): void {
  sendJson(req, res, err.status, { error: { code: err.code, message: err.message } }, headers);
}

/**
 * Reads a JSON object body of at most `limit` bytes. Rejects with a
 * {@link DashboardError}: 415 unless the type is `application/json` (which
 * a cross-site form cannot send without a preflight), 413 past the limit,
 * 400 for anything but a JSON object.
 */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    req.resume();
    return Promise.reject(new DashboardError("ERR_DASHBOARD_UNSUPPORTED"));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new DashboardError("ERR_DASHBOARD_TOO_LARGE"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", (err) => {
      if (!failed)
        reject(new DashboardError("ERR_DASHBOARD_BAD_REQUEST", undefined, { cause: err }));
      failed = true;
    });
    req.on("end", () => {
      if (failed) return;
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        reject(
          new DashboardError("ERR_DASHBOARD_BAD_REQUEST", "the body is not JSON", { cause: err }),
        );
        return;
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        reject(new DashboardError("ERR_DASHBOARD_BAD_REQUEST", "the body is not a JSON object"));
        return;
      }
      resolve(value as Record<string, unknown>);
    });
  });
}
