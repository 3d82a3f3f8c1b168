/**
 * The mount router on its own: prefix matching from a table, prefix
 * validation, and routing of real HTTP requests and upgrades over loopback
 * (mounted vs. fall-through to the app, refusals, detaching).
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { MountError } from "../../src/mount/errors.js";
import { isUnderPrefix, normalizePrefix, requestPath } from "../../src/mount/path.js";
import { type Mount, MountRouter } from "../../src/mount/router.js";

describe("path matching", () => {
  const cases: [url: string, prefix: string, expected: boolean][] = [
    ["/socket.io", "/socket.io", true],
    ["/socket.io/", "/socket.io", true],
    ["/socket.io/?EIO=4&transport=polling", "/socket.io", true],
    ["/socket.io?EIO=4", "/socket.io", true],
    ["/socket.io/socket.io.js", "/socket.io", true],
    ["/socket.iox", "/socket.io", false],
    ["/socket.iox/", "/socket.io", false],
    ["/socket", "/socket.io", false],
    ["/", "/socket.io", false],
    ["/x/socket.io/", "/socket.io", false],
    ["/SOCKET.IO/", "/socket.io", false],
    ["/a?b=/socket.io/", "/socket.io", false],
    ["/anything", "/", true],
    ["http://example.com/socket.io/?EIO=4", "/socket.io", true],
    ["http://example.com", "/", true],
    ["https://example.com/other", "/socket.io", false],
    ["*", "/", false],
    ["", "/", false],
  ];
  for (const [url, prefix, expected] of cases) {
    it(`${JSON.stringify(url)} under ${prefix}: ${expected}`, () => {
      const path = requestPath(url);
      assert.equal(path !== undefined && isUnderPrefix(path, prefix), expected);
    });
  }

  it("normalizes a trailing slash and rejects malformed prefixes", () => {
    assert.equal(normalizePrefix("/socket.io/"), "/socket.io");
    assert.equal(normalizePrefix("/"), "/");
    assert.equal(normalizePrefix("/a/b"), "/a/b");
    for (const bad of ["", "socket.io", "/a?b", "/a#b", "/a//b", "/a/../b", "/./a", "/a b"]) {
      assert.throws(
        () => normalizePrefix(bad),
        (err: unknown) => {
          assert.ok(err instanceof MountError);
          assert.equal(err.code, "ERR_MOUNT_PATH");
          return true;
        },
      );
    }
  });
});

function textMount(path: string, upgrades = true): Mount {
  return {
    path,
    handleRequest(req, res) {
      res.writeHead(200, { "Content-Type": "text/plain" }).end(`${path} got ${req.url}`);
    },
    handleUpgrade: upgrades
      ? (_req, socket) => {
          socket.end(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n${path}`,
          );
        }
      : undefined,
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function getText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Sends a raw upgrade request and returns everything the server wrote before closing. */
function rawUpgrade(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n`,
      );
    });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

describe("MountRouter", () => {
  it("sends mounted requests to the mount and the rest to the app", { timeout: 5000 }, async () => {
    const server = createServer((_req, res) => res.end("app"));
    new MountRouter().add(textMount("/one")).add(textMount("/two/")).attach(server);
    const port = await listen(server);
    try {
      assert.equal(await getText(port, "/one/x?y=1"), "200 /one got /one/x?y=1");
      assert.equal(await getText(port, "/two"), "200 /two/ got /two");
      assert.equal(await getText(port, "/three"), "200 app");
      assert.equal(await getText(port, "/onex"), "200 app");
    } finally {
      await close(server);
    }
  });

  it("routes upgrades, refusing unmounted ones and mounts without upgrades", {
    timeout: 5000,
  }, async () => {
    const server = createServer((_req, res) => res.end("app"));
    new MountRouter().add(textMount("/ws")).add(textMount("/plain", false)).attach(server);
    const port = await listen(server);
    try {
      assert.match(await rawUpgrade(port, "/ws/"), /^HTTP\/1.1 101 [\s\S]*\/ws$/);
      assert.match(await rawUpgrade(port, "/plain/"), /^HTTP\/1.1 400 Bad Request\r\n/);
      assert.match(await rawUpgrade(port, "/nowhere"), /^HTTP\/1.1 404 Not Found\r\n/);
    } finally {
      await close(server);
    }
  });

  it("leaves unmounted upgrades to another upgrade listener", { timeout: 5000 }, async () => {
    const server = createServer();
    new MountRouter().add(textMount("/ws")).attach(server);
    server.on("upgrade", (req: IncomingMessage, socket) => {
      if (req.url === "/other") socket.end("HTTP/1.1 101 Switching Protocols\r\n\r\nother");
    });
    const port = await listen(server);
    try {
      assert.match(await rawUpgrade(port, "/other"), /other$/);
      assert.match(await rawUpgrade(port, "/ws"), /\/ws$/);
    } finally {
      await close(server);
    }
  });

  it("detach restores the app's own request listener", { timeout: 5000 }, async () => {
    const server = createServer((_req, res) => res.end("app"));
    const router = new MountRouter().add(textMount("/one")).attach(server);
    const port = await listen(server);
    try {
      assert.equal(await getText(port, "/one"), "200 /one got /one");
      router.detach(server);
      assert.equal(server.listenerCount("request"), 1);
      assert.equal(server.listenerCount("upgrade"), 0);
      assert.equal(await getText(port, "/one"), "200 app");
    } finally {
      await close(server);
    }
  });

  it("rejects overlapping prefixes and closes each mount once", async () => {
    const router = new MountRouter().add(textMount("/a"));
    assert.throws(() => router.add(textMount("/a/b")), { code: "ERR_MOUNT_CONFLICT" });
    assert.throws(() => router.add(textMount("/")), { code: "ERR_MOUNT_CONFLICT" });
    assert.throws(() => router.add(textMount("/a/")), { code: "ERR_MOUNT_CONFLICT" });
    router.add(textMount("/ab"));
    let closes = 0;
    router.add({ ...textMount("/c"), close: () => void closes++ });
    await Promise.all([router.close(), router.close()]);
    assert.equal(closes, 1);
    assert.deepEqual(
      router.mounts.map((m) => m.path),
      ["/a", "/ab", "/c"],
    );
  });
});

describe("MountRouter, several on one server", () => {
  it("serves two routers at distinct prefixes and refuses an upgrade under neither once", {
    timeout: 5000,
  }, async () => {
    let appCalls = 0;
    const server = createServer((_req, res) => {
      appCalls++;
      res.end("app");
    });
    const first = new MountRouter().add(textMount("/one")).attach(server);
    new MountRouter().add(textMount("/two")).attach(server);
    // One request and one upgrade listener, however many routers.
    assert.equal(server.listenerCount("request"), 1);
    assert.equal(server.listenerCount("upgrade"), 1);
    const port = await listen(server);
    try {
      assert.equal(await getText(port, "/one/x"), "200 /one got /one/x");
      assert.equal(await getText(port, "/two/y"), "200 /two got /two/y");
      assert.match(await rawUpgrade(port, "/one"), /^HTTP\/1.1 101 [\s\S]*\/one$/);
      assert.match(await rawUpgrade(port, "/two"), /^HTTP\/1.1 101 [\s\S]*\/two$/);
      assert.match(await rawUpgrade(port, "/nowhere"), /^HTTP\/1.1 404 Not Found\r\n/);
      assert.equal(await getText(port, "/three"), "200 app");
      assert.equal(appCalls, 1);
      // The first router leaves: its prefix reaches the app, once; the second stays.
      first.detach(server);
      assert.equal(await getText(port, "/one"), "200 app");
      assert.equal(appCalls, 2);
      assert.equal(await getText(port, "/two"), "200 /two got /two");
      assert.match(await rawUpgrade(port, "/two"), /\/two$/);
    } finally {
      await close(server);
    }
  });

  it("refuses, at attach time and naming the path, a prefix another router serves there", () => {
    const server = createServer((_req, res) => res.end("app"));
    new MountRouter().add(textMount("/a")).attach(server);
    const same = new MountRouter().add(textMount("/a"));
    assert.throws(
      () => same.attach(server),
      (err: unknown) =>
        err instanceof MountError &&
        err.code === "ERR_MOUNT_CONFLICT" &&
        err.message.includes("/a is already served on this HTTP server"),
    );
    assert.throws(() => new MountRouter().add(textMount("/a/b")).attach(server), /\/a\/b/);
    // A router elsewhere on the server may not add the taken prefix later either.
    const other = new MountRouter().add(textMount("/x")).attach(server);
    assert.throws(() => other.add(textMount("/a")), { code: "ERR_MOUNT_CONFLICT" });
    assert.deepEqual(
      other.mounts.map((m) => m.path),
      ["/x"],
    );
    // Another server is another namespace; attaching twice to one server is a no-op.
    same.attach(createServer());
    other.attach(server);
    assert.equal(server.listenerCount("request"), 1);
    assert.equal(server.listenerCount("upgrade"), 1);
  });
});
