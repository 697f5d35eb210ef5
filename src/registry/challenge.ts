/**
 * `WWW-Authenticate` parsing (RFC 7235), tolerant of what real registries send.
 *
 * A hand-written scanner rather than a regex: one pass over the input, so a
 * hostile header cannot make it backtrack, and it never throws — garbage is
 * skipped and whatever parsed is returned.
 */

/** One authentication challenge: `Bearer realm="…",service="…"`. */
export interface Challenge {
  /** The scheme in lower case: "bearer", "basic", … */
  readonly scheme: string;
  /** Parameters with lower-case names; values unquoted and unescaped. */
  readonly params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), when the challenge carries one instead of parameters. */
  readonly token68?: string;
}

// RFC 7230 tchar: the characters a scheme or parameter name may contain.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
// RFC 7235 token68 characters, before its trailing "="s.
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): string {
    return this.text.charAt(this.pos);
  }
  skipSpaces(): void {
    while (!this.done && (this.peek() === " " || this.peek() === "\t")) this.pos++;
  }
  skipSeparators(): void {
    while (!this.done && /[\s,]/.test(this.peek())) this.pos++;
  }
  take(pattern: RegExp): string {
    const start = this.pos;
    while (!this.done && pattern.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** A quoted-string, the opening quote under the cursor; an unterminated one runs to the end. */
  quoted(): string {
    this.pos++;
    let value = "";
    while (!this.done) {
      const char = this.peek();
      this.pos++;
      if (char === '"') return value;
      if (char === "\\" && !this.done) {
        value += this.peek();
        this.pos++;
      } else {
        value += char;
      }
    }
    return value;
  }
  /** An unquoted value: lenient, up to the next comma or space (gcr.io sends `service=gcr.io`). */
  bare(): string {
    return this.take(/[^\s,]/);
  }
}

/**
 * Parse one or several `WWW-Authenticate` header values into challenges, in order.
 *
 * @example
 * parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"')
 * // → [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" } }]
 */
export function parseWwwAuthenticate(headerValues: string | readonly string[] | undefined): Challenge[] {
  if (headerValues === undefined) return [];
  const values = typeof headerValues === "string" ? [headerValues] : headerValues;
  return values.flatMap((value) => (typeof value === "string" ? parseOneHeader(value) : []));
}

function parseOneHeader(text: string): Challenge[] {
  const scanner = new Scanner(text);
  const challenges: Challenge[] = [];
  let pendingScheme: string | undefined;
  while (true) {
    if (pendingScheme === undefined) {
      scanner.skipSeparators();
      if (scanner.done) break;
    }
    const scheme = pendingScheme ?? scanner.take(TCHAR);
    pendingScheme = undefined;
    if (scheme === "") {
      scanner.pos++; // garbage character: skip it and look for the next challenge
      continue;
    }
    scanner.skipSpaces();
    const token68 = readToken68(scanner);
    if (token68 !== undefined) {
      challenges.push({ scheme: scheme.toLowerCase(), params: Object.create(null) as Record<string, string>, token68 });
      continue;
    }
    // No prototype: a parameter named "constructor" or "__proto__" is just a parameter.
    const params = Object.create(null) as Record<string, string>;
    pendingScheme = readParams(scanner, params);
    challenges.push({ scheme: scheme.toLowerCase(), params });
  }
  return challenges;
}

/** A token68 when one stands alone after the scheme; otherwise the cursor is left untouched. */
function readToken68(scanner: Scanner): string | undefined {
  const start = scanner.pos;
  const body = scanner.take(TOKEN68);
  const padding = scanner.take(/=/);
  scanner.skipSpaces();
  if (body !== "" && (scanner.done || scanner.peek() === ",")) return body + padding;
  scanner.pos = start;
  return undefined;
}

/**
 * Read `name=value` pairs into `params` until the end or the next challenge.
 * Returns the scheme of the next challenge when one was consumed while looking for a name.
 */
function readParams(scanner: Scanner, params: Record<string, string>): string | undefined {
  while (true) {
    scanner.skipSeparators();
    if (scanner.done) return undefined;
    const name = scanner.take(TCHAR);
    if (name === "") {
      scanner.pos++; // garbage where a name should be
      continue;
    }
    scanner.skipSpaces();
    if (scanner.peek() !== "=") return name; // a token without "=": the next challenge's scheme
    scanner.pos++;
    scanner.skipSpaces();
    const value = scanner.peek() === '"' ? scanner.quoted() : scanner.bare();
    const key = name.toLowerCase();
    // Duplicate names are invalid; the first one wins, so a later one cannot override the realm.
    if (!Object.hasOwn(params, key)) params[key] = value;
  }
}

/** The first challenge of `scheme` (case-insensitive), if any. */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  const wanted = scheme.toLowerCase();
  return challenges.find((challenge) => challenge.scheme === wanted);
}
