/**
 * Writes of a link, either side: a socket is corked at its first frame of an
 * event-loop iteration and uncorked after that iteration's I/O callbacks
 * (not after the one callback that wrote), so the frames of requests read
 * from many client sockets in one iteration leave in one write.
 */
import type { Socket } from "node:net";

const corked = new WeakSet<Socket>();

export function writeInTurn(socket: Socket, frame: Buffer): void {
  if (!corked.has(socket)) {
    corked.add(socket);
    socket.cork();
    setImmediate(() => {
      corked.delete(socket);
      socket.uncork();
    });
  }
  socket.write(frame);
}
