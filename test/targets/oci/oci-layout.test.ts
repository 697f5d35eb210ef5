import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REF_NAME_ANNOTATION, OCI_MANIFEST } from "../../../src/targets/oci/media-types.js";
import { addToLayoutIndex, initLayout, readLayoutIndex, withEntry, type IndexEntry } from "../../../src/targets/oci/oci-layout.js";

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, "0")}`;
const entry = (n: number, name?: string): IndexEntry => ({
  mediaType: OCI_MANIFEST,
  digest: digest(n),
  size: n,
  ...(name === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: name } }),
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullback-layout-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("withEntry", () => {
  it("replaces the entry of the same ref name and keeps the others in order", () => {
    const index = { schemaVersion: 2 as const, manifests: [entry(1, "a"), entry(2, "b"), entry(3)] };
    expect(withEntry(index, entry(4, "a")).manifests).toEqual([entry(2, "b"), entry(3), entry(4, "a")]);
  });

  it("does not duplicate an unnamed entry of the same digest, and leaves named ones of that digest", () => {
    const index = { schemaVersion: 2 as const, manifests: [entry(1), entry(1, "x")] };
    expect(withEntry(index, entry(1)).manifests).toEqual([entry(1, "x"), entry(1)]);
  });
});

describe("layout on disk", () => {
  it("writes oci-layout once and an index that keeps foreign entries and fields", async () => {
    await initLayout(dir);
    expect(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"))).toEqual({ imageLayoutVersion: "1.0.0" });
    const foreign = { ...entry(9, "other"), platform: { os: "linux", architecture: "amd64" } };
    await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [foreign], annotations: { keep: "me" } }));
    await addToLayoutIndex(dir, entry(1, "app"));
    await addToLayoutIndex(dir, entry(2, "app"));
    const index = await readLayoutIndex(dir);
    expect(index.manifests).toEqual([foreign, entry(2, "app")]);
    expect(index["annotations"]).toEqual({ keep: "me" });
    expect((await readdir(dir)).sort()).toEqual(["index.json", "oci-layout"]); // no temp files left
  });

  it("refuses a layout of another version and an index.json that is not an index", async () => {
    await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "2.0.0" }));
    await expect(initLayout(dir)).rejects.toMatchObject({ kind: "io", message: expect.stringContaining("2.0.0") });
    await writeFile(join(dir, "index.json"), "[]");
    await expect(addToLayoutIndex(dir, entry(1))).rejects.toMatchObject({ kind: "io" });
    expect(await readFile(join(dir, "index.json"), "utf8")).toBe("[]");
  });
});
