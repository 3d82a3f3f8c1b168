/**
 * Picks the response content coding for a static file from `Accept-Encoding`
 * (RFC 9110 12.5.3): the offered coding with the highest q-value, brotli before
 * gzip on a tie, `*` standing for any coding not named, `q=0` refusing one.
 */

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
  const text = Array.isArray(header) ? header.join(",") : header;
  let br: number | undefined;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const item of text.split(",")) {
    const [rawName, ...params] = item.split(";");
    const name = rawName.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=");
      if (key.trim().toLowerCase() === "q") {
        const parsed = Number(value?.trim());
        q = Number.isFinite(parsed) ? parsed : 0;
      }
    }
    if (name === "br") br = q;
    else if (name === "gzip" || name === "x-gzip") gzip = q;
    else if (name === "*") any = q;
  }
  const brQ = br ?? any ?? 0;
  const gzipQ = gzip ?? any ?? 0;
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
