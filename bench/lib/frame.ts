/**
 * Builds an unmasked WebSocket text frame (RFC 6455 §5.2: servers never mask).
 * The raw `ws` target frames a broadcast once with this and writes the same
 * bytes to every socket, which is the cheapest fan-out Node can do: the ceiling.
 *
 * @example
 * const frame = textFrame(Buffer.from('{"e":"m"}'));
 * for (const socket of sockets) socket.write(frame);
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  // §5.2: 7-bit length, or 126 + 16-bit length, or 127 + 64-bit length.
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 0x1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}
