/**
 * Picks the response content coding for a static file from `Accept-Encoding`
 * (RFC 9110 12.5.3): the offered coding with the highest q-value, brotli before
 * gzip on a tie, `*` standing for any coding not named, `q=0` refusing one.
 */

/** Codings the client file server can send. */
export type ContentCoding = "br" | "gzip" | "identity";

const OFFERED = ["br", "gzip"] as const;

/**
 * @example
 * pickContentCoding("gzip, deflate, br"); // "br"
 * pickContentCoding("gzip;q=1, br;q=0.5"); // "gzip"
 * pickContentCoding(undefined); // "identity"
 */
export function pickContentCoding(header: string | string[] | undefined): ContentCoding {
  if (header === undefined) return "identity";
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
  let best: ContentCoding = "identity";
  let bestQ = 0;
  for (const coding of OFFERED) {
    const q = (coding === "br" ? br : gzip) ?? any ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}
