/**
 * Request headers read straight from a flat raw list (name, value, ...), as
 * a long-poll served below node:http carries them: the one or two a
 * long-poll needs cost no header object.
 */

/**
 * The value `IncomingMessage#headers` gives for `name` (lower-case): the
 * first one when `first` (a header Node keeps once, such as
 * `content-type`), else every one joined with ", " (such as `origin`).
 * Undefined when absent.
 *
 * @example
 * rawHeader(["Origin", "https://app.example"], "origin", false); // "https://app.example"
 */
export function rawHeader(
  raw: readonly string[],
  name: string,
  first: boolean,
): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i];
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    if (out === undefined) {
      out = raw[i + 1];
      if (first) return out;
    } else out = `${out}, ${raw[i + 1]}`;
  }
  return out;
}
