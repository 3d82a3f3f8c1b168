/**
 * Raw Engine.IO v4 clients for sending what socket.io-client never would:
 * one over HTTP long-polling, one over a bare TCP websocket. Both expose the
 * Engine.IO packets they received (as text, "40{...}", "1", ...) and resolve
 * `closed` when the server ends the session.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { request } from "node:http";
import { connect, type Socket as NetSocket } from "node:net";

export type RawTransport = "polling" | "websocket";

export interface RawClient {
  /** Engine.IO packets received, in order (the handshake's open packet excluded). */
  readonly received: string[];
  /** The same packets as they arrived together: one polling response, or one websocket frame. */
  readonly batches: string[][];
  /** Resolves once the server closed the session. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** Sends Engine.IO packets in one batch: one POST, or one TCP write of websocket frames. */
  send(...packets: string[]): Promise<void>;
  /** Resolves once `test(received)` holds; rejects after `ms`. */
  until(test: (received: string[]) => boolean, ms?: number): Promise<void>;
  end(): void;
}

export function rawClient(port: number, transport: RawTransport): Promise<RawClient> {
  return transport === "polling" ? rawPolling(port) : rawWebSocket(port);
}

/**
 * Checks `test` every few milliseconds until it holds; rejects after `ms`,
 * naming `what` (a function is asked at the deadline: the state then).
 */
export function until(
  test: () => boolean,
  ms = 5000,
  what: string | (() => string) = "condition",
): Promise<void> {
  return untilAsync(async () => test(), ms, what);
}

/**
 * As {@link until}, for a check that needs I/O (a Redis query, a cluster
 * count); a check that throws counts as not holding yet.
 */
export async function untilAsync(
  test: () => Promise<boolean>,
  ms = 5000,
  what: string | (() => string) = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test().catch(() => false))) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function httpRequest(
  port: number,
  path: string,
  method = "GET",
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, agent: false, headers: { connection: "close" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function rawPolling(port: number): Promise<RawClient> {
  const open = await httpRequest(port, "/socket.io/?EIO=4&transport=polling");
  const sid = (JSON.parse(open.text.slice(1)) as { sid: string }).sid;
  const path = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  const received: string[] = [];
  const batches: string[][] = [];
  let closed = false;
  let stopped = false;
  const closedPromise = (async () => {
    // One GET held at a time, as a real client does, until the close packet.
    while (!stopped) {
      const res = await httpRequest(port, path).catch(() => ({ status: 0, text: "" }));
      if (res.status !== 200) break;
      const packets = res.text.split("\x1e");
      received.push(...packets);
      batches.push(packets);
      if (packets.includes("1")) break;
    }
    closed = true;
  })();
  return {
    received,
    batches,
    closed: closedPromise,
    isClosed: () => closed,
    async send(...packets) {
      const res = await httpRequest(port, path, "POST", packets.join("\x1e"));
      if (res.status !== 200) throw new Error(`POST answered ${res.status} ${res.text}`);
    },
    until: (test, ms) => until(() => test(received), ms, "packets"),
    end() {
      stopped = true;
      // A close packet ends the session at once, as a client's close() does.
      httpRequest(port, path, "POST", "1").catch(() => {});
    },
  };
}

/** A masked client text frame (RFC 6455 section 5.2). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const length = payload.length;
  const header =
    length < 126 ? Buffer.from([0x81, 0x80 | length]) : Buffer.from([0x81, 0x80 | 126, 0, 0]);
  if (length >= 126) header.writeUInt16BE(length, 2);
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

async function rawWebSocket(port: number): Promise<RawClient> {
  const tcp: NetSocket = connect(port, "127.0.0.1");
  await once(tcp, "connect");
  tcp.write(
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
      `Host: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const received: string[] = [];
  const batches: string[][] = [];
  let closed = false;
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  let opened = false;
  const closedPromise = new Promise<void>((resolve) => {
    const finish = () => {
      closed = true;
      resolve();
    };
    tcp.on("close", finish);
    tcp.on("error", finish);
    tcp.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end === -1) return;
        upgraded = true;
        buffer = buffer.subarray(end + 4);
      }
      // Server frames are unmasked; the tests only get short text frames and close frames.
      while (buffer.length >= 2) {
        const opcode = buffer[0] & 0x0f;
        let length = buffer[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        buffer = buffer.subarray(offset + length);
        if (opcode === 0x8) {
          finish();
          tcp.destroy();
          return;
        }
        if (opcode !== 0x1) continue;
        if (!opened) opened = true;
        else {
          received.push(payload.toString());
          batches.push([payload.toString()]);
        }
      }
    });
  });
  await until(() => opened || closed, 5000, "the open packet");
  return {
    received,
    batches,
    closed: closedPromise,
    isClosed: () => closed,
    async send(...packets) {
      tcp.write(Buffer.concat(packets.map(textFrame)));
    },
    until: (test, ms) => until(() => test(received), ms, "packets"),
    end() {
      tcp.destroy();
    },
  };
}
