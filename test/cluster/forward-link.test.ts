/**
 * The forwarding link's failure cases, on 127.0.0.1 port 0: between two real
 * engines (one link carries every request, a client that goes away cancels
 * its held poll on the owner, a body over the limit), against a real owner
 * sent garbage or an oversize frame (the link closes, the node stays up), and
 * against scripted peers (a peer gone mid-request, garbage from the peer, a
 * refused upgrade, nothing listening, no answer in time, close()).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { Forwarder, type ForwardTarget } from "../../src/cluster/forward.js";
import {
  encodeRequest,
  FRAME_CANCEL,
  FRAME_REQUEST,
  FrameDecoder,
} from "../../src/cluster/link-frame.js";
import { LINK_PROTOCOL } from "../../src/cluster/link-server.js";
import { MemorySessionStore } from "../../src/cluster/memory-session-store.js";
import { connected, post, startServer } from "../bayeux/helpers.js";
import { handshake, rawRequest, startEngine, type TestEngine } from "../engine/helpers.js";
import { until } from "../socketio/raw-clients.js";

const T = { timeout: 20_000 };

async function enginePair(
  options: Record<string, unknown> = {},
): Promise<{ owner: TestEngine; other: TestEngine }> {
  const store = new MemorySessionStore();
  const shared = { sessionStore: store, forward: true, pingInterval: 60000, ...options };
  const owner = await startEngine({ ...shared, nodeId: "owner" });
  const other = await startEngine({ ...shared, nodeId: "other" });
  owner.engine.on("connection", (socket) => socket.on("message", (m: string) => socket.send(m)));
  return { owner, other };
}

const pollPath = (sid: string) => `/engine.io/?EIO=4&transport=polling&sid=${sid}`;

/** Opens a link to `port` by hand, as a peer would; resolves once upgraded. */
async function rawLink(port: number, path: string): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${LINK_PROTOCOL}\r\n` +
      "x-switchboard-forwarded: tester\r\n\r\n",
  );
  let head = "";
  while (!head.includes("\r\n\r\n"))
    head += ((await once(socket, "data")) as [Buffer])[0].toString("latin1");
  assert.match(head, /^HTTP\/1\.1 101/);
  return socket;
}

describe("forwarding link between two engines", () => {
  it("carries every forwarded request of a peer on one connection", T, async () => {
    const { owner, other } = await enginePair();
    try {
      const { sid } = await handshake(owner.port);
      let connections = 0;
      owner.http.on("connection", () => connections++);
      for (let i = 0; i < 20; i++) {
        const poll = rawRequest(other.port, pollPath(sid));
        const posted = await rawRequest(other.port, pollPath(sid), {
          method: "POST",
          body: `4m${i}`,
        });
        assert.equal(posted.text, "ok");
        assert.equal((await poll).text, `4m${i}`);
      }
      assert.equal(connections, 1, "one link from the peer");
      assert.equal(other.engine.clientsCount, 0);
    } finally {
      await other.close();
      await owner.close();
    }
  });

  it("cancels a held poll on the owner when its client goes away", T, async () => {
    const { owner, other } = await enginePair();
    try {
      const { sid } = await handshake(owner.port);
      const closed = new Promise<string>((resolve) =>
        owner.engine.clients[sid].once("close", (reason: string) => resolve(reason)),
      );
      const client = request({
        host: "127.0.0.1",
        port: other.port,
        path: pollPath(sid),
        agent: false,
      });
      client.on("error", () => {});
      client.end();
      await until(
        () => owner.engine.clients[sid]?.transport.writable === true,
        5000,
        "poll held on the owner",
      );
      client.destroy();
      // A poll cut short ends the session, as it does on a single node.
      assert.equal(await closed, "transport error");
    } finally {
      await other.close();
      await owner.close();
    }
  });

  it("answers a body over maxHttpBufferSize with 413 on the forwarding node", T, async () => {
    const { owner, other } = await enginePair({ maxHttpBufferSize: 1000 });
    try {
      const { sid } = await handshake(owner.port);
      const big = await rawRequest(other.port, pollPath(sid), {
        method: "POST",
        body: `4${"x".repeat(2000)}`,
      });
      assert.equal(big.status, 413);
      const small = await rawRequest(other.port, pollPath(sid), { method: "POST", body: "4ok" });
      assert.equal(small.text, "ok");
    } finally {
      await other.close();
      await owner.close();
    }
  });
});

describe("forwarding link between two Bayeux nodes", () => {
  it(
    "abandons a held connect on the owner when its client goes away; deliveries wait",
    T,
    async () => {
      const sessionStore = new MemorySessionStore();
      const options = { sessionStore, forward: true, timeout: 10_000 };
      const owner = await startServer(options);
      const other = await startServer(options);
      try {
        const clientId = await connected(owner.url);
        const subscribed = await post(owner.url, [
          { channel: "/meta/subscribe", clientId, subscription: "/link/news" },
        ]);
        assert.equal(subscribed.json()[0].successful, true);
        const connect = [{ channel: "/meta/connect", clientId, connectionType: "long-polling" }];
        const abort = new AbortController();
        const cut = fetch(other.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(connect),
          signal: abort.signal,
        }).catch((err: Error) => err);
        const session = () => owner.bayeux.getSession(clientId);
        await until(() => session()?.held != null, 5000, "connect held on the owner");
        abort.abort();
        await cut;
        await until(() => session()?.held === null, 5000, "held connect abandoned");
        owner.bayeux.publish("/link/news", { n: 1 });
        const next = await post(other.url, connect);
        const data = next.json().filter((m) => m.channel === "/link/news");
        assert.deepEqual(
          data.map((m) => m.data),
          [{ n: 1 }],
        );
      } finally {
        await other.bayeux.close();
        await other.close();
        await owner.bayeux.close();
        await owner.close();
      }
    },
  );
});

describe("a real owner and a misbehaving link", () => {
  it(
    "closes a link that sends garbage, keeps serving, and ends the link's held polls",
    T,
    async () => {
      const { owner, other } = await enginePair();
      try {
        const { sid } = await handshake(owner.port);
        const link = await rawLink(owner.port, pollPath(sid));
        link.write(encodeRequest(1, "GET", pollPath(sid), { host: "x" }, null));
        await until(
          () => owner.engine.clients[sid]?.transport.writable === true,
          5000,
          "poll held",
        );
        const closed = once(link, "close");
        link.write(Buffer.from("definitely not a frame, far too long a length"));
        await closed;
        // The held poll ended with the link, as with a client gone: the session closes.
        await until(() => owner.engine.clients[sid] === undefined, 5000, "session closed");
        const fresh = await handshake(owner.port);
        assert.ok(fresh.sid);
      } finally {
        await other.close();
        await owner.close();
      }
    },
  );

  it("closes a link whose request is over the body limit", T, async () => {
    const { owner, other } = await enginePair({ maxHttpBufferSize: 1000 });
    try {
      const { sid } = await handshake(owner.port);
      const link = await rawLink(owner.port, pollPath(sid));
      const closed = once(link, "close");
      link.write(encodeRequest(1, "POST", pollPath(sid), {}, "4".repeat(5000)));
      await closed;
      assert.ok(owner.engine.clients[sid], "the session is untouched");
    } finally {
      await other.close();
      await owner.close();
    }
  });
});

/** A scripted peer: upgrades links (or not) and then does what `onLink` says. */
async function fakePeer(onLink: (socket: Socket, decoder: FrameDecoder) => void, answer = "101") {
  const sockets = new Set<Socket>();
  let links = 0;
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      links++;
      if (answer !== "101") {
        socket.end(`HTTP/1.1 ${answer} No\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${LINK_PROTOCOL}\r\n\r\n`,
      );
      onLink(
        socket,
        new FrameDecoder({ maxFrame: 1 << 20, accepts: [FRAME_REQUEST, FRAME_CANCEL] }),
      );
    };
    socket.on("data", onData);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    target: { host: "127.0.0.1", port } as ForwardTarget,
    links: () => links,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A forwarding node: every request goes to `target`; a failure is answered 599 naming its code. */
async function forwardingNode(forwarder: Forwarder, target: () => ForwardTarget) {
  const failures: Error[] = [];
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    forwarder.request(target(), req, res, (err) => {
      failures.push(err);
      res.writeHead(599);
      res.end(String((err as { code?: string }).code));
    });
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  return {
    port: (http.address() as AddressInfo).port,
    failures,
    async close() {
      forwarder.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

describe("Forwarder against scripted peers", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  it("retries once on a new link when the peer goes away mid-request, then fails", T, async () => {
    const peer = await fakePeer((socket, decoder) =>
      socket.on("data", (chunk: Buffer) => {
        if (decoder.push(chunk).length > 0) socket.destroy();
      }),
    );
    const node = await forwardingNode(new Forwarder("b"), () => peer.target);
    cleanups.push(peer.close, node.close);
    const res = await rawRequest(node.port, "/p?sid=x", { method: "POST", body: "hello" });
    assert.equal(res.status, 599);
    assert.equal(res.text, "ERR_LINK_CLOSED");
    assert.equal(peer.links(), 2, "one retry on a new link");
  });

  it("fails with ECONNREFUSED when nothing listens at the owner's address", T, async () => {
    const peer = await fakePeer(() => {});
    await peer.close();
    const node = await forwardingNode(new Forwarder("b"), () => peer.target);
    cleanups.push(node.close);
    const res = await rawRequest(node.port, "/p?sid=x");
    assert.equal(res.text, "ECONNREFUSED");
  });

  it("closes a link whose peer sends garbage, and stays up", T, async () => {
    const peer = await fakePeer((socket) =>
      socket.on("data", () => socket.write("\xff\xff\xff\xff garbage")),
    );
    const node = await forwardingNode(new Forwarder("b"), () => peer.target);
    cleanups.push(peer.close, node.close);
    const res = await rawRequest(node.port, "/p?sid=x");
    assert.equal(res.text, "ERR_LINK_CLOSED");
    const again = await rawRequest(node.port, "/p?sid=x");
    assert.equal(again.text, "ERR_LINK_CLOSED");
  });

  it("sends plain HTTP to a peer that refuses the link upgrade", T, async () => {
    const seen: string[] = [];
    const owner = createServer((req, res) => {
      seen.push(String(req.headers["x-switchboard-forwarded"]));
      res.end(`via http ${req.method} ${req.url}`);
    });
    owner.on("upgrade", (_req, socket: Socket) =>
      socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
    );
    owner.listen(0, "127.0.0.1");
    await once(owner, "listening");
    const target = { host: "127.0.0.1", port: (owner.address() as AddressInfo).port };
    const node = await forwardingNode(new Forwarder("b"), () => target);
    cleanups.push(node.close, async () => {
      owner.closeAllConnections();
      await new Promise((resolve) => owner.close(resolve));
    });
    assert.equal(
      (await rawRequest(node.port, "/p?sid=x", { method: "POST", body: "1" })).text,
      "via http POST /p?sid=x",
    );
    assert.equal((await rawRequest(node.port, "/q")).text, "via http GET /q");
    assert.deepEqual(seen, ["b", "b"]);
  });

  it(
    "fails a request not answered within requestTimeout, cancelling it on the owner",
    T,
    async () => {
      let cancelled = 0;
      const peer = await fakePeer((socket, decoder) =>
        socket.on("data", (chunk: Buffer) => {
          for (const frame of decoder.push(chunk)) if (frame.type === FRAME_CANCEL) cancelled++;
        }),
      );
      const node = await forwardingNode(
        new Forwarder("b", { requestTimeout: 200 }),
        () => peer.target,
      );
      cleanups.push(peer.close, node.close);
      const res = await rawRequest(node.port, "/p?sid=x");
      assert.equal(res.text, "ETIMEDOUT");
      await until(() => cancelled === 1, 5000, "a CANCEL frame");
    },
  );

  it("closes its links on close()", T, async () => {
    let linkClosed = false;
    const peer = await fakePeer((socket) => socket.on("close", () => (linkClosed = true)));
    const forwarder = new Forwarder("b");
    const node = await forwardingNode(forwarder, () => peer.target);
    cleanups.push(peer.close, node.close);
    const pending = rawRequest(node.port, "/p?sid=x").catch((err: Error) => err);
    await until(() => peer.links() === 1, 5000, "the link");
    forwarder.close();
    await until(() => linkClosed, 5000, "the link closed");
    // The held request's client connection is closed (the request was sent, so not failed over).
    const outcome = await pending;
    assert.ok(outcome instanceof Error || outcome.status === 599, String(outcome));
  });
});
