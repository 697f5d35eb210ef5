/**
 * Platforms as OCI image indexes name them, normalized and matched the way
 * containerd does, so `--platform linux/arm64` finds an entry written
 * `arm64/v8` and `linux/arm` finds `arm/v7`.
 */
import { PullbackError } from "./errors.js";
import { checkRecord, checkText } from "./validation/checks.js";

/**
 * os/architecture[/variant], normalized.
 *
 * @example
 * const p: Platform = parsePlatform("linux/arm/v7"); // { os: "linux", architecture: "arm", variant: "v7" }
 */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Architecture spellings seen in the wild → the names OCI uses. */
const ARCH_ALIASES: Readonly<Record<string, string>> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  x64: "amd64",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  i386: "386",
  i686: "386",
  ia32: "386",
  ppc64: "ppc64le",
};

/**
 * An architecture as OCI names it: lower case, aliases resolved.
 *
 * @example
 * normalizeArchitecture("x86_64") // → "amd64"
 */
export function normalizeArchitecture(architecture: string): string {
  checkText(architecture, "normalizeArchitecture: architecture", { max: 100 });
  const lower = architecture.toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

/**
 * The canonical form of a platform: lower case, aliases resolved, the implied
 * variant written out (arm64 → v8, arm → v7) and amd64's v1 dropped, as containerd does.
 *
 * @example
 * normalizePlatform({ os: "Linux", architecture: "aarch64" }) // → { os: "linux", architecture: "arm64", variant: "v8" }
 */
export function normalizePlatform(platform: Platform): Platform {
  const os = platform.os.toLowerCase() === "macos" ? "darwin" : platform.os.toLowerCase();
  const rawArch = platform.architecture.toLowerCase();
  const architecture = normalizeArchitecture(rawArch);
  let variant = platform.variant?.toLowerCase() || undefined;
  if (architecture === "arm64" && (variant === undefined || variant === "8")) variant = "v8";
  else if (architecture === "arm" && variant === undefined) variant = rawArch === "armel" ? "v6" : "v7";
  else if (architecture === "arm" && /^\d$/.test(variant ?? "")) variant = `v${variant}`;
  else if (architecture === "amd64" && variant === "v1") variant = undefined;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/**
 * Parse "os/arch[/variant]"; a bad spec is a usage error.
 *
 * @example
 * parsePlatform("linux/arm/v7") // → { os: "linux", architecture: "arm", variant: "v7" }
 */
export function parsePlatform(spec: string): Platform {
  checkText(spec, "parsePlatform: spec", { max: 100 });
  const parts = spec.trim().split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[A-Za-z0-9_.-]+$/.test(part))) {
    throw new PullbackError(
      "usage",
      `Invalid platform ${JSON.stringify(spec)}: expected os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8`,
    );
  }
  const [os = "", architecture = "", variant] = parts;
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/**
 * The platform of this machine, as image indexes name it. Container images are
 * Linux images on every host OS (Docker Desktop runs them in a Linux VM).
 *
 * @example
 * localPlatform() // → { os: "linux", architecture: "amd64" } on an x86-64 machine
 */
export function localPlatform(): Platform {
  // The global process: importing node:process builds its ESM namespace (~5 ms at start-up).
  const nodeArch = process.arch;
  const armVersion = (process.config.variables as Record<string, unknown>)["arm_version"];
  const variant = nodeArch === "arm" && typeof armVersion === "string" ? `v${armVersion}` : undefined;
  return normalizePlatform(
    variant === undefined ? { os: "linux", architecture: nodeArch } : { os: "linux", architecture: nodeArch, variant },
  );
}

/**
 * "linux/arm64/v8".
 *
 * @example
 * formatPlatform({ os: "linux", architecture: "amd64" }) // → "linux/amd64"
 */
export function formatPlatform(platform: Platform): string {
  checkPlatformObject(platform);
  return [platform.os, platform.architecture, platform.variant].filter((part) => part !== undefined).join("/");
}

/** Variants a machine of this variant also runs, best first (containerd's compatibility order). */
const COMPATIBLE_VARIANTS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  arm: { v8: ["v8", "v7", "v6", "v5"], v7: ["v7", "v6", "v5"], v6: ["v6", "v5"], v5: ["v5"] },
  amd64: { v4: ["v4", "v3", "v2", ""], v3: ["v3", "v2", ""], v2: ["v2", ""] },
};

/**
 * How well `candidate` suits `wanted`: 0 is an exact match, higher is a compatible
 * older variant, undefined is no match. Both are normalized first.
 *
 * @example
 * platformRank(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v6" }) // → 1
 */
export function platformRank(wanted: Platform, candidate: Platform): number | undefined {
  const want = normalizePlatform(wanted);
  const have = normalizePlatform(candidate);
  if (want.os !== have.os || want.architecture !== have.architecture) return undefined;
  const order = COMPATIBLE_VARIANTS[want.architecture]?.[want.variant ?? ""] ?? [want.variant ?? ""];
  const rank = order.indexOf(have.variant ?? "");
  return rank === -1 ? undefined : rank;
}

/** formatPlatform(platform) */
function checkPlatformObject(value: unknown): void {
  const platform = checkRecord(value, "formatPlatform: platform");
  checkText(platform.os, "formatPlatform: platform.os", { max: 100 });
  checkText(platform.architecture, "formatPlatform: platform.architecture", { max: 100 });
  checkText(platform.variant, "formatPlatform: platform.variant", { optional: true, max: 100 });
}
