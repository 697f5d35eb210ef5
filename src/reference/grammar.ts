/**
 * Hand-written scanners for the distribution/reference grammar.
 *
 * Each scanner walks its part of the input once (linear time, no regex
 * backtracking) and returns `undefined` when the part is valid, or a sentence
 * saying what is wrong and where. Positions are 1-based indexes into the
 * original input: callers pass `offset`, the 0-based index where the part starts.
 */

/** The longest tag the grammar allows: `[\w][\w.-]{0,127}`. */
export const MAX_TAG_LENGTH = 128;

/** TCP ports a registry can listen on. */
export const MIN_PORT = 1;
export const MAX_PORT = 65535;

/** Digest algorithms whose encoded length is fixed (go-digest's registered algorithms). */
const KNOWN_DIGEST_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** Unregistered algorithms follow the generic grammar: at least 32 hex characters. */
const MIN_GENERIC_DIGEST_LENGTH = 32;

const isDigit = (c: string): boolean => c >= "0" && c <= "9";
const isLower = (c: string): boolean => c >= "a" && c <= "z";
const isUpper = (c: string): boolean => c >= "A" && c <= "Z";
const isLowerAlnum = (c: string): boolean => isLower(c) || isDigit(c);
const isAlnum = (c: string): boolean => isLowerAlnum(c) || isUpper(c);
const isWord = (c: string): boolean => isAlnum(c) || c === "_";
const isHex = (c: string): boolean => isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
const isLowerHex = (c: string): boolean => isDigit(c) || (c >= "a" && c <= "f");

