/**
 * The churn soak's server and clients (see churn.test.ts), run in a child
 * process started with --expose-gc, a small young generation and
 * single-threaded GC, so that RSS measures what the connections leave behind
 * rather than the nursery's size or pages a GC thread has yet to release.
 * Prints one JSON line per round.
 *
 * The clients are raw `ws` sockets speaking just enough Engine.IO / Socket.IO
 * (as the load generator's), so a round stays cheap.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import type { Server as EngineServer } from "../../src/engine/index.js";
import { Server, type Socket } from "../../src/index.js";

export interface RoundReport {
  round: number;
  rss: number;
  heapUsed: number;
  /** Engine sessions, sid table entries, timer entries and lists left after the round. */
  clientsCount: number;
  sids: number;
  timers: number;
  timerLists: number;
  /** Sockets and rooms left in the main namespace. */
  sockets: number;
  rooms: number;
  /** Of `sampled` closed sessions' objects (socket, engine socket, client), how many GC could not free. */
  alive: number;
  sampled: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

const CONNECTIONS = Number(process.env.CHURN_CONNECTIONS ?? 2000);
const ROUNDS = Number(process.env.CHURN_ROUNDS ?? 6);
/** Connections opening at once. */
const CONCURRENCY = 200;

function collect(): Promise<void> {
  return new Promise((resolve) => {
    (gc as () => void)();
    // Let weak references and finalizers settle, then once more.
    setImmediate(() => {
      (gc as () => void)();
      resolve();
    });
  });
}

/** Polls `condition` until it holds, or fails after `ms`. */
async function waitFor(condition: () => boolean, what: string, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens a raw client: resolves once the Socket.IO CONNECT reply (`40…`) arrived. */
function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      const first = data[0];
      if (first === 0x30 /* 0: Engine.IO open */) ws.send("40");
      else if (first === 0x32 /* 2: ping */) ws.send("3");
      else if (first === 0x34 && data[1] === 0x30 /* 40: connected */) resolve(ws);
    });
  });
}

const http = createServer();
const io = new Server(http, { transports: ["websocket"] });
const engine = io.engine as unknown as EngineServer;
let serverSide: Socket[] = [];
io.on("connection", (socket) => {
  socket.join("lobby");
  socket.on("hello", () => {});
  serverSide.push(socket);
});
http.listen(0, "127.0.0.1");
await once(http, "listening");
const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/socket.io/?EIO=4&transport=websocket`;

for (let round = 1; round <= ROUNDS; round++) {
  serverSide = [];
  const clients: WebSocket[] = [];
  for (let i = 0; i < CONNECTIONS; i += CONCURRENCY) {
    const batch: Promise<WebSocket>[] = [];
    for (let j = i; j < Math.min(CONNECTIONS, i + CONCURRENCY); j++) batch.push(connect(url));
    clients.push(...(await Promise.all(batch)));
  }
  await waitFor(() => serverSide.length === CONNECTIONS, "every server-side socket");
  if (engine.clientsCount !== CONNECTIONS) throw new Error(`${engine.clientsCount} sessions open`);

  // Weak references to a sample of this round's sessions: none may survive.
  const sample = serverSide
    .filter((_, i) => i % 100 === 0)
    .flatMap((s) => [
      new WeakRef<object>(s),
      new WeakRef<object>(s.conn),
      new WeakRef<object>(s.client),
    ]);

  // Half close from the client, half from the server.
  const closed = clients.map((ws) => once(ws, "close"));
  for (let i = 0; i < CONNECTIONS; i++) {
    if (i % 2 === 0) clients[i].close();
    else serverSide[i].disconnect(true);
  }
  await Promise.all(closed);
  await waitFor(() => engine.clientsCount === 0, "the engine to forget every session");
  serverSide = [];
  clients.length = 0;

  await collect();
  const usage = process.memoryUsage();
  const report: RoundReport = {
    round,
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    clientsCount: engine.clientsCount,
    sids: Object.keys(engine.clients).length,
    timers: engine.wheel.size,
    timerLists: engine.wheel.lists,
    sockets: io.of("/").sockets.size,
    rooms: io.of("/").adapter.rooms.size,
    alive: sample.filter((ref) => ref.deref() !== undefined).length,
    sampled: sample.length,
  };
  console.log(JSON.stringify(report));
}
await io.close();
