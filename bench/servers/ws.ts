/**
 * Target `ws`: a bare `ws` server speaking a trivial JSON protocol with the
 * same payloads — the ceiling the Socket.IO targets are measured against.
 *
 * Client → server: `{"e":"pub","d":…}`, `{"e":"burst","d":{count,batch,body}}`,
 * `{"e":"echo","id":n,"d":…}`. Server → client: `{"e":"m","d":…}` and the echo
 * reply `{"id":n,"d":…}`. Like the Socket.IO targets, the server parses every
 * incoming message and serialises what it sends; a broadcast is framed once
 * and the same bytes are written to every socket's TCP stream.
 */
import type { Socket } from "node:net";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { textFrame } from "../lib/frame.js";
import { baseScenario, type ServerConfig } from "../lib/protocol.js";
import { host } from "./host.js";

interface Incoming {
  e: string;
  id?: number;
  d?: unknown;
}

interface BurstRequest {
  count: number;
  batch: number;
  body: string;
}

const room = new Set<WebSocket>();

function tcpOf(ws: WebSocket): Socket {
  // ws keeps the upgraded TCP socket here; it has no public "write prepared frame" API.
  return (ws as unknown as { _socket: Socket })._socket;
}

function frameOf(data: unknown): Buffer {
  return textFrame(Buffer.from(JSON.stringify({ e: "m", d: data })));
}

function writeToRoom(bytes: Buffer): void {
  for (const ws of room) if (ws.readyState === WebSocket.OPEN) tcpOf(ws).write(bytes);
}

function burst(request: BurstRequest): void {
  let seq = 0;
  const step = (): void => {
    // Same batching as the Socket.IO application (a batch per turn, then
    // setImmediate), but as a ceiling should: the batch's frames are joined and
    // written with one write per socket.
    const end = Math.min(request.count, seq + request.batch);
    const frames: Buffer[] = [];
    for (; seq < end; seq++) frames.push(frameOf({ seq, b: request.body }));
    writeToRoom(Buffer.concat(frames));
    if (seq < request.count) setImmediate(step);
  };
  step();
}

function onControl(data: RawData): void {
  const message = JSON.parse(data.toString()) as Incoming;
  if (message.e === "pub") writeToRoom(frameOf(message.d));
  else if (message.e === "burst") burst(message.d as BurstRequest);
}

function onEcho(this: WebSocket, data: RawData): void {
  const message = JSON.parse(data.toString()) as Incoming;
  if (message.e === "echo") this.send(JSON.stringify({ id: message.id, d: message.d }));
}

function onRoomClose(this: WebSocket): void {
  room.delete(this);
}

function start(config: ServerConfig): Promise<{ port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  // The ceiling of the Bayeux scenarios is the same server under the same load shape.
  const scenario = baseScenario(config.scenario);
  wss.on("connection", (ws, request) => {
    if (scenario === "idle") return;
    if (new URLSearchParams(request.url?.split("?")[1]).get("role") === "ctl") {
      ws.on("message", onControl);
    } else if (scenario === "echo") {
      ws.on("message", onEcho);
    } else {
      room.add(ws);
      ws.on("close", onRoomClose);
    }
  });
  return new Promise((resolve, reject) => {
    wss.once("error", reject);
    wss.once("listening", () => {
      const address = wss.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            for (const ws of wss.clients) ws.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}

await host(start);
