/**
 * What a caller passed, in words, for usage errors — without the value itself
 * where it may be a secret, and never longer than a line.
 */

const MAX_SHOWN = 40;

/**
 * A short, secret-free description of `value`. With `secret`, a string is described by its length only.
 *
 * @example
 * describeValue(42)                      // "the number 42"
 * describeValue("hunter2", { secret: true }) // "a string of 7 characters"
 * describeValue({ kind: "oci" })         // "an object with keys kind"
 */
export function describeValue(value: unknown, options: { readonly secret?: boolean } = {}): string {
  if (value === undefined || value === null) return String(value);
  switch (typeof value) {
    case "string":
      if (options.secret) return `a string of ${value.length} characters`;
      if (value === "") return "an empty string";
      return value.length > MAX_SHOWN
        ? `a string of ${value.length} characters starting ${JSON.stringify(value.slice(0, MAX_SHOWN))}`
        : `the string ${JSON.stringify(value)}`;
    case "number":
    case "boolean":
      return options.secret ? `a ${typeof value}` : `the ${typeof value} ${String(value)}`;
    case "bigint":
      return "a bigint";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
    default:
      return describeObject(value);
  }
}

function describeObject(value: object): string {
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  let keys: string[];
  try {
    keys = Object.keys(value);
  } catch {
    return "an object";
  }
  if (keys.length === 0) return "an empty object";
  const shown = keys.slice(0, 5).map((key) => (key.length > 20 ? `${key.slice(0, 20)}…` : key));
  return `an object with keys ${shown.join(", ")}${keys.length > 5 ? ", …" : ""}`;
}
