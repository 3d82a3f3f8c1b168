/**
 * Micro-benchmark of the JavaScript a long-poll costs the server, without
 * the kernel: the built Switchboard `Server` on a node http server that
 * never listens, its connections stand-in sockets that count what is written
 * and are fed request bytes as a kept-alive node:http client sends them.
 *
 * - fanout: a broadcast to `clients` Engine.IO polling receivers, each of
 *   which then sends its next GET (µs per delivery: the answer and the next
 *   poll's reading);
 * - echo: per client a POST of `42<id>["echo",…]`, answered `ok`, its ack
 *   answering the held GET, then the next GET (µs per ack).
 *
 * What the socket layer of node (stream events, the write syscall) costs
 * comes on top in a real run: this measures only what is ours to cut.
 *
 * Run: node --import tsx bench/scripts/request-path.ts [clients] [rounds]
 */
import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const CLIENTS = Number(process.argv[2] ?? 500);
const ROUNDS = Number(process.argv[3] ?? 400);
const HOST = "Host: 127.0.0.1:40000\r\nConnection: keep-alive\r\n";
const BODY = "x".repeat(64);

/** A connection's stand-in: what the front and the engine touch on a net.Socket. */
class StandInSocket extends EventEmitter {
  writes = 0;
  last = "";
  destroyed = false;
  writableNeedDrain = false;
  readonly remoteAddress = "127.0.0.1";
  readonly remotePort = 40000;
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  write(data: string | Buffer): boolean {
    this.writes++;
    this.last = typeof data === "string" ? data : data.toString("latin1");
    return true;
  }
  end(data?: string | Buffer): this {
    if (data !== undefined) this.write(data);
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  unshift(): void {}
  /** The body of the last answer written. */
  get answer(): string {
    return this.last.slice(this.last.indexOf("\r\n\r\n") + 4);
  }
}

interface Client {
  sid: string;
  get: StandInSocket;
  post: StandInSocket;
  getHead: Buffer;
  postPath: string;
}

const turn = (): Promise<void> => new Promise((done) => setImmediate(done));

async function main(): Promise<void> {
  const dist = pathToFileURL(resolve(import.meta.dirname, "../../dist/index.js")).href;
  const { Server } = (await import(dist)) as {
    Server: new (
      http: unknown,
      options: object,
    ) => {
      on(event: string, listener: (socket: SocketLike) => void): void;
      to(room: string): { emit(event: string, data: unknown): void };
    };
  };
  interface SocketLike {
    join(room: string): void;
    on(event: string, listener: (data: unknown, ack: (reply: unknown) => void) => void): void;
  }
  const http = createServer();
  const io = new Server(http, { serveClient: false, pingInterval: 3_600_000 });
  io.on("connection", (socket) => {
    socket.join("r");
    socket.on("echo", (data, ack) => ack(data));
  });

  const connect = (): StandInSocket => {
    const socket = new StandInSocket();
    http.emit("connection", socket);
    return socket;
  };
  const clients: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const get = connect();
    const post = connect();
    get.emit(
      "data",
      Buffer.from(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n${HOST}\r\n`),
    );
    await turn();
    const sid = (JSON.parse(get.answer.slice(1)) as { sid: string }).sid;
    const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    clients.push({
      sid,
      get,
      post,
      getHead: Buffer.from(`GET ${path} HTTP/1.1\r\n${HOST}\r\n`, "latin1"),
      postPath: path,
    });
  }
  const send = (client: Client, body: string): void => {
    const head = `POST ${client.postPath} HTTP/1.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${HOST}\r\n`;
    client.post.emit("data", Buffer.from(head + body));
  };
  for (const client of clients) send(client, "40");
  await turn();
  for (const client of clients) client.get.emit("data", client.getHead);
  await turn();
  for (const client of clients) {
    if (!client.get.answer.startsWith("40")) throw new Error(`no CONNECT: ${client.get.answer}`);
    client.get.emit("data", client.getHead);
  }

  const measure = async (name: string, unit: string, round: () => void, per: number) => {
    for (let i = 0; i < ROUNDS / 4; i++) {
      round();
      await turn();
    }
    const before = clients.reduce((n, c) => n + c.get.writes, 0);
    let busy = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const start = process.cpuUsage();
      round();
      await turn();
      const used = process.cpuUsage(start);
      busy += used.user + used.system;
    }
    const written = clients.reduce((n, c) => n + c.get.writes, 0) - before;
    if (written !== ROUNDS * CLIENTS) {
      throw new Error(`${name}: ${written} answers to polls, expected ${ROUNDS * CLIENTS}`);
    }
    console.log(`${name.padEnd(7)} ${(busy / (ROUNDS * per)).toFixed(3)} µs per ${unit}`);
  };

  let seq = 0;
  const fanout = (): void => {
    io.to("r").emit("m", { t: seq++, s: 0, b: BODY });
    for (const client of clients) client.get.emit("data", client.getHead);
  };
  let id = 0;
  const echo = (): void => {
    for (const client of clients) {
      send(client, `42${id++}["echo",{"t":${seq++},"b":"${BODY}"}]`);
    }
    for (const client of clients) client.get.emit("data", client.getHead);
  };
  for (let pass = 0; pass < 3; pass++) {
    await measure("fanout", "delivery", fanout, CLIENTS);
    await measure("echo", "ack", echo, CLIENTS);
  }
}

await main();
process.exit(0);
