/**
 * Byte classes of the HTTP/1.1 grammar (RFC 9110 §5.6), as 256-entry lookup
 * tables so the parser tests a byte with one load instead of a chain of
 * comparisons or a regular expression.
 */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) if (accept(c)) t[c] = 1;
  return t;
}

const TCHAR_PUNCTUATION = "!#$%&'*+-.^_`|~";

/** tchar: the bytes of a token (method, field name, transfer coding). */
export const TOKEN = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_PUNCTUATION.includes(String.fromCharCode(c)),
);

/**
 * Whether buf[from..to) equals `lower` ignoring ASCII case. `lower` must be
 * lowercase letters, digits or "-": for those, `byte | 0x20` only folds the
 * matching uppercase letter (or a CR, which no caller passes in a token).
 */
export function equalsLower(buf: Uint8Array, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) {
    if ((buf[from + k] | 0x20) !== lower.charCodeAt(k)) return false;
  }
  return true;
}
