import { describe, expect, it } from "vitest";
import { isPullbackError } from "../../../src/errors.js";
import { offeredPlatforms, selectPlatform, type IndexManifest } from "../../../src/targets/oci/manifest.js";
import { OCI_INDEX, OCI_MANIFEST } from "../../../src/targets/oci/media-types.js";
import { formatPlatform, localPlatform, normalizePlatform, parsePlatform, platformRank } from "../../../src/platform.js";

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, "0")}`;

function index(...platforms: string[]): IndexManifest {
  return {
    kind: "index",
    mediaType: OCI_INDEX,
    manifests: platforms.map((spec, i) => {
      const [os = "", architecture = "", variant] = spec.split("/");
      return {
        mediaType: OCI_MANIFEST,
        digest: digest(i + 1),
        size: 100,
        platform: variant === undefined ? { os, architecture } : { os, architecture, variant },
      };
    }),
  };
}

describe("normalizePlatform", () => {
  it.each([
    ["linux/x86_64", "linux/amd64"],
    ["linux/aarch64", "linux/arm64/v8"],
    ["linux/arm64", "linux/arm64/v8"],
    ["linux/arm64/v8", "linux/arm64/v8"],
    ["linux/arm", "linux/arm/v7"],
    ["linux/armhf", "linux/arm/v7"],
    ["linux/armel", "linux/arm/v6"],
    ["linux/amd64/v1", "linux/amd64"],
    ["Linux/AMD64", "linux/amd64"],
    ["linux/i386", "linux/386"],
  ])("%s → %s", (input, expected) => {
    const [os = "", architecture = "", variant] = input.split("/");
    expect(formatPlatform(normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant }))).toBe(expected);
  });

  it("names the local machine as images do", () => {
    const local = localPlatform();
    expect(local.os).toBe("linux");
    expect(["amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64"]).toContain(local.architecture);
  });
});

describe("parsePlatform", () => {
  it.each(["linux", "linux/amd64/v2/extra", "linux//amd64", "", "linux/am d64"])("refuses %j as a usage error", (spec) => {
    expect(() => parsePlatform(spec)).toThrow(expect.objectContaining({ kind: "usage" }));
  });
});

describe("platformRank", () => {
  it.each([
    ["linux/arm64", "linux/arm64/v8", 0],
    ["linux/arm64/v8", "linux/arm64", 0],
    ["linux/arm/v7", "linux/arm/v6", 1],
    ["linux/arm/v6", "linux/arm/v7", undefined],
    ["linux/amd64", "linux/amd64", 0],
    ["linux/amd64/v3", "linux/amd64", 2],
    ["linux/amd64", "linux/amd64/v3", undefined],
    ["linux/amd64", "windows/amd64", undefined],
    ["linux/amd64", "linux/arm64", undefined],
  ])("wanting %s, %s ranks %s", (wanted, candidate, rank) => {
    expect(platformRank(parsePlatform(wanted), parsePlatform(candidate))).toBe(rank);
  });
});

describe("selectPlatform", () => {
  it.each([
    [["linux/amd64", "linux/arm64/v8"], "linux/arm64", 2],
    [["linux/amd64", "linux/arm64"], "linux/aarch64", 2],
    [["linux/amd64", "linux/arm64"], "linux/x86_64", 1],
    [["linux/arm/v6", "linux/arm/v7"], "linux/arm", 2],
    [["linux/arm/v5", "linux/arm/v6"], "linux/arm/v7", 2],
    [["linux/amd64", "linux/amd64/v3"], "linux/amd64", 1],
  ])("from %j picks entry %#'s match for %s", (offered, wanted, entry) => {
    expect(selectPlatform(index(...offered), parsePlatform(wanted), "x:1").digest).toBe(digest(entry));
  });

  it("refuses a missing platform, naming what is offered (attestations left out)", () => {
    const offered = index("linux/amd64", "linux/arm64/v8", "unknown/unknown");
    let caught: unknown;
    try {
      selectPlatform(offered, parsePlatform("linux/s390x"), "public/multi:1");
    } catch (error) {
      caught = error;
    }
    expect(isPullbackError(caught, "platform")).toBe(true);
    expect((caught as Error).message).toBe("public/multi:1 has no variant for linux/s390x; it offers linux/amd64, linux/arm64/v8");
    expect(offeredPlatforms(offered)).toEqual(["linux/amd64", "linux/arm64/v8"]);
  });
});
