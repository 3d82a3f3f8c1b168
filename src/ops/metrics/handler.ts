/**
 * The HTTP side of `/metrics`: answers GET and HEAD with the exposition
 * (`Content-Type` of the registry that renders it), 405 for other methods,
 * 500 (and no crash) when collecting fails. Mount it at any path.
 *
 * @example
 * const serve = metricsHandler(() => metrics.text(), CONTENT_TYPE);
 * http.createServer((req, res) => (req.url === "/metrics" ? serve(req, res) : app(req, res)));
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function metricsHandler(
  text: () => Promise<string>,
  contentType: () => string,
): MetricsRequestHandler {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 });
      res.end();
      return;
    }
    text().then(
      (body) => {
        if (res.destroyed) return;
        res.writeHead(200, {
          "Content-Type": contentType(),
          "Content-Length": Buffer.byteLength(body),
          "Cache-Control": "no-store",
        });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      (err: unknown) => {
        if (res.destroyed || res.headersSent) return;
        const message = `metrics collection failed: ${(err as Error)?.message ?? err}\n`;
        res.writeHead(500, {
          "Content-Type": "text/plain; charset=utf-8",
          "Content-Length": Buffer.byteLength(message),
        });
        res.end(req.method === "HEAD" ? undefined : message);
      },
    );
  };
}
