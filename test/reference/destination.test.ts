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
  ])("%s", (spec, expected) => {
    const parsed = parseDestination(spec);
    expect(parsed).toEqual(expected);
    expect(formatDestination(parsed)).toBe(spec);
  });

  it.each(["", "out", "oci:", "oci::tag", "oci:dir:", "oci:dir:bad tag", "docker-archive:", "docker:x", "dir:/tmp/x", "oci:a\nb"])(
    "refuses %j as a usage error",
    (spec) => {
      expect(() => parseDestination(spec)).toThrow(expect.objectContaining({ kind: "usage", message: expect.stringContaining("oci:DIR") }));
    },
  );
});
