/**
 * Refusing an HTTP upgrade request, the same way for both protocols and the
 * mount front: an upgrade has no `ServerResponse`, so the status line and
 * headers are written to the raw socket (RFC 9112 §4, `Connection: close`),
 * with an optional JSON body (Engine.IO answers its error table as JSON), and
 * the socket is ended, then destroyed once the answer is flushed: nothing
 * more is read from a peer whose upgrade was refused.
 *
 * @example
 * server.on("upgrade", (req, socket) => refuseUpgrade(socket, 404));
 * refuseUpgrade(socket, 400, '{"code":3,"message":"Bad request"}');
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** Errors on a refused socket (a peer that reset it) have nobody to go to. */
function ignore(): void {}

function destroy(this: Duplex): void {
  this.destroy();
}

/** Answers an upgrade request with `status` (and `json` as its body), then closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, json?: string): void {
  if (socket.destroyed) return;
  socket.on("error", ignore);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\nConnection: close\r\n`;
  socket.once("finish", destroy);
  socket.end(
    json === undefined
      ? `${head}Content-Length: 0\r\n\r\n`
      : `${head}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}
