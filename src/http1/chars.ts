/**
 * Byte classes of the HTTP/1.1 grammar (RFC 9110 §5.6), as 256-entry lookup
 * tables so the codecs test a byte with one load instead of a chain of
 * comparisons or a regular expression.
 */

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const SEMICOLON = 0x3b;

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

/** The bytes of a field value or chunk extension: VCHAR, obs-text, SP, HTAB (no CTL, no DEL). */
export const FIELD_VALUE = table((c) => c === SP || c === HTAB || (c > 0x20 && c !== 0x7f));

/** Hex digit value plus one (0 = not a hex digit), for chunk sizes. */
export const HEX_PLUS_ONE = (() => {
  const t = new Uint8Array(256);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d + 1;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = d + 11;
    t[0x61 + d] = d + 11;
  }
  return t;
})();

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
