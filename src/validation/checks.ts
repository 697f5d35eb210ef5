/**
 * The building blocks of input validation: each check takes an unknown value and
 * the name the caller knows it by, and returns it typed or throws a usage error
 * that says what was given and what is expected.
 */
import { PullbackError } from "../errors.js";
import { describeValue } from "./describe-value.js";

/** Longer than any path, host or reference a caller means (PATH_MAX is 4096). */
export const MAX_TEXT = 4096;

/**
 * The usage error of one argument or option.
 *
 * @example
 * throw invalid("pullImage: options.to", 42, "a destination");
 */
export function invalid(name: string, value: unknown, expected: string, options: { readonly secret?: boolean } = {}): PullbackError {
  return new PullbackError("usage", `${name} must be ${expected}, not ${describeValue(value, options)}`);
}

export interface TextRules {
  readonly optional?: boolean;
  readonly secret?: boolean;
  /** Default true: an empty string is refused. */
  readonly nonEmpty?: boolean;
  readonly max?: number;
}

export function checkText(value: unknown, name: string, rules: TextRules & { readonly optional: true }): string | undefined;
export function checkText(value: unknown, name: string, rules?: TextRules): string;
export function checkText(value: unknown, name: string, rules: TextRules = {}): string | undefined {
  if (value === undefined && rules.optional) return undefined;
  const max = rules.max ?? MAX_TEXT;
  const expected = `a ${rules.nonEmpty === false ? "" : "non-empty "}string of at most ${max} characters`;
  const secret = rules.secret === true ? { secret: true } : {};
  if (typeof value !== "string") throw invalid(name, value, expected, secret);
  if ((rules.nonEmpty !== false && value === "") || value.length > max) throw invalid(name, value, expected, secret);
  // A NUL makes Node's fs throw a bare TypeError; a secret's own rules (Credential) say what is wrong with it.
  if (rules.secret !== true && value.includes("\0")) throw invalid(name, value, `${expected}, without NUL`);
  return value;
}

export function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw invalid(name, value, "true, false or absent");
}

export function checkInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  throw invalid(name, value, `an integer from ${min} to ${max}, or absent`);
}

export function checkFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== "function") throw invalid(name, value, "a function or absent");
}

/** A plain options object (or absent when `optional`): its fields are read by name, extra ones ignored. */
export function checkRecord(value: unknown, name: string, optional = false): Readonly<Record<string, unknown>> {
  if (value === undefined && optional) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(name, value, optional ? "an options object or absent" : "an object");
  }
  return value as Readonly<Record<string, unknown>>;
}

/** An environment: an object whose values are strings (or undefined). The values are not shown: they may be secrets. */
export function checkEnvironment(value: unknown, name: string): void {
  if (value === undefined) return;
  const env = checkRecord(value, name);
  for (const key of Object.keys(env)) {
    if (env[key] !== undefined && typeof env[key] !== "string") throw invalid(`${name}.${key}`, env[key], "a string", { secret: true });
  }
}

export function checkTextList(value: unknown, name: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw invalid(name, value, "an array of strings or absent");
  value.forEach((item, index) => checkText(item, `${name}[${index}]`));
}

/** An AbortSignal (from an AbortController or AbortSignal.timeout) or absent. */
export function checkSignal(value: unknown, name: string): void {
  if (value !== undefined && !(value instanceof AbortSignal)) throw invalid(name, value, "an AbortSignal or absent");
}

/** An AbortSignal (from an AbortController or AbortSignal.timeout) or absent, returned. */
export function checkAbortSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw invalid(name, value, "an AbortSignal or absent");
}
