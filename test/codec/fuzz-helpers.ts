/**
 * The shared part of the decoder fuzz tests: a seeded PRNG, generators of
 * hostile input (random bytes, mutations of valid wire vectors, deep nesting,
 * huge numbers, prototype keys, lone surrogates, invalid UTF-8), and a loop
 * that runs for a time budget and names the seed of a failing case.
 *
 * FUZZ_MS sets the budget per fuzz loop (default 1500 ms); FUZZ_SEED replays
 * one case (the seed a failure printed) instead of random ones.
 */
import { readFileSync } from "node:fs";

export const FUZZ_MS = Number(process.env.FUZZ_MS ?? 1500);

/** mulberry32: small, fast, and good enough to drive a fuzzer. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/**
 * Runs `body` with a fresh PRNG per case until `budget` ms have passed (at
 * least `minCases` cases). A case that throws fails the test with its seed;
 * `FUZZ_SEED=<seed>` replays exactly that case. Returns the number of cases.
 */
export function fuzz(body: (rng: Prng) => void, budget = FUZZ_MS, minCases = 50): number {
  const fixed = process.env.FUZZ_SEED;
  if (fixed !== undefined) {
    runCase(body, Number(fixed));
    return 1;
  }
  const deadline = Date.now() + budget;
  let base = (Math.random() * 2 ** 32) >>> 0;
  let cases = 0;
  while (cases < minCases || Date.now() < deadline) {
    base = (base + 1) >>> 0;
    runCase(body, base);
    cases++;
  }
  return cases;
}

/** {@link fuzz} for a body that must let the event loop run between cases. */
export async function fuzzAsync(
  body: (rng: Prng) => Promise<void>,
  budget = FUZZ_MS,
  minCases = 50,
): Promise<number> {
  const fixed = process.env.FUZZ_SEED;
  const deadline = Date.now() + budget;
  let seed = fixed === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(fixed) - 1;
  let cases = 0;
  while (fixed === undefined ? cases < minCases || Date.now() < deadline : cases < 1) {
    seed = (seed + 1) >>> 0;
    try {
      await body(new Prng(seed));
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      throw new Error(`fuzz case failed; replay with FUZZ_SEED=${seed}: ${message}`, {
        cause: err,
      });
    }
    cases++;
  }
  return cases;
}

function runCase(body: (rng: Prng) => void, seed: number): void {
  try {
    body(new Prng(seed));
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    throw new Error(`fuzz case failed; replay with FUZZ_SEED=${seed}: ${message}`, {
      cause: err,
    });
  }
}

/** Characters that matter to the wire formats, and some that break text. */
const ALPHABET = [
  ...'[]{}",:0123456789-+.eE/\\tfnrulasbx_ ',
  "\x1e",
  "\x00",
  "\x1f",
  "\u2028",
  "€",
  "😀",
  "\ud800",
  "\udfff",
];

/** Fragments that probe limits and type checks. */
const FRAGMENTS = [
  "1e999999",
  "-1e999999",
  "99999999999999999999999",
  "1.7976931348623157e309",
  "-0",
  "NaN",
  "null",
  "true",
  '"__proto__"',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '"\\u005f_proto__"',
  '{"_placeholder":true,"num":0}',
  '{"_placeholder":true,"num":99}',
  '{"_placeholder":true,"num":-1}',
  '{"_placeholder":true,"num":"0"}',
  '{"_placeholder":true,"num":0.5}',
  '"\\ud800"',
  '"\\"',
  "\\",
  "[".repeat(70),
  "]".repeat(70),
  "{".repeat(70),
  '{"a":'.repeat(70),
];

export function randomText(rng: Prng, max = 40): string {
  let out = "";
  const length = rng.int(max);
  for (let i = 0; i < length; i++) {
    out += rng.bool(0.1) ? rng.pick(FRAGMENTS) : rng.pick(ALPHABET);
  }
  return out;
}

export function randomBytes(rng: Prng, max = 64): Buffer {
  const out = Buffer.alloc(rng.int(max));
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

/** Bytes that are not valid UTF-8 (stray continuation, overlong, surrogate, truncated). */
export function invalidUtf8(rng: Prng): Buffer {
  return rng.pick([
    Buffer.from([0x80]),
    Buffer.from([0xc0, 0xaf]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xe2, 0x82]),
    Buffer.from([0xff, 0xfe]),
    Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  ]);
}

/** `[[…]]` or `{"a":{"a":…}}` `depth` levels deep, as text. */
export function deepJson(depth: number, object: boolean, inner = "1"): string {
  return object
    ? `${'{"a":'.repeat(depth)}${inner}${"}".repeat(depth)}`
    : `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
}

/** A mutation of `text`: chars inserted, dropped, duplicated, replaced, cut off. */
export function mutate(rng: Prng, text: string): string {
  let out = text;
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(8)) {
      case 0:
        out = out.slice(0, at) + rng.pick(ALPHABET) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + rng.int(4));
        break;
      case 2: {
        const end = at + rng.int(20);
        out = out.slice(0, end) + out.slice(at, end) + out.slice(end);
        break;
      }
      case 3:
        out = out.slice(0, at) + rng.pick(ALPHABET) + out.slice(at + 1);
        break;
      case 4:
        out = out.slice(0, at);
        break;
      case 5:
        out = out.slice(0, at) + rng.pick(FRAGMENTS) + out.slice(at);
        break;
      case 6:
        out = out.slice(0, at) + deepJson(60 + rng.int(20), rng.bool()) + out.slice(at);
        break;
      default:
        out = out.slice(0, at) + randomText(rng, 8) + out.slice(at);
    }
  }
  return out;
}

/** A random JSON-compatible value: wrong types, prototype keys, odd numbers. */
export function randomValue(rng: Prng, depth = 0): unknown {
  const kind = rng.int(depth > 4 ? 6 : 9);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return rng.pick([0, -1, 1.5, 2 ** 53, -(2 ** 53) - 2, 1e308, Number.MIN_VALUE]);
    case 3:
      return randomText(rng, 10);
    case 4:
      return rng.pick(["", "/", "/meta/connect", "__proto__", "constructor", "x".repeat(300)]);
    case 5:
      return rng.int(1000);
    case 6:
    case 7: {
      const out: unknown[] = [];
      for (let i = rng.int(5); i > 0; i--) out.push(randomValue(rng, depth + 1));
      return out;
    }
    default: {
      const out: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) {
        const key = rng.pick(["a", "channel", "data", "id", "ext", "constructor", "num", "b"]);
        out[key] = randomValue(rng, depth + 1);
      }
      return out;
    }
  }
}

/** Reads a JSON file of test/vectors. */
export function vectors<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), "utf8")) as T;
}

/** Whether anything reached Object.prototype during a fuzz run. */
export function prototypePolluted(): boolean {
  return (
    Object.hasOwn(Object.prototype, "polluted") ||
    ({} as Record<string, unknown>).polluted !== undefined
  );
}
