/**
 * The Redis Cluster hash slot of a key or sharded channel: CRC16 (XMODEM:
 * polynomial 0x1021, initial value 0) of the name, or of its hash tag (the
 * text between the first `{` and the next `}`, when not empty), modulo 16384,
 * as the Redis Cluster specification ("Keys distribution model") defines it.
 * A sharded SSUBSCRIBE may name several channels only when they share a slot,
 * so the broker groups the channels it subscribes in one tick by slot.
 */

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]) & 0xff];
  return crc;
}

/**
 * The cluster slot (0..16383) of `name`.
 *
 * @example
 * clusterSlot("123456789"); // 12739 (CRC16 0x31C3)
 * clusterSlot("{user}.a") === clusterSlot("{user}.b"); // true
 */
export function clusterSlot(name: string): number {
  const bytes = Buffer.from(name);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // "{"
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // "}"
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  return crc16(bytes, start, end) & 0x3fff;
}
