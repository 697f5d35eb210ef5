import { describe, expect, it } from "vitest";
import { MAX_LAYERS, jsonDepth, parseManifest, sha256Digest, verifyBytes } from "../../../src/targets/oci/manifest.js";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST } from "../../../src/targets/oci/media-types.js";

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, "0")}`;
const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const layer = (n: number): object => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digest(n), size: n });

describe("parseManifest", () => {
  it("reads a Docker schema 2 manifest by its own media type", () => {
    const parsed = parseManifest(
      bytes({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: layer(1), layers: [layer(2), layer(3)] }),
      "application/json",
      "x:1",
    );
    expect(parsed.kind).toBe("image");
    expect(parsed.mediaType).toBe(DOCKER_MANIFEST);
    expect(parsed.kind === "image" && parsed.layers.map((l) => l.size)).toEqual([2, 3]);
  });

  it("reads an OCI manifest without mediaType field by the Content-Type", () => {
    const parsed = parseManifest(bytes({ schemaVersion: 2, config: layer(1), layers: [] }), `${OCI_MANIFEST}; charset=utf-8`, "x:1");
    expect(parsed).toMatchObject({ kind: "image", mediaType: OCI_MANIFEST });
  });

  it("reads a Docker manifest list with normalized platforms", () => {
    const list = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST_LIST,
      manifests: [{ ...layer(1), mediaType: DOCKER_MANIFEST, platform: { os: "linux", architecture: "aarch64" } }],
    };
    const parsed = parseManifest(bytes(list), "", "x:1");
    expect(parsed.kind === "index" && parsed.manifests[0]?.platform).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
  });

  it.each([
    ["schema 1", { schemaVersion: 1, mediaType: "application/vnd.docker.distribution.manifest.v1+prettyjws", fsLayers: [] }, "registry"],
    [
      "a sha512 digest",
      { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...layer(1), digest: `sha512:${"a".repeat(128)}` }, layers: [] },
      "registry",
    ],
    [
      "a path in the digest",
      { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...layer(1), digest: "sha256:../../etc/passwd" }, layers: [] },
      "registry",
    ],
    ["a negative size", { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...layer(1), size: -1 }, layers: [] }, "registry"],
    ["layers that are not a list", { schemaVersion: 2, mediaType: OCI_MANIFEST, config: layer(1), layers: {} }, "registry"],
    [
      "too many layers",
      { schemaVersion: 2, mediaType: OCI_MANIFEST, config: layer(1), layers: Array.from({ length: MAX_LAYERS + 1 }, () => layer(2)) },
      "limit",
    ],
  ])("refuses %s", (_name, manifest, kind) => {
    expect(() => parseManifest(bytes(manifest), "", "x:1")).toThrow(expect.objectContaining({ kind }));
  });

  it("refuses more than 4 MiB and deep nesting as limits", () => {
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    expect(() => parseManifest(big, OCI_MANIFEST, "x:1")).toThrow(expect.objectContaining({ kind: "limit" }));
    const deep = Buffer.from(`{"a":${"[".repeat(100)}${"]".repeat(100)}}`);
    expect(() => parseManifest(deep, OCI_MANIFEST, "x:1")).toThrow(expect.objectContaining({ kind: "limit" }));
  });

  it("refuses text that is not JSON", () => {
    expect(() => parseManifest(Buffer.from("<html>"), OCI_MANIFEST, "x:1")).toThrow(expect.objectContaining({ kind: "registry" }));
  });
});

describe("jsonDepth", () => {
  it("ignores brackets inside strings, escaped quotes included", () => {
    expect(jsonDepth(`{"a":"[[[\\"{{{"}`)).toBe(1);
    expect(jsonDepth(`[[{"a":[1]}]]`)).toBe(4);
  });
});

describe("verifyBytes", () => {
  it("accepts matching bytes and refuses others as integrity errors", () => {
    const content = Buffer.from("hello");
    expect(() => verifyBytes(content, sha256Digest(content), "blob", 5)).not.toThrow();
    expect(() => verifyBytes(content, sha256Digest(Buffer.from("hellO")), "blob")).toThrow(expect.objectContaining({ kind: "integrity" }));
    expect(() => verifyBytes(content, sha256Digest(content), "blob", 6)).toThrow(expect.objectContaining({ kind: "integrity" }));
  });
});
