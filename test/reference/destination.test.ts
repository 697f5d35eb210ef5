import { describe, expect, it } from "vitest";
import { formatDestination, parseDestination } from "../../src/reference/destination.js";

describe("parseDestination", () => {
  it.each([
    ["oci:out", { kind: "oci", dir: "out" }],
    ["oci:/srv/images:app-1", { kind: "oci", dir: "/srv/images", tag: "app-1" }],
    ["oci:./a:1.2.3", { kind: "oci", dir: "./a", tag: "1.2.3" }],
    ["oci:dir:ghcr.io/o/app:1", { kind: "oci", dir: "dir", tag: "ghcr.io/o/app:1" }],
    ["docker-archive:/tmp/app.tar", { kind: "docker-archive", file: "/tmp/app.tar" }],
    ["docker-archive:a:b.tar", { kind: "docker-archive", file: "a:b.tar" }],
    // Beyond the controls: U+00A0 (the first character after C1) and other Unicode are file names like any.
    ["oci:caf\u00e9\u00a0dir", { kind: "oci", dir: "caf\u00e9\u00a0dir" }],
  ])("%s", (spec, expected) => {
    const parsed = parseDestination(spec);
    expect(parsed).toEqual(expected);
    expect(formatDestination(parsed)).toBe(spec);
  });

  it.each([
    "",
    "out",
    "oci:",
    "oci::tag",
    "oci:dir:",
    "oci:dir:bad tag",
    "docker-archive:",
    "docker:x",
    "dir:/tmp/x",
    "oci:a\nb",
    "oci:a\u007fb",
    "oci:a\u0085b",
    "docker-archive:a\u009f.tar",
  ])("refuses %j as a usage error", (spec) => {
    expect(() => parseDestination(spec)).toThrow(expect.objectContaining({ kind: "usage", message: expect.stringContaining("oci:DIR") }));
  });
});
