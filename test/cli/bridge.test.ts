/**
 * `switchboard --bridge` and `--bridge-config`: specs and files parsed into
 * routes (bad ones are usage errors), and a started server whose routes
 * carry messages between a socket.io-client and a Faye client, beside the
 * demo chat's own bridge.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { io as connect, type Socket } from "socket.io-client";
import { parseBridgeConfig, parseBridgeSpec } from "../../src/cli/bridge-spec.js";
import { CliUsageError } from "../../src/cli/errors.js";
import { parseCli, type ServeOptions } from "../../src/cli/options.js";
import { type RunningServer, startServer } from "../../src/cli/server.js";
import { type FayeClient, faye, shutdown } from "../helpers/faye.js";
import { until } from "../socketio/raw-clients.js";

function serve(argv: string[]): ServeOptions {
  const command = parseCli(argv, {});
  assert.equal(command.kind, "serve");
  return (command as { options: ServeOptions }).options;
}

const usage = (pattern: RegExp) => (err: unknown) =>
  err instanceof CliUsageError && pattern.test(err.message);

describe("--bridge specs", () => {
  it("parses namespace, room (with ':' and '*'), event, direction and channel", () => {
    assert.deepEqual(parseBridgeSpec("/:lobby:message=/chat/lobby"), {
      namespace: "/",
      room: "lobby",
      event: "message",
      channel: "/chat/lobby",
      direction: "both",
    });
    assert.deepEqual(parseBridgeSpec("/admin:chat:*:say>/chat/*"), {
      namespace: "/admin",
      room: "chat:*",
      event: "say",
      channel: "/chat/*",
      direction: "to-bayeux",
    });
    assert.equal(parseBridgeSpec("/news:x:headline</news/**").direction, "to-socketio");
  });

  it("takes repeated flags, checked as the bridge checks them", () => {
    const options = serve(["--bridge", "/:a:m=/a", "--bridge", "/:*:m=/b/*"]);
    assert.deepEqual(
      options.bridgeRoutes?.map((r) => r.channel),
      ["/a", "/b/*"],
    );
    assert.equal(serve([]).bridgeRoutes, undefined);
    assert.equal(serve(["--bridge-config", "routes.json"]).bridgeConfig, "routes.json");
  });

  it("refuses bad specs and routes with usage errors", () => {
    assert.throws(() => parseCli(["--bridge", "lobby=/chat"], {}), usage(/expected <namespace>/));
    assert.throws(() => parseCli(["--bridge", "/:a:m=chat"], {}), usage(/expected <namespace>/));
    assert.throws(
      () => parseCli(["--bridge", "/:a:m=/meta/x"], {}),
      usage(/ERR_BRIDGE_ROUTE_CHANNEL/),
    );
    assert.throws(
      () => parseCli(["--bridge", "/:a:m=/a/*"], {}),
      usage(/ERR_BRIDGE_ROUTE_WILDCARD/),
    );
    assert.throws(
      () => parseCli(["--bridge", "/:a:connect=/a"], {}),
      usage(/ERR_BRIDGE_ROUTE_EVENT/),
    );
    assert.throws(
      () => parseCli(["--bridge", "/:a:m=/a", "--bridge", "/:a:m=/a"], {}),
      usage(/ERR_BRIDGE_ROUTE_DUPLICATE/),
    );
    assert.throws(
      () => parseCli(["--no-bayeux", "--bridge", "/:a:m=/a"], {}),
      usage(/need Bayeux/),
    );
  });

  it("reads config files: an array or { routes }, unknown fields refused", () => {
    const route = { room: "a", event: "m", channel: "/a" };
    assert.deepEqual(parseBridgeConfig(JSON.stringify([route]), "f.json"), [route]);
    assert.deepEqual(parseBridgeConfig(JSON.stringify({ routes: [route] }), "f.json"), [route]);
    assert.throws(() => parseBridgeConfig("{", "f.json"), usage(/f.json: not JSON/));
    assert.throws(() => parseBridgeConfig("{}", "f.json"), usage(/expected an array/));
    assert.throws(
      () => parseBridgeConfig(JSON.stringify([{ ...route, toBayeux: 1 }]), "f.json"),
      usage(/unknown toBayeux/),
    );
    assert.throws(
      () => parseBridgeConfig(JSON.stringify([{ ...route, direction: "up" }]), "f.json"),
      usage(/ERR_BRIDGE_ROUTE_DIRECTION/),
    );
  });
});

describe("a server started with bridge routes", () => {
  let dir: string;
  let running: RunningServer;
  const sockets: Socket[] = [];
  const fayes: FayeClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sb-bridge-"));
    const file = join(dir, "routes.json");
    await writeFile(
      file,
      JSON.stringify({
        routes: [{ room: "*", event: "alert", channel: "/alerts/*", direction: "to-bayeux" }],
      }),
    );
    const options = serve([
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--bridge",
      "/ops:*:status=/status/*",
      "--bridge-config",
      file,
    ]);
    running = await startServer(options, { log: () => {} });
    // The app's side: sockets of /ops join the room they ask for; an alert is re-broadcast.
    running.io.of("/ops").on("connection", (socket) => {
      socket.on("join", (room: string, ack: () => void) => {
        void socket.join(room);
        ack();
      });
    });
    running.io.on("connection", (socket) => {
      socket.on("alert", (room: string, text: string) => running.io.to(room).emit("alert", text));
    });
  });
  after(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(fayes.map(shutdown));
    await running.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("bridges both flag and file routes, and refuses a missing file at start", {
    timeout: 15_000,
  }, async () => {
    assert.equal(running.bridge?.routes.length, 2);
    const url = `http://127.0.0.1:${running.port}`;
    const ops = connect(`${url}/ops`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    const main = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    sockets.push(ops, main);
    const statuses: unknown[] = [];
    ops.on("status", (s: unknown) => statuses.push(s));
    await ops.timeout(5000).emitWithAck("join", "db");
    const client = new faye.Client(`${url}/bayeux`, { timeout: 5 });
    fayes.push(client);
    const alerts: unknown[] = [];
    await client.subscribe("/alerts/*", (data) => alerts.push(data));

    await client.publish("/status/db", { up: true });
    await until(() => statuses.length === 1, 5000, "the status in room db of /ops");
    assert.deepEqual(statuses, [{ up: true }]);

    await until(() => main.connected, 5000, "the main socket");
    main.emit("alert", "disk", "disk full");
    await until(() => alerts.length === 1, 5000, "the alert on /alerts/disk");
    assert.deepEqual(alerts, ["disk full"]);

    await assert.rejects(
      startServer(serve(["--port", "0", "--bridge-config", join(dir, "missing.json")]), {
        log: () => {},
      }),
      usage(/cannot read --bridge-config/),
    );
  });
});
