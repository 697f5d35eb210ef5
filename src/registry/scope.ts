/**
 * Token scopes (distribution's token-auth spec): `repository:NAME:ACTIONS`.
 */

export type ScopeAction = "pull" | "push" | "delete" | "*";

/**
 * The scope for actions on a repository. The name is the repository path only,
 * never the registry host: `127.0.0.1:5000/team/app` asks for `repository:team/app:pull`.
 *
 * @example
 * repositoryScope("library/alpine") // → "repository:library/alpine:pull"
 */
export function repositoryScope(repository: string, actions: readonly ScopeAction[] = ["pull"]): string {
  return `repository:${repository}:${[...new Set(actions)].join(",")}`;
}

export interface ParsedScope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/**
 * Split a scope into type, name and actions. The name may itself contain colons
 * (a name with a `host:port` prefix), so type ends at the first colon and
 * actions start after the last one.
 *
 * @example
 * parseScope("repository:localhost:5000/app:pull,push") // → { type: "repository", name: "localhost:5000/app", actions: ["pull", "push"] }
 */
export function parseScope(scope: string): ParsedScope | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((action) => action !== "");
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

/** Scopes merged by (type, name), actions united, in a stable order — one token request, one cache key. */
export function mergeScopes(scopes: readonly string[]): string[] {
  const merged = new Map<string, Set<string>>();
  const opaque = new Set<string>();
  for (const scope of scopes) {
    const parsed = parseScope(scope);
    if (!parsed) {
      opaque.add(scope);
      continue;
    }
    const key = `${parsed.type}:${parsed.name}`;
    const actions = merged.get(key) ?? new Set<string>();
    parsed.actions.forEach((action) => actions.add(action));
    merged.set(key, actions);
  }
  const built = [...merged].map(([key, actions]) => `${key}:${[...actions].sort().join(",")}`);
  return [...built, ...opaque].sort();
}
