/**
 * The mount router: a short table of "requests and upgrades under this path
 * prefix go to these handlers". Every framework adapter is this router plus a
 * few lines of framework glue; Socket.IO is one entry, and another protocol
 * mounted beside it (for instance Bayeux at `/bayeux`) is one more.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { claimPath } from "../engine/attach.js";
import type { FastRoute } from "../http1/connection.js";
import { Http1Front } from "../http1/front.js";
import { createDebug } from "../shared/debug.js";
import { MountError } from "./errors.js";
import { refuseUpgrade, ServerFront } from "./front.js";
import { isUnderPrefix, normalizePrefix, prefixesOverlap, requestPath } from "./path.js";

const debug = createDebug("mount");

/** One protocol endpoint served under a path prefix. */
export interface Mount {
  /** The prefix this mount owns, e.g. `/socket.io`. */
  readonly path: string;
  /** Answers a plain HTTP request whose path lies under {@link Mount.path}. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Takes over an HTTP upgrade under {@link Mount.path}; without it upgrades are refused. */
  handleUpgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Releases the mount's resources when the router closes. */
  close?(): Promise<void> | void;
  /**
   * The requests a plain `http.Server`'s HTTP/1.1 front may serve for this
   * mount below node:http (long-polls); see `Http1Front`.
   */
  readonly fastRoute?: FastRoute;
}

/** Something that emits Node's `request` and `upgrade` events (http, https, http2 compat). */
export type NodeServer = Pick<
  HttpServer,
  "on" | "off" | "listeners" | "removeAllListeners" | "listenerCount" | "once"
>;

/**
 * Routes requests and upgrades to mounts by path prefix.
 *
 * @example
 * const router = new MountRouter().add(socketIoMount(io));
 * router.attach(httpServer); // in front of the app's own request listener
 */
export class MountRouter {
  readonly #mounts: Mount[] = [];
  /** The servers this router is attached to. */
  readonly #servers: NodeServer[] = [];
  #closed?: Promise<void>;

  /**
   * Adds a mount. Throws {@link MountError} when its prefix overlaps an
   * existing one, or one of another router attached to the same server.
   */
  add(mount: Mount): this {
    const path = normalizePrefix(mount.path);
    for (const other of this.#mounts) {
      if (prefixesOverlap(path, other.path)) {
        throw new MountError("ERR_MOUNT_CONFLICT", `${path} and ${other.path}`);
      }
    }
    for (const server of this.#servers) ServerFront.find(server)?.assertFree(path, this);
    for (const server of this.#servers) claimPath(server, path);
    this.#mounts.push(path === mount.path ? mount : withPath(mount, path));
    if (mount.fastRoute)
      for (const server of this.#servers) Http1Front.of(server)?.add(mount.fastRoute);
    return this;
  }

  /** The mounts, in the order they were added. */
  get mounts(): readonly Mount[] {
    return this.#mounts;
  }

  /** The mount whose prefix covers this request target, if any. */
  find(url: string | undefined): Mount | undefined {
    const path = requestPath(url);
    if (path === undefined) return undefined;
    for (const mount of this.#mounts) if (isUnderPrefix(path, mount.path)) return mount;
    return undefined;
  }

  /**
   * Hands the request to its mount. Returns false (and touches nothing) when no
   * mount covers it, so the caller can pass it on to the framework.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const mount = this.find(req.url);
    if (!mount) return false;
    debug("request %s %s -> %s", req.method, req.url, mount.path);
    mount.handleRequest(req, res);
    return true;
  }

  /**
   * Hands the upgrade to its mount. Returns false when no mount covers it. A
   * covered upgrade the mount cannot take is refused with 400 (RFC 9110
   * section 7.8 lets a server ignore Upgrade; a plain answer tells the client).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const mount = this.find(req.url);
    if (!mount) return false;
    debug("upgrade %s -> %s", req.url, mount.path);
    if (mount.handleUpgrade) mount.handleUpgrade(req, socket, head);
    else refuseUpgrade(socket, 400);
    return true;
  }

  /**
   * Puts the router in front of a server: requests under a mount prefix reach
   * the mount before any listener already registered (an Express or Koa app, a
   * Fastify router), so no framework route or 404 handler can swallow them;
   * every other request goes to those listeners unchanged. Upgrades under a
   * prefix go to the mount; others are left to other `upgrade` listeners, or
   * refused with 404 when there are none, so the socket does not hang.
   *
   * Several routers may be attached to one server (say, `attachSwitchboard`
   * twice) when their prefixes are distinct; an overlap throws
   * {@link MountError} `ERR_MOUNT_CONFLICT` naming the path, here rather than
   * when a client connects. Attaching again to the same server does nothing.
   * Listeners added to the server after this call see every request.
   */
  attach(server: NodeServer, options: { requests?: boolean; upgrades?: boolean } = {}): this {
    if (this.#servers.includes(server)) return this;
    ServerFront.attach(server, this, {
      requests: options.requests !== false,
      upgrades: options.upgrades !== false,
    });
    this.#servers.push(server);
    const front = Http1Front.of(server);
    for (const mount of this.#mounts) if (mount.fastRoute) front?.add(mount.fastRoute);
    return this;
  }

  /**
   * Undoes {@link MountRouter.attach} for one server (for every server when
   * none is given), restoring its request listeners.
   */
  detach(server?: NodeServer): this {
    if (server === undefined) {
      for (const attached of [...this.#servers]) this.detach(attached);
      return this;
    }
    const index = this.#servers.indexOf(server);
    if (index === -1) return this;
    this.#servers.splice(index, 1);
    ServerFront.detach(server, this);
    const front = Http1Front.of(server);
    for (const mount of this.#mounts) if (mount.fastRoute) front?.remove(mount.fastRoute);
    return this;
  }

  /** Whether {@link MountRouter.close} has been called. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Detaches from every server and closes every mount; idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.detach();
      await Promise.allSettled(this.#mounts.map((mount) => mount.close?.()));
    })();
    return this.#closed;
  }
}

function withPath(mount: Mount, path: string): Mount {
  return {
    path,
    handleRequest: (req, res) => mount.handleRequest(req, res),
    handleUpgrade: mount.handleUpgrade && ((req, s, head) => mount.handleUpgrade!(req, s, head)),
    close: mount.close && (() => mount.close!()),
    fastRoute: mount.fastRoute,
  };
}

/** Answers an upgrade request with a bodiless HTTP status and closes the socket. */
export { refuseUpgrade } from "./front.js";
