/**
 * The dashboard page in a real headless Chromium against the standalone
 * server (a child process on port 0) with real clients: socket.io-client
 * sockets over polling and websocket in demo chat rooms, Bayeux clients
 * (ours) over long-polling and websocket on channels, and chat messages.
 * The numbers on the page must equal what the test did: connections by
 * protocol and transport, room and channel members, the message counters,
 * the sockets and sessions lists; then the deliveries of a few publishes and
 * a non-zero deliveries rate, a refused namespace connect among the recent
 * errors, a session whose queue overflowed among the slow consumers (with the
 * drop count and the channel count), that session disconnected from the page
 * (the server then refuses its connect), the sockets pager over more sockets
 * than a page, and a socket found by search and disconnected from the page.
 *
 * With DASHBOARD_SCREENSHOT=1 it runs a bigger, longer scene (a few dozen
 * clients, a minute of traffic for the chart) and saves docs/dashboard.png;
 * otherwise the file is left alone.
 *
 * Without /usr/bin/chromium the test is skipped, except under CI=true where
 * that is a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { BayeuxClient } from "../../src/bayeux/client/index.js";
import { type Broker, MemoryBrokerHub } from "../../src/cluster/index.js";
import {
  CHROMIUM,
  CHROMIUM_MISSING,
  type ChromiumProfile,
  hasChromium,
  launchChromiumProfile,
  skipUnless,
} from "../helpers/chromium.js";
import { startNode, type TestNode } from "../ops/dashboard-node.js";
import { until, untilAsync } from "../socketio/raw-clients.js";
import { type CliServer, repo, startCliServer, stopCliServer } from "./cli-server.js";

const skip = skipUnless([hasChromium, CHROMIUM_MISSING]);
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT === "1";

/** The scene: how many clients of each kind, and where they are. */
const SCENE = SCREENSHOT
  ? { polling: 14, websocket: 22, longPolling: 7, bayeuxWs: 5, messages: 40 }
  : { polling: 3, websocket: 3, longPolling: 2, bayeuxWs: 1, messages: 5 };
const ROOMS = ["lobby", "games", "support", "random"];

type Ack = { ok: boolean; error?: string };

function emitAck(socket: ClientSocket, event: string, ...args: unknown[]): Promise<Ack> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<Ack>;
}

async function chatter(base: string, transport: "polling" | "websocket", i: number, room: string) {
  const socket = ioc(base, { forceNew: true, reconnection: false, transports: [transport] });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  assert.equal((await emitAck(socket, "nickname", `user${i}`)).ok, true);
  assert.equal((await emitAck(socket, "join", room)).ok, true);
  return socket;
}