/** A character as a message shows it: printable ASCII quoted, anything else as a code point. */
export function showChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code > 0x20 && code < 0x7f ? `'${c}'` : `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** "uppercase letter 'N'" or "invalid character ' '", for a character that broke a rule. */
function describeBadChar(c: string, where: string, position: number): string {
  const what = isUpper(c) ? "uppercase letter" : "invalid character";
  return `${what} ${showChar(c)} at position ${position} in ${where}`;
}

/**
 * The repository path: `/`-separated components of lowercase alphanumerics
 * joined by one of the separators `.`, `_`, `__` or a run of `-`.
 */
export function scanPath(path: string, offset: number): string | undefined {
  if (path === "") return `empty repository path at position ${offset + 1}`;
  let start = 0;
  for (;;) {
    const slash = path.indexOf("/", start);
    const end = slash < 0 ? path.length : slash;
    if (end === start) return `empty path component at position ${offset + start + 1}`;
    const problem = scanPathComponent(path.slice(start, end), offset + start);
    if (problem !== undefined) return problem;
    if (slash < 0) return undefined;
    start = slash + 1;
  }
}

function scanPathComponent(component: string, offset: number): string | undefined {
  const where = "repository path";
  let i = 0;
  while (i < component.length) {
    const c = component.charAt(i);
    if (!isLowerAlnum(c)) {
      if (!isSeparatorChar(c)) return describeBadChar(c, where, offset + i + 1);
      if (i === 0) return `path component starts with separator ${showChar(c)} at position ${offset + 1}`;
      const sepStart = i;
      while (i < component.length && isSeparatorChar(component.charAt(i))) i++;
      const separator = component.slice(sepStart, i);
      if (!isValidSeparator(separator)) {
        const shown = separator.length > 8 ? `${separator.slice(0, 8)}…` : separator;
        return `invalid separator '${shown}' at position ${offset + sepStart + 1} in ${where} (allowed: '.', '_', '__' or dashes)`;
      }
      if (i === component.length) {
        return `path component ends with separator ${showChar(c)} at position ${offset + i}`;
      }
      continue;
    }
    i++;
  }
  return undefined;
}

const isSeparatorChar = (c: string): boolean => c === "." || c === "_" || c === "-";

function isValidSeparator(separator: string): boolean {
  if (separator === "." || separator === "_" || separator === "__") return true;
  for (const c of separator) if (c !== "-") return false;
  return true;
}

/**
 * The registry: a DNS-like host (components of letters, digits and inner
 * dashes, joined by dots; IPv4 fits this) or a bracketed IPv6 address,
 * optionally followed by `:port`.
 */
export function scanDomain(domain: string, offset: number): string | undefined {
  let portStart: number;
  if (domain.startsWith("[")) {
    const close = domain.indexOf("]");
    if (close < 0) return `unclosed '[' at position ${offset + 1} in registry host`;
    if (close === 1) return `empty IPv6 address at position ${offset + 1} in registry host`;
    for (let i = 1; i < close; i++) {
      const c = domain.charAt(i);
      if (!isHex(c) && c !== ":") return `invalid character ${showChar(c)} at position ${offset + i + 1} in IPv6 registry host`;
    }
    portStart = close + 1;
    if (portStart < domain.length && domain.charAt(portStart) !== ":") {
      return `invalid character ${showChar(domain.charAt(portStart))} at position ${offset + portStart + 1} after IPv6 registry host`;
    }
  } else {
    const colon = domain.indexOf(":");
    portStart = colon < 0 ? domain.length : colon;
    const problem = scanHostName(domain.slice(0, portStart), offset);
    if (problem !== undefined) return problem;
  }
  return portStart < domain.length ? scanPort(domain.slice(portStart + 1), offset + portStart + 1) : undefined;
}

function scanHostName(host: string, offset: number): string | undefined {
  let start = 0;
  for (;;) {
    const dot = host.indexOf(".", start);
    const end = dot < 0 ? host.length : dot;
    if (end === start) return `empty registry host component at position ${offset + start + 1}`;
    for (let i = start; i < end; i++) {
      const c = host.charAt(i);
      if (!isAlnum(c) && c !== "-") return `invalid character ${showChar(c)} at position ${offset + i + 1} in registry host`;
    }
    if (host.charAt(start) === "-") return `registry host component starts with '-' at position ${offset + start + 1}`;
    if (host.charAt(end - 1) === "-") return `registry host component ends with '-' at position ${offset + end}`;
    if (dot < 0) return undefined;
    start = dot + 1;
  }
}

function scanPort(port: string, offset: number): string | undefined {
  if (port === "") return `empty port after ':' at position ${offset} in registry`;
  for (let i = 0; i < port.length; i++) {
    const c = port.charAt(i);
    if (!isDigit(c)) return `invalid character ${showChar(c)} at position ${offset + i + 1} in registry port (digits only)`;
  }
  // The grammar allows any digits; a connection does not. Port 0 would silently become the scheme's default.
  const value = Number(port);
  if (value < MIN_PORT || value > MAX_PORT) {
    return `port ${port} at position ${offset + 1} in registry is out of range (valid ports are ${MIN_PORT}–${MAX_PORT})`;
  }
  return undefined;
}

/** The tag: `[\w][\w.-]{0,127}`. */
export function scanTag(tag: string, offset: number): string | undefined {
  if (tag === "") return `empty tag after ':' at position ${offset}`;
  if (tag.length > MAX_TAG_LENGTH) return `tag longer than ${MAX_TAG_LENGTH} characters (got ${tag.length})`;
  const first = tag.charAt(0);
  if (!isWord(first)) {
    return `tag starts with ${showChar(first)} at position ${offset + 1} (a tag starts with a letter, digit or '_')`;
  }
  for (let i = 1; i < tag.length; i++) {
    const c = tag.charAt(i);
    if (!isWord(c) && c !== "." && c !== "-") return `invalid character ${showChar(c)} at position ${offset + i + 1} in tag`;
  }
  return undefined;
}

/**
 * The digest: `algorithm:encoded`. The registered algorithms must carry exactly
 * their length of lowercase hex (sha256: 64); others follow the generic grammar
 * (`[A-Za-z][A-Za-z0-9]*` components joined by `-_+.`, then 32+ hex characters).
 */
export function scanDigest(digest: string, offset: number): string | undefined {
  if (digest === "") return `empty digest after '@' at position ${offset}`;
  const secondAt = digest.indexOf("@");
  if (secondAt >= 0) return `invalid character '@' at position ${offset + secondAt + 1} in digest (only one '@' allowed)`;
  const colon = digest.indexOf(":");
  if (colon < 0) return `digest has no ':' between algorithm and hex (expected e.g. sha256:<64 hex>) at position ${offset + 1}`;
  const algorithmProblem = scanAlgorithm(digest.slice(0, colon), offset);
  if (algorithmProblem !== undefined) return algorithmProblem;
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const encodedOffset = offset + colon + 1;
  const expected = KNOWN_DIGEST_LENGTHS[algorithm];
  if (expected !== undefined && encoded.length !== expected) {
    return `digest ${algorithm} must have ${expected} hex characters, got ${encoded.length}`;
  }
  if (expected === undefined && encoded.length < MIN_GENERIC_DIGEST_LENGTH) {
    return `digest ${algorithm} must have at least ${MIN_GENERIC_DIGEST_LENGTH} hex characters, got ${encoded.length}`;
  }
  const valid = expected === undefined ? isHex : isLowerHex;
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charAt(i);
    if (!valid(c)) {
      const rule = expected === undefined ? "hex" : "lowercase hex";
      return `invalid character ${showChar(c)} at position ${encodedOffset + i + 1} in digest (${rule} only)`;
    }
  }
  return undefined;
}

function scanAlgorithm(algorithm: string, offset: number): string | undefined {
  if (algorithm === "") return `empty digest algorithm at position ${offset + 1}`;
  let componentStart = true;
  for (let i = 0; i < algorithm.length; i++) {
    const c = algorithm.charAt(i);
    const position = offset + i + 1;
    if (componentStart) {
      if (!isLower(c) && !isUpper(c))
        return `digest algorithm component must start with a letter, found ${showChar(c)} at position ${position}`;
      componentStart = false;
    } else if (c === "-" || c === "_" || c === "+" || c === ".") {
      componentStart = true;
    } else if (!isAlnum(c)) {
      return `invalid character ${showChar(c)} at position ${position} in digest algorithm`;
    }
  }
  return componentStart ? `digest algorithm ends with a separator at position ${offset + algorithm.length}` : undefined;
}
