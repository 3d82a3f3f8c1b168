/**
 * Session ids. Bayeux 1.0 section 2.1 gives the grammar `clientId = 1*( alphanum )`,
 * and strict clients (CometD's) reject anything else, so ids use the 62
 * alphanumerics only. 24 of them carry log2(62) * 24 ≈ 142.9 bits, past the
 * 128 an unguessable id needs.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LENGTH = 24;
/** Bytes at or past this are dropped: 248 = 4 × 62, so `byte % 62` stays uniform. */
const LIMIT = 248;

/**
 * A new random clientId of 24 alphanumerics.
 *
 * @example
 * generateClientId(); // "q3ZkT0bWv9LmYc1RfA7sXe2H"
 */
export function generateClientId(): string {
  let id = "";
  while (id.length < LENGTH) {
    // 32 bytes nearly always suffice (each is dropped with probability 8/256).
    const bytes = randomBytes(32);
    for (let i = 0; i < bytes.length && id.length < LENGTH; i++) {
      if (bytes[i] < LIMIT) id += ALPHABET[bytes[i] % 62];
    }
  }
  return id;
}
