/**
 * Text that reaches a person (messages, diagnoses, events, `--json`): redacted
 * and shortened in one place, with one limit, so no path shows more of a
 * registry's body — or less of a secret's absence — than another.
 */

/** The longest piece of foreign text (a registry's or daemon's words) pullback repeats. */
export const TEXT_LIMIT = 300;

/**
 * `text` cut to `limit` characters, with "…" when something was cut.
 *
 * @example
 * shorten("x".repeat(400)).length // → 301
 */
export function shorten(text: string, limit: number = TEXT_LIMIT): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/**
 * One line of plain text from anything a server sent: no HTML tags, no control
 * characters, whitespace collapsed, shortened.
 *
 * @example
 * oneLine("<h1>502 Bad Gateway</h1>\n") // → "502 Bad Gateway"
 */
export function oneLine(text: string, limit: number = TEXT_LIMIT): string {
  const flat = text
    .replace(/<[^>]{0,200}>/g, " ")
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return shorten(flat, limit);
}

/**
 * A URL as it may appear in a message or log: no `user:pass@`, and the values of
 * query parameters that carry secrets replaced (some token services accept them).
 *
 * @example
 * redactUrl("https://bob:pw@r.example/v2/?token=abc") // → "https://***@r.example/v2/?token=***"
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return String(url).replace(/\/\/[^/@\s]*@/, "//***@");
  }
  if (parsed.username || parsed.password) {
    parsed.username = "***";
    parsed.password = "";
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (/token|password|secret|signature|sig|credential|auth/i.test(key)) parsed.searchParams.set(key, "***");
  }
  return parsed.toString();
}

/**
 * Foreign text with every URL redacted and bearer/basic credentials masked.
 *
 * @example
 * redactText("GET https://u:p@r/v2/: Bearer abcdefgh123") // → "GET https://***@r/v2/: Bearer ***"
 */
export function redactText(text: string): string {
  return text
    .replace(/\b(https?:\/\/[^\s"]+)/g, (url) => redactUrl(url))
    .replace(/\b(bearer)\s+[\w.~+/=-]{8,}/gi, "$1 ***")
    .replace(/\b(basic)\s+[A-Za-z0-9+/]{8,}={0,2}/gi, "$1 ***")
    .trim();
}

/**
 * Foreign text as pullback repeats it: redacted, one line, shortened to the one limit.
 *
 * @example
 * userText(daemonMessage) // safe to print, log and put into `--json`
 */
export function userText(text: string, limit: number = TEXT_LIMIT): string {
  return oneLine(redactText(text), limit);
}
