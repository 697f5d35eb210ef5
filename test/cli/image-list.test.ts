import { Readable } from "node:stream";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { joinImages, parseImageList, readImageList } from "../../src/cli/commands/image-list.js";
import { usageMessage } from "../support/usage-message.js";

describe("--file: one image reference per line", () => {
  it("skips blank lines and # comments, whole-line or trailing, and keeps the order", () => {
    const text =
      "# the gateway's images\n\nnginx:1.27\n  ghcr.io/acme/app:1.2   # the app\r\n\t\n#alpine:3\nregistry.local:5000/team/worker@sha256:" +
      "a".repeat(64) +
      "\n";
    expect(parseImageList(text, "images.txt")).toEqual({
      images: ["nginx:1.27", "ghcr.io/acme/app:1.2", `registry.local:5000/team/worker@sha256:${"a".repeat(64)}`],
      repeats: [],
    });
  });

  it("reports every bad line by its number in one usage error", () => {
    const message = usageMessage(() => parseImageList("nginx:1.27\nNot/Valid:1\nalpine:3 busybox:1\n\nok:1\n:::\n", "images.txt"));
    expect(message).toMatch(/^images\.txt has 3 lines that are not an image reference; nothing was pulled:/);
    expect(message).toMatch(/\n {2}images\.txt:2: /);
    expect(message).toMatch(/\n {2}images\.txt:3: "alpine:3 busybox:1" holds more than one word/);
    expect(message).toMatch(/\n {2}images\.txt:6: /);
    expect(message).not.toMatch(/images\.txt:(1|4|5):/);
  });

  it("pulls an image named twice once, saying which lines repeat", () => {
    const list = parseImageList("nginx\ndocker.io/library/nginx:latest\nalpine:3\n", "stdin");
    expect(list.images).toEqual(["nginx", "alpine:3"]);
    expect(list.repeats).toEqual(["stdin:2 repeats line 1 (docker.io/library/nginx:latest)"]);
    expect(joinImages(["alpine:3", "busybox:1"], list)).toEqual({
      images: ["alpine:3", "busybox:1", "nginx"],
      repeats: ["stdin:2 repeats line 1 (docker.io/library/nginx:latest)", "alpine:3 is named twice (docker.io/library/alpine:3)"],
    });
  });

  it("reads a file or stdin (-), and names a file it cannot read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pullback-list-"));
    try {
      writeFileSync(join(dir, "images.txt"), "alpine:3\n");
      expect((await readImageList(join(dir, "images.txt"), Readable.from([]))).images).toEqual(["alpine:3"]);
      expect((await readImageList("-", Readable.from([Buffer.from("busybox:1\n# x\n")]))).images).toEqual(["busybox:1"]);
      await expect(readImageList(join(dir, "missing.txt"), Readable.from([]))).rejects.toMatchObject({
        kind: "usage",
        message: expect.stringMatching(/cannot read --file .*missing\.txt: .*ENOENT/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
