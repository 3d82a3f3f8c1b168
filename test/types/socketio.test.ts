/**
 * Compile-time checks of the typed event maps (run by `tsc --noEmit`: each
 * `@ts-expect-error` must hide a real error), plus a runtime assertion.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { type BroadcastOperator, Server, type Socket } from "../../src/index.js";

interface ClientToServer {
  chat: (text: string) => void;
  ask: (q: number, cb: (answer: string) => void) => void;
}
interface ServerToClient {
  news: (title: string, score: number) => void;
  ping: (cb: (pong: number) => void) => void;
}
interface InterServer {
  sync: (version: number) => void;
}
interface SocketData {
  user: string;
}

function typed(io: Server<ClientToServer, ServerToClient, InterServer, SocketData>): void {
  io.on("connection", (socket) => {
    const s: Socket<ClientToServer, ServerToClient, InterServer, SocketData> = socket;
    s.on("chat", (text) => {
      const t: string = text;
      void t;
    });
    s.on("ask", (q, cb) => cb(String(q)));
    // @ts-expect-error: "chat" receives a string
    s.on("chat", (text: number) => void text);
    // @ts-expect-error: unknown client event
    s.on("unknown", () => {});
    s.emit("news", "title", 1);
    // @ts-expect-error: score must be a number
    s.emit("news", "title", "1");
    // @ts-expect-error: unknown server event
    s.emit("nope");
    s.data.user = "ada";
    // @ts-expect-error: SocketData.user is a string
    s.data.user = 1;
    s.timeout(100).emit("ping", (err, pong) => {
      const e: Error = err;
      const p: number = pong;
      void e;
      void p;
    });
    const pong: Promise<number> = s.emitWithAck("ping");
    void pong;
    s.on("disconnect", (reason) => {
      const r: string = reason;
      void r;
    });
  });
  io.emit("news", "t", 2);
  // @ts-expect-error: wrong argument type on a broadcast
  io.to("room").emit("news", 1, 2);
  const op: BroadcastOperator<ServerToClient, SocketData> = io.to("a").except("b");
  void op;
  io.timeout(100).emit("ping", (err, pongs) => {
    const list: number[] = pongs;
    void err;
    void list;
  });
  io.serverSideEmit("sync", 1);
  // @ts-expect-error: inter-server event takes a number
  io.serverSideEmit("sync", "1");
  io.on("sync", (version) => {
    const v: number = version;
    void v;
  });
  io.of("/admin").use((socket, next) => {
    const user: string = socket.data.user;
    void user;
    next();
  });
}

it("typed server compiles and works untyped at runtime", async () => {
  const io = new Server<ClientToServer, ServerToClient, InterServer, SocketData>({
    serveClient: false,
  });
  typed(io);
  assert.equal(io.listenerCount("connection"), 1);
  await io.close();
});
