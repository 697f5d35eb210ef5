/**
 * Platforms as `os/arch[/variant]`, normalized the way containerd normalizes them,
 * so a daemon's "x86_64" and an index's "amd64" compare equal.
 */
import { arch as nodeArch } from "node:process";
import { PullbackError } from "./errors.js";

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant: string | undefined;
}

const ARCH_ALIASES: Readonly<Record<string, string>> = {
  x86_64: "amd64",
  x86: "386",
  i386: "386",
  i686: "386",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  x64: "amd64",
  ia32: "386",
};

/** Lower-case and alias an architecture name: x86_64 → amd64, aarch64 → arm64. */
export function normalizeArchitecture(architecture: string): string {
  const lower = architecture.toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

/** Parse `os/arch[/variant]`; a missing or malformed part is a usage error naming the input. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split("/");
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new PullbackError("usage", `invalid platform "${text}": expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`);
  }
  return { os, architecture: normalizeArchitecture(architecture), variant: variant || undefined };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

/** The platform of the machine pullback runs on. */
export function localPlatform(): Platform {
  return { os: "linux", architecture: normalizeArchitecture(nodeArch), variant: nodeArch === "arm64" ? "v8" : undefined };
}
