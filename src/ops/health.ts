/**
 * Health and readiness for load balancers and orchestrators: `GET /health`
 * answers whether the process is up (200 while it can answer at all), and
 * `GET /ready` whether it should be sent traffic: every readiness check
 * passes (listening, the broker reachable when there is one) and the node is
 * not draining. `drain()` (graceful shutdown) turns `/ready` to 503 while
 * clients are still served, so a balancer probing it moves traffic away
 * before the node stops listening. Both answer JSON, never cached.
 *
 * Exported from `switchboard` and `switchboard/health` for library and mount
 * users; the standalone server uses the same class.
 *
 * @example
 * const health = new Health([{ name: "broker", ok: () => broker.connected !== false }]);
 * server.on("request", (req, res) => { if (!health.handle(req, res)) app(req, res); });
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** One condition `/ready` requires. */
export interface ReadinessCheck {
  /** Its key in the `/ready` body. */
  name: string;
  /** Whether it passes now; a check that throws counts as failing. */
  ok(): boolean;
}

/** The `/ready` body. */
export interface Readiness {
  /** Every check passes and the node is not draining (`/ready` answers 200, else 503). */
  ready: boolean;
  /** Graceful shutdown under way ({@link Health.drain}). */
  draining: boolean;
  /** Each check's result by its name. */
  checks: Record<string, boolean>;
}

/**
 * `/health` and `/ready` for one node: `checks` are what readiness requires
 * (none: ready until drained).
 *
 * @example
 * const health = new Health([{ name: "listening", ok: () => httpServer.listening }]);
 * // at shutdown: health.drain(); wait a probe interval or two; then close the servers
 */
export class Health {
  readonly #checks: ReadinessCheck[];
  readonly #started = Date.now();
  #draining = false;

  constructor(checks: ReadinessCheck[] = []) {
    this.#checks = checks;
  }

  /** Whether the node is draining (graceful shutdown under way). */
  get draining(): boolean {
    return this.#draining;
  }

  /** From now on `/ready` answers 503 (`draining: true`). */
  drain(): void {
    this.#draining = true;
  }

  /** The `/ready` answer: every check's result and whether all pass. */
  readiness(): Readiness {
    const checks: Record<string, boolean> = {};
    let ready = !this.#draining;
    for (const check of this.#checks) {
      let ok = false;
      try {
        ok = check.ok() === true;
      } catch {
        ok = false;
      }
      checks[check.name] = ok;
      if (!ok) ready = false;
    }
    return { ready, draining: this.#draining, checks };
  }

  /**
   * Answers `GET`/`HEAD` of `/health` and `/ready` (any other method: 405);
   * returns false, touching nothing, for every other path.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "";
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== "/health" && path !== "/ready") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 });
      res.end();
      return true;
    }
    let status = 200;
    let body: object;
    if (path === "/health") {
      body = { status: "ok", uptime: Math.round((Date.now() - this.#started) / 1000) };
    } else {
      const readiness = this.readiness();
      if (!readiness.ready) status = 503;
      body = readiness;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : text);
    return true;
  }
}
