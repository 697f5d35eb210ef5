import { decodePayload } from "./jwt.js";
import type { FaultRule } from "./types.js";

/** True when the request carries a Bearer token for a non-anonymous subject. */
export function isAuthenticated(authorization: string | undefined): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (match?.[1] === undefined) return false;
  const sub = decodePayload(match[1])?.sub;
  return typeof sub === "string" && sub !== "";
}

/** Throws on a rule a test got wrong, so it fails at setFaults and not as a mystery later. */
export function validateRules(value: unknown): FaultRule[] {
  const rules = Array.isArray(value) ? value : (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new Error("expected an array of fault rules or { rules: [...] }");
  for (const rule of rules as FaultRule[]) {
    if (typeof rule !== "object" || rule === null || typeof rule.match !== "object" || typeof rule.action !== "object") {
      throw new Error("each fault rule needs { match, action }");
    }
    if (!["respond", "reset", "delay", "corrupt", "redirect", "throttle"].includes(rule.action.type))
      throw new Error(`unknown fault action ${String(rule.action.type)}`);
    if (rule.match.path !== undefined) new RegExp(rule.match.path);
  }
  return rules as FaultRule[];
}

/** A rule with how often it may still fire. */
export interface ArmedRule {
  readonly rule: FaultRule;
  remaining: number;
}

/**
 * The first armed rule matching the request; consumes one firing.
 *
 * @example
 * const hit = takeMatch(rules, { method: "GET", path: "/v2/", authenticated: false });
 */
export function takeMatch(
  rules: readonly ArmedRule[],
  request: { method: string; path: string; authenticated: boolean },
): { rule: FaultRule; index: number } | null {
  for (const [index, armed] of rules.entries()) {
    const { match } = armed.rule;
    if (armed.remaining <= 0) continue;
    if (match.method !== undefined && match.method.toUpperCase() !== request.method.toUpperCase()) continue;
    if (match.path !== undefined && !new RegExp(match.path).test(request.path)) continue;
    if (match.authenticated !== undefined && match.authenticated !== request.authenticated) continue;
    armed.remaining--;
    return { rule: armed.rule, index };
  }
  return null;
}
