/**
 * Bridge routes of the command line: `--bridge <spec>` (repeatable) and
 * `--bridge-config <file.json>`. Parsing a spec is pure; reading the file is
 * the server's, at start.
 *
 * A spec is `<namespace>:<room>:<event><arrow><channel>`: the namespace
 * starts with `/`, the room may hold `:` and one `*`, the event is after the
 * last `:`, the arrow says the direction (`=` both ways, `>` to Bayeux only,
 * `<` to Socket.IO only):
 *
 *   /:lobby:message=/chat/lobby
 *   /:*:message=/chat/*
 *   /news:*:headline</news/**
 *
 * The file holds the routes as the library takes them, without the transforms:
 * `[{ "namespace": "/", "room": "lobby", "event": "message", "channel": "/chat/lobby" }]`
 * or `{ "routes": [...] }`.
 */
import type { BridgeDirection, BridgeRoute } from "../bridge/index.js";
import { BridgeRouteError, compileRoutes } from "../bridge/index.js";
import { CliUsageError } from "./errors.js";

const SPEC = /^(\/[^:]*):(.+):([^:]+)([=<>])(\/[^=<>]*)$/;
const ARROWS: Record<string, BridgeDirection> = {
  "=": "both",
  ">": "to-bayeux",
  "<": "to-socketio",
};
const FIELDS = new Set(["namespace", "room", "event", "channel", "direction"]);

/**
 * A `--bridge` spec as a route; throws {@link CliUsageError}.
 *
 * @example
 * parseBridgeSpec("/:lobby:message=/chat/lobby");
 * // { namespace: "/", room: "lobby", event: "message", channel: "/chat/lobby", direction: "both" }
 */
export function parseBridgeSpec(spec: string, name = "--bridge"): BridgeRoute {
  const match = SPEC.exec(spec);
  if (match === null) {
    throw new CliUsageError(
      `invalid ${name} ${JSON.stringify(spec)}: expected <namespace>:<room>:<event>=<channel> (or > / < for one way), such as /:lobby:message=/chat/lobby`,
    );
  }
  const [, namespace, room, event, arrow, channel] = match;
  return { namespace, room, event, channel, direction: ARROWS[arrow] };
}

/**
 * The routes of a `--bridge-config` file's text; throws {@link CliUsageError}
 * naming the file.
 */
export function parseBridgeConfig(text: string, file: string): BridgeRoute[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliUsageError(`--bridge-config ${file}: not JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const routes =
    parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as { routes?: unknown }).routes
      : parsed;
  if (!Array.isArray(routes)) {
    throw new CliUsageError(
      `--bridge-config ${file}: expected an array of routes or { "routes": [...] }`,
    );
  }
  routes.forEach((route, index) => {
    if (route === null || typeof route !== "object" || Array.isArray(route)) {
      throw new CliUsageError(`--bridge-config ${file}: route ${index} is not an object`);
    }
    const unknown = Object.keys(route).filter((key) => !FIELDS.has(key));
    if (unknown.length > 0) {
      throw new CliUsageError(
        `--bridge-config ${file}: route ${index} has unknown ${unknown.join(", ")}`,
      );
    }
  });
  return checkRoutes(routes as BridgeRoute[], `--bridge-config ${file}`);
}

/** Checks routes as the bridge will; a wrong one is a usage error naming `where`. */
export function checkRoutes(routes: BridgeRoute[], where: string): BridgeRoute[] {
  if (routes.length === 0) return routes;
  try {
    compileRoutes(routes);
  } catch (err) {
    if (err instanceof BridgeRouteError) {
      throw new CliUsageError(`${where}: ${err.message} [${err.code}]`, { cause: err });
    }
    throw err;
  }
  return routes;
}