/** The text of the element with `data-testid`, once it equals `expected` (else the last seen). */
async function shows(page: Page, testid: string, expected: string): Promise<void> {
  await page
    .waitForFunction(
      ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === want,
      [testid, expected] as const,
      { timeout: 15_000 },
    )
    .catch(async () => {
      const seen = await page.evaluate(
        (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null,
        testid,
      );
      assert.fail(
        `${testid}: expected ${JSON.stringify(expected)}, page shows ${JSON.stringify(seen)}`,
      );
    });
}

/** The number the element with `data-testid` shows now. */
async function number(page: Page, testid: string): Promise<number> {
  const text = await page.evaluate(
    (id) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? "",
    testid,
  );
  return Number(text.replace(/,/g, ""));
}

/** Waits until the number the element with `data-testid` shows is `value` (or above it, `above`). */
async function numberShows(
  page: Page,
  testid: string,
  value: number,
  how: "is" | "above" = "is",
): Promise<void> {
  await page
    .waitForFunction(
      ([id, want, op]) => {
        const text = document.querySelector(`[data-testid="${id}"]`)?.textContent ?? "";
        const n = Number(text.replace(/,/g, ""));
        return op === "is" ? n === want : n > want;
      },
      [testid, value, how] as const,
      { timeout: 15_000 },
    )
    .catch(async () =>
      assert.fail(`${testid}: expected ${how} ${value}, page shows ${await number(page, testid)}`),
    );
}

type BayeuxReply = { channel: string; successful?: boolean; clientId?: string; error?: string };

/** One raw Bayeux long-polling request: a batch of messages, their replies. */
async function bayeuxPost(base: string, messages: object[]): Promise<BayeuxReply[]> {
  const res = await fetch(`${base}/bayeux`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(messages),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as BayeuxReply[];
}

/** The server's own figures from the dashboard API, once a snapshot taken after `since`. */
async function statsSince(base: string, since: number) {
  let answer: { sum: { deliveries: { socketio: number; bayeux: number } } } | undefined;
  await untilAsync(
    async () => {
      const res = await fetch(`${base}/dashboard/api/stats`);
      const json = await res.json();
      answer = json;
      return json.nodes[0].stats.time >= since;
    },
    10_000,
    "a snapshot taken after the last action",
  );
  return answer as NonNullable<typeof answer>;
}

/** The cells of the top-by-members row of `name`, once it shows `members`. */
/** Searches the `kind` list (socket or session) for `id` alone, then presses its disconnect button. */
async function disconnectFromPage(
  page: Page,
  kind: "socket" | "session",
  id: string,
): Promise<void> {
  const rows = `#${kind}s-rows tr[data-testid="${kind}-row"]`;
  await page.fill(`[data-testid="${kind}s-search"]`, id);
  await page.waitForFunction(
    ({ selector, want }) => {
      const found = document.querySelectorAll(selector);
      return found.length === 1 && (found[0] as HTMLElement).dataset.id === want;
    },
    { selector: rows, want: id },
    { timeout: 15_000 },
  );
  await page.click(`${rows} [data-testid="disconnect"]`);
}

async function topicShows(page: Page, name: string, members: number): Promise<void> {
  await page
    .waitForFunction(
      ([n, m]) =>
        Array.from(document.querySelectorAll('#top-members tr[data-testid="topic-row"]')).some(
          (tr) =>
            (tr as HTMLElement).dataset.name === n && tr.children[2]?.textContent === String(m),
        ),
      [name, members] as const,
      { timeout: 15_000 },
    )
    .catch(async () => {
      const rows = await page.locator("#top-members tr").allTextContents();
      assert.fail(
        `top by members: expected ${name} with ${members}, page shows ${rows.join(" | ")}`,
      );
    });
}

describe("dashboard page in Chromium", { skip }, () => {
  let server: CliServer;
  let browser: ChromiumProfile;
  const sockets: ClientSocket[] = [];
  const bayeuxClients: BayeuxClient[] = [];

  before(async () => {
    assert.ok(hasChromium, `${CHROMIUM} is missing (CI=true): apt-get install chromium`);
    server = await startCliServer();
    browser = await launchChromiumProfile();
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(bayeuxClients.map((c) => c.disconnect().catch(() => {})));
    await browser?.close();
    if (server) await stopCliServer(server);
  });

  it("shows what the clients did, and disconnects a socket", { timeout: 180_000 }, async () => {
    const { polling, websocket, longPolling, bayeuxWs, messages } = SCENE;
    // Rooms: socket i joins ROOMS[i % 4]; the members of each room follow.
    const members = new Map<string, number>();
    for (let i = 0; i < polling + websocket; i++) {
      const room = ROOMS[i % ROOMS.length];
      members.set(room, (members.get(room) ?? 0) + 1);
      sockets.push(await chatter(server.base, i < polling ? "polling" : "websocket", i, room));
    }
    const subscribers = new Map<string, number>();
    /** Deliveries the test's subscribers got on /dash/news. */
    const heard = { news: 0 };
    for (let i = 0; i < longPolling + bayeuxWs; i++) {
      const client = new BayeuxClient(`${server.base}/bayeux`, {
        transports: [i < longPolling ? "long-polling" : "websocket"],
      });
      bayeuxClients.push(client);
      await client.init();
      const channels = i % 2 === 0 ? ["/dash/news", "/dash/alerts"] : ["/dash/news"];
      for (const channel of channels) {
        await client.subscribe(channel, () => {
          if (channel === "/dash/news") heard.news++;
        });
        subscribers.set(channel, (subscribers.get(channel) ?? 0) + 1);
      }
    }

    const errors: string[] = [];
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("dialog", (dialog) => void dialog.accept());
    await page.goto(`${server.base}/dashboard`);

    // Connections by protocol and transport.
    await shows(page, "conn-socketio-total", String(polling + websocket));
    await shows(page, "conn-socketio-polling", `polling${polling}`);
    await shows(page, "conn-socketio-websocket", `websocket${websocket}`);
    await shows(page, "conn-bayeux-total", String(longPolling + bayeuxWs));
    await shows(page, "conn-bayeux-long-polling", `long-polling${longPolling}`);
    await shows(page, "conn-bayeux-websocket", `websocket${bayeuxWs}`);
    // Rooms and channels with their members.
    await shows(page, "rooms-count", String(ROOMS.length));
    // The demo keeps its rooms as `chat:<room>` in the default namespace.
    for (const [room, count] of members) await topicShows(page, `/ chat:${room}`, count);
    for (const [channel, count] of subscribers) await topicShows(page, channel, count);
    // K chat messages from the first socket to its room ("lobby"; the demo bridge relays them
    // to Bayeux): the messages-in counter grows by at least K, the room's traffic is at least K.
    const before = await number(page, "messages-in");
    for (let k = 0; k < messages; k++) {
      assert.equal((await emitAck(sockets[0], "message", `hello ${k}`)).ok, true);
    }
    await page
      .waitForFunction(
        (least) =>
          Number(
            document.querySelector('[data-testid="messages-in"]')?.textContent?.replace(/,/g, ""),
          ) >= least,
        before + messages,
        { timeout: 15_000 },
      )
      .catch(async () =>
        assert.fail(
          `messages in: expected >= ${before + messages}, page shows ${await number(page, "messages-in")}`,
        ),
      );
    await page
      .waitForFunction(
        ([name, least]) =>
          Array.from(document.querySelectorAll('#top-traffic tr[data-testid="topic-row"]')).some(
            (tr) =>
              (tr as HTMLElement).dataset.name === name &&
              Number(tr.children[2]?.textContent?.replace(/,/g, "")) >= least,
          ),
        ["/ chat:lobby", messages] as const,
        { timeout: 15_000 },
      )
      .catch(async () => {
        const rows = await page.locator("#top-traffic tr").allTextContents();
        assert.fail(
          `top by traffic: expected / chat:lobby with >= ${messages}, page shows ${rows.join(" | ")}`,
        );
      });

    // The lists.
    await shows(page, "sockets-total", String(polling + websocket));
    await shows(page, "sessions-total", String(longPolling + bayeuxWs));

    if (SCREENSHOT) await screenshotScene(page, server.base);

    // Deliveries: P publishes to /dash/news from a client of its own reach each subscriber
    // once; the total grows by exactly that, and the deliveries rate shows them.
    const publisher = new BayeuxClient(`${server.base}/bayeux`, { transports: ["websocket"] });
    bayeuxClients.push(publisher);
    await publisher.init();
    const quiet = await statsSince(server.base, Date.now());
    const deliveredBefore = quiet.sum.deliveries.socketio + quiet.sum.deliveries.bayeux;
    const newsReaders = subscribers.get("/dash/news") ?? 0;
    const published = 5;
    const heardBefore = heard.news;
    for (let k = 0; k < published; k++) await publisher.publish("/dash/news", { k });
    await until(
      () => heard.news === heardBefore + published * newsReaders,
      10_000,
      "every subscriber got the publishes",
    );
    await numberShows(page, "deliveries", deliveredBefore + published * newsReaders);
    await numberShows(page, "rate-deliveries", 0, "above");
    await publisher.disconnect();

    // A recent error: a connect to a namespace the server does not have.
    const stray = ioc(`${server.base}/no-such-namespace`, {
      forceNew: true,
      reconnection: false,
      transports: ["websocket"],
    });
    const refused = await new Promise<Error>((resolve) => stray.once("connect_error", resolve));
    assert.equal(refused.message, "Invalid namespace");
    stray.close();
    await page
      .waitForFunction(
        () =>
          Array.from(document.querySelectorAll('#recent-errors tr[data-testid="error-row"]')).some(
            (tr) =>
              (tr as HTMLElement).dataset.code === "ERR_SIO_INVALID_NAMESPACE" &&
              tr.children[2]?.textContent?.includes("/no-such-namespace"),
          ),
        undefined,
        { timeout: 15_000 },
      )
      .catch(async () => {
        const rows = await page.locator("#recent-errors tr").allTextContents();
        assert.fail(
          `recent errors: expected the refused namespace, page shows ${rows.join(" | ")}`,
        );
      });

    // A slow consumer: a session that subscribes and never connects, so its deliveries queue up
    // to the CLI's maxQueuedMessages (1000): of 1,100 publishes, 100 are dropped.
    const handshake = async () => {
      const [hs] = await bayeuxPost(server.base, [
        { channel: "/meta/handshake", version: "1.0", supportedConnectionTypes: ["long-polling"] },
      ]);
      assert.equal(hs.successful, true);
      return hs.clientId as string;
    };
    const slowId = await handshake();
    // The publishes come from a session of their own: a reply to the subscriber's own
    // publishes would carry its queued deliveries away.
    const flooder = await handshake();
    const [sub] = await bayeuxPost(server.base, [
      { channel: "/meta/subscribe", clientId: slowId, subscription: "/dash/flood" },
    ]);
    assert.equal(sub.successful, true);
    for (let batch = 0; batch < 11; batch++) {
      const publishes = Array.from({ length: 100 }, (_, i) => ({
        channel: "/dash/flood",
        clientId: flooder,
        data: { n: batch * 100 + i },
      }));
      const replies = await bayeuxPost(server.base, publishes);
      assert.deepEqual(
        replies.map((r) => r.successful),
        publishes.map(() => true),
      );
    }
    await page
      .waitForFunction(
        (id) =>
          Array.from(document.querySelectorAll('#slow-consumers tr[data-testid="slow-row"]')).some(
            (tr) =>
              (tr as HTMLElement).dataset.id === id &&
              (tr as HTMLElement).dataset.protocol === "bayeux" &&
              tr.children[2]?.textContent === "100",
          ),
        slowId,
        { timeout: 15_000 },
      )
      .catch(async () => {
        const rows = await page.locator("#slow-consumers tr").allTextContents();
        assert.fail(`slow consumers: expected ${slowId} with 100, page shows ${rows.join(" | ")}`);
      });
    await shows(page, "drops", "100");
    // Channels with a subscriber: the test's two and the flood's.
    await shows(page, "channels-count", String(subscribers.size + 1));
    await shows(page, "sessions-total", String(longPolling + bayeuxWs + 2));

    // That session disconnected from the page: gone from the list, and from the server.
    await disconnectFromPage(page, "session", slowId);
    await shows(page, "sessions-total", "0");
    const [connect] = await bayeuxPost(server.base, [
      { channel: "/meta/connect", clientId: slowId, connectionType: "long-polling" },
    ]);
    assert.equal(connect.successful, false);
    assert.match(connect.error ?? "", /^402:/);
    const [bye] = await bayeuxPost(server.base, [
      { channel: "/meta/disconnect", clientId: flooder },
    ]);
    assert.equal(bye.successful, true);
    await page.fill('[data-testid="sessions-search"]', "");
    await shows(page, "sessions-total", String(longPolling + bayeuxWs));
    await shows(page, "conn-bayeux-total", String(longPolling + bayeuxWs));

    // More sockets than a page (20): the pager steps through them.
    const extra: ClientSocket[] = [];
    const many = 21;
    while (polling + websocket + extra.length < many) {
      const socket = ioc(server.base, {
        forceNew: true,
        reconnection: false,
        transports: ["websocket"],
      });
      extra.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      });
    }
    await shows(page, "sockets-total", String(many));
    await shows(page, "sockets-range", `1–20 of ${many}`);
    const pager = () =>
      page.evaluate(() => ({
        rows: document.querySelectorAll('#sockets-rows tr[data-testid="socket-row"]').length,
        prev: (document.querySelector('[data-testid="sockets-prev"]') as HTMLButtonElement)
          .disabled,
        next: (document.querySelector('[data-testid="sockets-next"]') as HTMLButtonElement)
          .disabled,
      }));
    assert.deepEqual(await pager(), { rows: 20, prev: true, next: false });
    const firstPage = await page.$$eval('#sockets-rows tr[data-testid="socket-row"]', (rows) =>
      rows.map((tr) => (tr as HTMLElement).dataset.id),
    );
    await page.click('[data-testid="sockets-next"]');
    await shows(page, "sockets-range", `21–21 of ${many}`);
    assert.deepEqual(await pager(), { rows: 1, prev: false, next: true });
    const lastId = await page.$eval(
      '#sockets-rows tr[data-testid="socket-row"]',
      (tr) => (tr as HTMLElement).dataset.id,
    );
    const all = [...sockets, ...extra].map((c) => c.id).sort();
    assert.deepEqual([...firstPage, lastId].sort(), all, "the two pages hold every socket once");
    await page.click('[data-testid="sockets-prev"]');
    await shows(page, "sockets-range", `1–20 of ${many}`);
    assert.deepEqual(await pager(), { rows: 20, prev: true, next: false });
    for (const socket of extra) socket.disconnect();
    await shows(page, "sockets-total", String(polling + websocket));

    // Find one socket by search and disconnect it from the page.
    const target = sockets[sockets.length - 1];
    const id = target.id as string;
    const gone = new Promise<string>((resolve) => target.once("disconnect", resolve));
    await disconnectFromPage(page, "socket", id);
    assert.equal(await gone, "io server disconnect");
    await shows(page, "sockets-total", "0");
    await page.fill('[data-testid="sockets-search"]', "");
    await shows(page, "sockets-total", String(polling + websocket - 1));
    await shows(page, "conn-socketio-total", String(polling + websocket - 1));
    assert.deepEqual(errors, []);
  });
});

