import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tarChunks, tarHeader } from "../../../src/targets/oci/tar.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pullback-tar-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("tarChunks", () => {
  it("writes an archive that GNU tar lists and extracts byte for byte", async () => {
    const onDisk = Buffer.alloc(1537, 7); // not a multiple of 512: padding matters
    await writeFile(join(dir, "blob"), onDisk);
    const longName = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(40)}`;
    const archive = join(dir, "a.tar");
    await pipeline(
      Readable.from(
        tarChunks([
          { name: "blobs/sha256/abc", file: join(dir, "blob"), size: onDisk.length },
          { name: "manifest.json", bytes: Buffer.from('[{"Config":"x"}]\n') },
          { name: longName, bytes: Buffer.from("deep") },
        ]),
      ),
      createWriteStream(archive),
    );
    expect((await readFile(archive)).length % 512).toBe(0);
    const listing = execFileSync("tar", ["-tvf", archive], { encoding: "utf8" });
    expect(listing).toContain("root/root");
    expect(
      listing
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(/\s+/).at(-1)),
    ).toEqual(["blobs/sha256/abc", "manifest.json", longName]);
    const out = join(dir, "out");
    execFileSync("mkdir", [out]);
    execFileSync("tar", ["-xf", archive, "-C", out]);
    expect((await readFile(join(out, "blobs/sha256/abc"))).equals(onDisk)).toBe(true);
    expect(await readFile(join(out, "manifest.json"), "utf8")).toBe('[{"Config":"x"}]\n');
    expect(await readFile(join(out, longName), "utf8")).toBe("deep");
  });

  it("fails rather than write a corrupt archive when a file changed size", async () => {
    await writeFile(join(dir, "blob"), "short");
    const chunks = tarChunks([{ name: "b", file: join(dir, "blob"), size: 10 }]);
    await expect(async () => {
      for await (const _ of chunks) void _;
    }).rejects.toThrow(/has 5 bytes, expected 10/);
  });
});

describe("tarHeader", () => {
  it("has a valid checksum and ustar magic", () => {
    const header = tarHeader("manifest.json", 123);
    const stored = parseInt(header.subarray(148, 154).toString("ascii"), 8);
    header.fill(0x20, 148, 156);
    expect(stored).toBe(header.reduce((sum, byte) => sum + byte, 0));
    expect(header.subarray(257, 265).toString("latin1")).toBe("ustar\u000000");
    expect(header.subarray(124, 135).toString("ascii")).toBe((123).toString(8).padStart(11, "0"));
  });

  it("writes sizes of 8 GiB and more in base-256", () => {
    const size = 9 * 1024 ** 3 + 5;
    const field = tarHeader("big", size).subarray(124, 136);
    expect(field[0]).toBe(0x80);
    expect(field.subarray(1).reduce((value, byte) => value * 256 + byte, 0)).toBe(size);
  });

  it("refuses names ustar cannot hold", () => {
    expect(() => tarHeader("x".repeat(101), 1)).toThrow(/too long/);
  });
});
