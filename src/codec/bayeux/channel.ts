/**
 * Channel names and channel patterns, from the grammar of the Bayeux 1.0
 * specification (section 2.2, "Channels"):
 *
 * ```
 * channel_name     = "/" channel_segments
 * channel_segments = channel_segment *( "/" channel_segment )
 * channel_segment  = token
 * channel_pattern  = *( "/" channel_segment ) "/" wild_card
 * wild_card        = "*" | "**"
 * token            = 1*( alpha | digit | mark )
 * mark             = "-" | "_" | "!" | "~" | "(" | ")" | "$" | "@"
 * ```
 *
 * `*` matches exactly one segment, `**` one or more segments (section 2.2.1).
 * Channels under `/meta/` are the protocol's own; `/service/` channels are
 * addressed to the server and never broadcast (section 2.2.2, 2.2.3).
 */

const SEGMENT = "[A-Za-z0-9\\-_!~()$@]+";
const CHANNEL_NAME = new RegExp(`^(?:/${SEGMENT})+$`);
const CHANNEL_PATTERN = new RegExp(`^(?:/${SEGMENT})*/\\*{1,2}$`);

/** Longest channel accepted, in characters; longer names are refused as invalid. */
export const MAX_CHANNEL_LENGTH = 1024;

/**
 * Whether `channel` is a concrete channel name (no wildcard).
 *
 * @example
 * isChannelName("/chat/demo"); // true
 * isChannelName("/chat/*"); // false
 */
export function isChannelName(channel: unknown): channel is string {
  return (
    typeof channel === "string" &&
    channel.length <= MAX_CHANNEL_LENGTH &&
    CHANNEL_NAME.test(channel)
  );
}

/**
 * Whether `channel` is a wildcard pattern (`/a/*`, `/a/**`, `/**`).
 *
 * @example
 * isChannelPattern("/chat/**"); // true
 */
export function isChannelPattern(channel: unknown): channel is string {
  return (
    typeof channel === "string" &&
    channel.length <= MAX_CHANNEL_LENGTH &&
    CHANNEL_PATTERN.test(channel)
  );
}

/** Whether `channel` is a name or a pattern: what a subscription may name. */
export function isSubscribable(channel: unknown): channel is string {
  return isChannelName(channel) || isChannelPattern(channel);
}

/** Whether `channel` is `/meta` or lies under it. */
export function isMetaChannel(channel: string): boolean {
  return channel === "/meta" || channel.startsWith("/meta/");
}

/** Whether `channel` is `/service` or lies under it. */
export function isServiceChannel(channel: string): boolean {
  return channel === "/service" || channel.startsWith("/service/");
}

/**
 * The wildcard patterns that match a concrete channel, most specific first:
 * for `/a/b/c` they are `/a/b/*`, `/a/b/**`, `/a/**`, `/**`. A router keeps
 * wildcard subscriptions under their pattern and looks these up on publish,
 * so matching costs one lookup per segment instead of a scan of all patterns.
 *
 * @example
 * wildcardPatterns("/a/b"); // ["/a/*", "/a/**", "/**"]
 */
export function wildcardPatterns(channel: string): string[] {
  const out: string[] = [];
  let end = channel.lastIndexOf("/");
  if (end < 0) return out;
  const parent = channel.slice(0, end);
  out.push(`${parent}/*`, `${parent}/**`);
  while (end > 0) {
    end = channel.lastIndexOf("/", end - 1);
    out.push(`${channel.slice(0, end)}/**`);
  }
  return out;
}

/**
 * Whether the pattern (or name) `pattern` matches the concrete `channel`.
 *
 * @example
 * channelMatches("/a/*", "/a/b"); // true
 * channelMatches("/a/*", "/a/b/c"); // false
 * channelMatches("/a/**", "/a/b/c"); // true
 */
export function channelMatches(pattern: string, channel: string): boolean {
  if (pattern.endsWith("/**")) {
    const prefix = pattern.slice(0, -2);
    return channel.length > prefix.length && channel.startsWith(prefix);
  }
  if (pattern.endsWith("/*")) {
    const prefix = pattern.slice(0, -1);
    return (
      channel.length > prefix.length &&
      channel.startsWith(prefix) &&
      channel.indexOf("/", prefix.length) === -1
    );
  }
  return pattern === channel;
}
