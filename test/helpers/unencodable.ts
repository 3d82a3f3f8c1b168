/**
 * Values that break JSON on one side or the other: nesting deeper than any
 * limit (as wire text, and as a value built without recursion) and a
 * circular object.
 */

/** JSON text of an array `n` levels deep. */
export const deepArray = (n: number): string => "[".repeat(n) + "]".repeat(n);

/** JSON text of an object `n` levels deep. */
export const deepObject = (n: number): string => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;

/** A value `n` arrays deep, built without recursion. */
export function nested(n: number): unknown[] {
  let value: unknown[] = [];
  for (let i = 1; i < n; i++) value = [value];
  return value;
}

/** An object that contains itself. */
export function circular(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: "loop" };
  value.self = value;
  return value;
}
