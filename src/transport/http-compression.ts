/**
 * Compression of long-polling responses (gzip or deflate, chosen from the
 * request's Accept-Encoding, RFC 9110 §12.5.3), applied only above a size
 * threshold where it pays for itself.
 */
import { deflate, gzip } from "node:zlib";

export type HttpEncoding = "gzip" | "deflate";

/**
 * Picks gzip or deflate from an Accept-Encoding header: the highest quality
 * wins, gzip on a tie; `*` stands for both; q=0 refuses.
 *
 * @example
 * negotiateEncoding("deflate, gzip;q=0.5"); // "deflate"
 */
export function negotiateEncoding(header: string | undefined): HttpEncoding | null {
  if (!header) return null;
  let gzipQ = -1;
  let deflateQ = -1;
  let anyQ = -1;
  for (const item of header.split(",")) {
    const [rawName, ...params] = item.split(";");
    const name = rawName.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key.trim().toLowerCase() === "q") {
        const parsed = Number.parseFloat(value ?? "");
        q = Number.isFinite(parsed) ? parsed : 0;
      }
    }
    if (name === "gzip" || name === "x-gzip") gzipQ = Math.max(gzipQ, q);
    else if (name === "deflate") deflateQ = Math.max(deflateQ, q);
    else if (name === "*") anyQ = Math.max(anyQ, q);
  }
  if (gzipQ === -1) gzipQ = anyQ;
  if (deflateQ === -1) deflateQ = anyQ;
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
