/**
 * Compression of long-polling responses (gzip or deflate, chosen from the
 * request's Accept-Encoding, RFC 9110 §12.5.3), applied only above a size
 * threshold where it pays for itself.
 */
import { deflate, gzip } from "node:zlib";

export type HttpEncoding = "gzip" | "deflate";

/**
 * The q-value of each coding an Accept-Encoding header names (lower-cased;
 * the highest when one is named twice; a malformed q counts as 0, refusing).
 *
 * @example
 * codingQualities("gzip;q=0.5, br"); // Map { "gzip" => 0.5, "br" => 1 }
 */
export function codingQualities(header: string): Map<string, number> {
  const qualities = new Map<string, number>();
  for (const item of header.split(",")) {
    const [rawName, ...params] = item.split(";");
    const name = rawName.trim().toLowerCase();
    if (name === "") continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key.trim().toLowerCase() === "q") {
        const parsed = Number.parseFloat(value ?? "");
        q = Number.isFinite(parsed) ? parsed : 0;
      }
    }
    qualities.set(name, Math.max(qualities.get(name) ?? -1, q));
  }
  return qualities;
}

/** The q-value of gzip (or its alias x-gzip) in `qualities`, -1 when neither is named. */
export function gzipQuality(qualities: Map<string, number>): number {
  return Math.max(qualities.get("gzip") ?? -1, qualities.get("x-gzip") ?? -1);
}

/**
 * Picks gzip or deflate from an Accept-Encoding header: the highest quality
 * wins, gzip on a tie; `*` stands for both; q=0 refuses.
 *
 * @example
 * negotiateEncoding("deflate, gzip;q=0.5"); // "deflate"
 */
export function negotiateEncoding(header: string | undefined): HttpEncoding | null {
  if (!header) return null;
  const qualities = codingQualities(header);
  const anyQ = qualities.get("*") ?? -1;
  let gzipQ = gzipQuality(qualities);
  if (gzipQ === -1) gzipQ = anyQ;
  const deflateQ = qualities.get("deflate") ?? anyQ;
  if (gzipQ <= 0 && deflateQ <= 0) return null;
  return gzipQ >= deflateQ ? "gzip" : "deflate";
}

/** Compresses `data` with the negotiated encoding. */
export function compressBody(
  encoding: HttpEncoding,
  data: string | Buffer,
  done: (err: Error | null, result: Buffer) => void,
): void {
  if (encoding === "gzip") gzip(data, done);
  else deflate(data, done);
}
