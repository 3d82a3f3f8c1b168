/**
 * Picks the response content coding for a static file from `Accept-Encoding`
 * (RFC 9110 12.5.3): the offered coding with the highest q-value, brotli before
 * gzip on a tie, `*` standing for any coding not named, `q=0` refusing one.
 */

import { codingQualities, gzipQuality } from "../transport/http-compression.js";

/** Codings the client file server can send. */
export type ContentCoding = "br" | "gzip" | "identity";

/**
 * The codings the client accepts, best first; `identity` always comes last.
 *
 * @example
 * acceptedCodings("gzip, deflate, br"); // ["br", "gzip", "identity"]
 * acceptedCodings("gzip;q=1, br;q=0.5"); // ["gzip", "br", "identity"]
 * acceptedCodings(undefined); // ["identity"]
 */
export function acceptedCodings(header: string | string[] | undefined): ContentCoding[] {
  if (header === undefined) return ["identity"];
  const qualities = codingQualities(Array.isArray(header) ? header.join(",") : header);
  const any = qualities.get("*");
  const brQ = qualities.get("br") ?? any ?? 0;
  const gzip = gzipQuality(qualities);
  const gzipQ = gzip === -1 ? (any ?? 0) : gzip;
  const codings: ContentCoding[] = [];
  // On a tie brotli goes first: it is the smaller of the two.
  if (brQ > 0 && brQ >= gzipQ) codings.push("br");
  if (gzipQ > 0) codings.push("gzip");
  if (brQ > 0 && brQ < gzipQ) codings.push("br");
  codings.push("identity");
  return codings;
}

/**
 * The best coding the client accepts.
 *
 * @example
 * pickContentCoding("gzip, deflate, br"); // "br"
 * pickContentCoding("gzip;q=1, br;q=0.5"); // "gzip"
 * pickContentCoding(undefined); // "identity"
 */
export function pickContentCoding(header: string | string[] | undefined): ContentCoding {
  return acceptedCodings(header)[0];
}
