/**
 * `Retry-After` (RFC 9110 §10.2.3): either delay-seconds or an HTTP date.
 */

/**
 * The delay a `Retry-After` value asks for, in milliseconds, or undefined when
 * it is absent or unreadable. A date in the past means "now" (0).
 *
 * @example
 * parseRetryAfter("120") // → 120000
 * parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", Date.parse("Wed, 21 Oct 2015 07:27:00 GMT")) // → 60000
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (typeof value === "string" ? value : value?.[0])?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only a date with letters in it: Date.parse accepts bare numbers like "-5" as years.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
