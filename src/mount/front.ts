/**
 * The front of one HTTP server: a single `request` listener and a single
 * `upgrade` listener shared by every mount router attached to that server
 * (`attachSwitchboard` called twice, two adapters on one server). Routers on
 * one server must hold disjoint path prefixes: two handlers taking the same
 * upgrade would both read the socket (a websocket client then fails with
 * "RSV1 must be clear"), so an overlap is refused when the second router is
 * attached, naming the path. An upgrade under no router's prefix is refused
 * once, by the front, rather than by each router or by none.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { claimedOverlap, claimPath, releasePath } from "../engine/attach.js";
import { refuseUpgrade as refuseWith } from "../transport/upgrade-refusal.js";
import { MountError } from "./errors.js";
import { prefixesOverlap } from "./path.js";
import type { Mount, NodeServer } from "./router.js";

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What the front needs of a router (MountRouter, without an import cycle). */
export interface FrontRouter {
  readonly mounts: readonly Mount[];
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

interface Entry {
  router: FrontRouter;
  requests: boolean;
  upgrades: boolean;
}

const fronts = new WeakMap<NodeServer, ServerFront>();

/** The shared listeners of one server and the routers behind them, in attach order. */
export class ServerFront {
  readonly #server: NodeServer;
  readonly #entries: Entry[] = [];
  /** The request listeners the server had before the first router took requests. */
  #previous: Function[] = [];
  #onRequest?: RequestListener;
  #onUpgrade?: UpgradeListener;

  private constructor(server: NodeServer) {
    this.#server = server;
  }

  /** The front of `server`, if a router is attached to it. */
  static find(server: NodeServer): ServerFront | undefined {
    return fronts.get(server);
  }

  /**
   * Puts `router` behind the front of `server` (created on first use). Throws
   * {@link MountError} `ERR_MOUNT_CONFLICT` when one of its prefixes overlaps
   * one of another router's on the same server; nothing changes then.
   */
  static attach(
    server: NodeServer,
    router: FrontRouter,
    options: { requests: boolean; upgrades: boolean },
  ): void {
    const front = fronts.get(server) ?? new ServerFront(server);
    for (const mount of router.mounts) front.assertFree(mount.path, router);
    // One table with the engines attached directly (`new Server(httpServer)`),
    // so either order of the two on one server fails at attach time.
    for (const mount of router.mounts) claimPath(server, mount.path);
    fronts.set(server, front);
    front.#entries.push({ router, ...options });
    if (options.requests) front.#takeRequests();
    if (options.upgrades) front.#takeUpgrades();
  }

  /** Takes `router` out of the front of `server`; the last one out restores the server. */
  static detach(server: NodeServer, router: FrontRouter): void {
    const front = fronts.get(server);
    if (!front) return;
    const index = front.#entries.findIndex((entry) => entry.router === router);
    if (index === -1) return;
    front.#entries.splice(index, 1);
    for (const mount of router.mounts) releasePath(server, mount.path);
    front.#release();
    if (front.#entries.length === 0) fronts.delete(server);
  }

  /** Throws when `path` overlaps a prefix of a router other than `router` on this server. */
  assertFree(path: string, router: FrontRouter): void {
    assertPathFree(
      path,
      this.#entries.filter((entry) => entry.router !== router).map((entry) => entry.router),
      "this HTTP server",
    );
    const engine = claimedOverlap(this.#server, path);
    if (engine !== undefined) {
      throw new MountError(
        "ERR_MOUNT_CONFLICT",
        `${path} is already served on this HTTP server by an Engine.IO/Socket.IO server attached ` +
          `at ${engine} (new Server(httpServer)); give each a distinct path`,
      );
    }
  }

  #takeRequests(): void {
    if (this.#onRequest) return;
    const server = this.#server;
    const previous = server.listeners("request");
    server.removeAllListeners("request");
    this.#previous = previous;
    this.#onRequest = (req, res) => {
      for (const entry of this.#entries) {
        if (entry.requests && entry.router.handleRequest(req, res)) return;
      }
      for (const listener of previous) listener.call(server, req, res);
    };
    server.on("request", this.#onRequest);
  }

  #takeUpgrades(): void {
    if (this.#onUpgrade) return;
    const server = this.#server;
    this.#onUpgrade = (req, socket, head) => {
      for (const entry of this.#entries) {
        if (entry.upgrades && entry.router.handleUpgrade(req, socket, head)) return;
      }
      // No router's: another upgrade listener may take it; with none, answer
      // so the socket does not hang.
      if (server.listenerCount("upgrade") === 1) refuseUpgrade(socket, 404);
    };
    server.on("upgrade", this.#onUpgrade);
  }

  /** Removes the listeners no remaining router needs, restoring the server's own. */
  #release(): void {
    const server = this.#server;
    if (this.#onRequest && !this.#entries.some((entry) => entry.requests)) {
      server.off("request", this.#onRequest);
      this.#onRequest = undefined;
      for (const listener of this.#previous) server.on("request", listener as RequestListener);
      this.#previous = [];
    }
    if (this.#onUpgrade && !this.#entries.some((entry) => entry.upgrades)) {
      server.off("upgrade", this.#onUpgrade);
      this.#onUpgrade = undefined;
    }
  }
}

/**
 * Throws {@link MountError} `ERR_MOUNT_CONFLICT`, naming the path, when `path`
 * overlaps a prefix of one of `others` (routers that serve on `where`).
 */
export function assertPathFree(
  path: string,
  others: readonly Pick<FrontRouter, "mounts">[],
  where: string,
): void {
  for (const other of others) {
    for (const mount of other.mounts) {
      if (!prefixesOverlap(path, mount.path)) continue;
      const which = mount.path === path ? path : `${path} (overlapping ${mount.path})`;
      throw new MountError(
        "ERR_MOUNT_CONFLICT",
        `${which} is already served on ${where} by another attached router ` +
          "(attachSwitchboard or an adapter attached twice); give each a distinct path",
      );
    }
  }
}

/** Answers an upgrade request with a bodiless HTTP status and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: 400 | 404 | 503): void {
  refuseWith(socket, status);
}
