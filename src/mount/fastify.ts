/**
 * Switchboard for Fastify 5 (`switchboard/fastify`): a plugin that creates a
 * Socket.IO server and a Bayeux server, decorates the instance with them as
 * `fastify.io` and `fastify.bayeux`, and serves them on `fastify.server`.
 *
 * Socket.IO and Bayeux requests are answered at the HTTP server in front of Fastify's
 * router, so Fastify's content-type parsers never consume a polling body and
 * its 404 handler never answers one; upgrades under either path go to their
 * server. On close, the clients are disconnected in `preClose` (an open
 * websocket would otherwise keep `server.close()` waiting) and the mounts are
 * released in `onClose`.
 */
import type { FastifyInstance, FastifyPluginCallback } from "fastify";
import type { BayeuxServer } from "../bayeux/index.js";
import type { Server } from "../index.js";
import { createAttachedRouter, type MountOptions } from "./socketio.js";

export type { Mount } from "./router.js";
export { MountRouter } from "./router.js";
export { type Switchboard, socketIoMount } from "./socketio.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The Socket.IO server registered by `switchboard/fastify`. */
    io: Server;
    /**
     * The Bayeux server registered by `switchboard/fastify` (at `/bayeux` by
     * default), or null when registered with `bayeux: false`.
     */
    bayeux: BayeuxServer | null;
  }
}

/**
 * Options of the plugin: the Socket.IO server's options, `bayeux` (Bayeux
 * server options, a `BayeuxServer`, or `false`), plus extra mounts.
 */
export type FastifyMountOptions = MountOptions;

/** Keys Fastify reserves in every plugin's options; they are not Socket.IO options. */
const FASTIFY_KEYS = ["prefix", "logLevel", "logSerializers"] as const;

const plugin: FastifyPluginCallback<FastifyMountOptions> = (fastify, options, done) => {
  const mountOptions: Record<string, unknown> = { ...options };
  for (const key of FASTIFY_KEYS) delete mountOptions[key];
  let created: ReturnType<typeof createAttachedRouter>;
  try {
    created = createAttachedRouter(mountOptions as MountOptions, (router) =>
      router.attach(fastify.server),
    );
  } catch (err) {
    done(err as Error);
    return;
  }
  const { io, bayeux, router } = created;
  fastify.decorate("io", io);
  fastify.decorate("bayeux", bayeux);
  fastify.addHook("preClose", (hookDone) => {
    router.close().then(() => hookDone(), hookDone);
  });
  fastify.addHook("onClose", (_instance: FastifyInstance, hookDone) => {
    router.close().then(() => hookDone(), hookDone);
  });
  done();
};

// Declared outside Fastify's encapsulation (what `fastify-plugin` would do), so
// `fastify.io` is visible to the whole application.
Object.assign(plugin, {
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "switchboard",
});

/**
 * The Fastify plugin.
 *
 * @example
 * import Fastify from "fastify";
 * import switchboard from "switchboard/fastify";
 *
 * const fastify = Fastify();
 * await fastify.register(switchboard, { path: "/socket.io" });
 * fastify.io.on("connection", (socket) => socket.emit("hello"));
 * fastify.bayeux?.subscribe("/chat/*", (data) => fastify.log.info(data));
 * fastify.get("/", async () => ({ ok: true }));
 * await fastify.listen({ port: 3000 });
 */
export const fastifySwitchboard = plugin;
export default plugin;
