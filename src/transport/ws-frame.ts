/**
 * Server-to-client WebSocket frames (RFC 6455 §5.2: FIN set, no RSV bits,
 * unmasked), built into one buffer where small enough: the header and the
 * payload share an allocation, so a frame is one `write` and one syscall,
 * where a header buffer plus a payload buffer would take a corked `writev`
 * and the stream's bookkeeping for two chunks.
 *
 * @example
 * socket.write(encodeFrame('42["news","hi"]', false)[0]);
 */

/** Frames up to this size are one buffer; larger ones keep the payload apart (no copy). */
export const JOIN_FRAME_LIMIT = 64 * 1024;

const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;

function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65536 ? 4 : 10;
}

function writeHeader(target: Buffer, opcode: number, payloadLength: number): void {
  target[0] = 0x80 | opcode;
  if (payloadLength < 126) {
    target[1] = payloadLength;
  } else if (payloadLength < 65536) {
    target[1] = 126;
    target.writeUInt16BE(payloadLength, 2);
  } else {
    target[1] = 127;
    target.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), 2);
    target.writeUInt32BE(payloadLength >>> 0, 6);
  }
}

/**
 * The frame of one message: text (a string, sent as UTF-8) or binary. One
 * buffer up to {@link JOIN_FRAME_LIMIT} bytes, else `[header, payload]`.
 */
export function encodeFrame(data: string | Buffer, binary: boolean): Buffer[] {
  const opcode = binary ? OPCODE_BINARY : OPCODE_TEXT;
  if (typeof data === "string") {
    const length = Buffer.byteLength(data);
    const offset = headerLength(length);
    if (offset + length <= JOIN_FRAME_LIMIT) {
      const frame = Buffer.allocUnsafe(offset + length);
      writeHeader(frame, opcode, length);
      frame.write(data, offset, "utf8");
      return [frame];
    }
    data = Buffer.from(data, "utf8");
  }
  const length = data.length;
  const offset = headerLength(length);
  if (offset + length <= JOIN_FRAME_LIMIT) {
    const frame = Buffer.allocUnsafe(offset + length);
    writeHeader(frame, opcode, length);
    data.copy(frame, offset);
    return [frame];
  }
  const header = Buffer.allocUnsafe(offset);
  writeHeader(header, opcode, length);
  return [header, data];
}

/** Bytes of a frame written in parts (`encodeFrame`'s result). */
export function frameBytes(frames: readonly Buffer[]): number {
  if (frames.length === 1) return frames[0].length;
  let bytes = 0;
  for (let i = 0; i < frames.length; i++) bytes += frames[i].length;
  return bytes;
}