describe("dashboard page of a cluster in Chromium", { skip }, () => {
  let browser: ChromiumProfile;
  const brokers: Broker[] = [];
  const nodes: TestNode[] = [];

  before(async () => {
    assert.ok(hasChromium, `${CHROMIUM} is missing (CI=true): apt-get install chromium`);
    browser = await launchChromiumProfile();
  });

  after(async () => {
    for (const node of nodes) await node.close();
    for (const broker of brokers) await broker.close();
    await browser?.close();
  });

  it("shows each node and the sum (a room on both nodes once), one node's list, and a silent node as missing", {
    timeout: 60_000,
  }, async () => {
    const hub = new MemoryBrokerHub();
    for (const id of ["node-a", "node-b"]) {
      const broker = hub.connect(id);
      brokers.push(broker);
      nodes.push(await startNode({ clusterTimeout: 1000 }, broker));
    }
    const [a, b] = nodes;
    const inLobby = [await a.socket("websocket"), await b.socket("websocket")];
    await b.socket("polling");
    await b.bayeuxClient("long-polling");
    // One room with a member on each node.
    for (const socket of inLobby) {
      await new Promise<void>((resolve) => socket.emit("join", "lobby", () => resolve()));
    }

    const errors: string[] = [];
    const page = await browser.context.newPage();
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${a.base}/dashboard`);
    await shows(page, "conn-socketio-total", "3");
    await shows(page, "conn-bayeux-total", "1");
    await page.waitForSelector('[data-testid="node-row"][data-node="node-b"]');
    await shows(page, "sockets-total", "3");
    // The cluster counts the room once, with the members of both nodes.
    await shows(page, "rooms-count", "1");
    await topicShows(page, "/ lobby", 2);

    // One node: its own figures and list.
    await page.selectOption('[data-testid="node-select"]', "node-b");
    await shows(page, "conn-socketio-total", "2");
    await shows(page, "sockets-total", "2");
    await shows(page, "rooms-count", "1");
    await topicShows(page, "/ lobby", 1);
    const listed = await page.$$eval('#sockets-rows tr[data-testid="socket-row"]', (rows) =>
      rows.map((tr) => tr.children[6]?.textContent),
    );
    assert.deepEqual(listed, ["node-b", "node-b"]);

    // A node that takes the dashboard's requests and never answers: the page says so.
    const silent = hub.connect("node-silent");
    brokers.push(silent);
    await silent.respond("ops/dashboard", () => new Promise(() => {}));
    await until(() => brokers[0].nodes().includes("node-silent"), 5000, "the silent node");
    await page.selectOption('[data-testid="node-select"]', "");
    await page.waitForFunction(
      () => document.querySelector('[data-testid="missing"]')?.textContent?.includes("node-silent"),
      undefined,
      { timeout: 15_000 },
    );
    await shows(page, "conn-socketio-total", "3");
    assert.deepEqual(errors, []);
  });
});

/**
 * For the README: traffic on the chat rooms and channels until the chart has
 * a few minutes... of samples (the server samples every 5 s), then a picture
 * of the top of the page.
 */
async function screenshotScene(page: Page, base: string): Promise<void> {
  const publisher = new BayeuxClient(`${base}/bayeux`, { transports: ["websocket"] });
  await publisher.init();
  const sender = ioc(base, { forceNew: true, reconnection: false, transports: ["websocket"] });
  await new Promise<void>((resolve) => sender.once("connect", () => resolve()));
  await emitAck(sender, "nickname", "traffic");
  await emitAck(sender, "join", "lobby");
  let round = 0;
  await untilAsync(
    async () => {
      round++;
      // A wave: busier and quieter stretches, so the chart has a shape.
      const burst = 2 + Math.round(6 * (1 + Math.sin(round / 40)));
      for (let i = 0; i < burst; i++) {
        await emitAck(sender, "message", `wave ${round}.${i}`);
        if (i % 2 === 0) await publisher.publish("/dash/news", { round, i });
      }
      const points = await page.locator("#chart").getAttribute("data-points");
      return Number(points) >= 12;
    },
    120_000,
    "a chart of a minute of traffic",
  );
  sender.disconnect();
  await publisher.disconnect();
  await page.screenshot({ path: join(repo, "docs", "dashboard.png") });
}
