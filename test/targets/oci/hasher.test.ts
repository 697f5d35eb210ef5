import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HASH_BACKLOG_BYTES, createStreamHasher, inlineHasher } from "../../../src/targets/oci/hasher.js";

const expected = (...parts: Buffer[]): string => `sha256:${createHash("sha256").update(Buffer.concat(parts)).digest("hex")}`;

describe.each([
  ["worker", createStreamHasher],
  ["inline", inlineHasher],
])("%s hasher", (_name, create) => {
  it("hashes small pooled slices and large owned buffers in order, without detaching Node's buffer pool", async () => {
    const small = Buffer.from("small pooled chunk"); // a slice of the shared 8 KiB pool
    const big = randomBytes(3 * 1024 * 1024);
    const copyOfBig = Buffer.from(big);
    const hasher = create();
    await hasher.update(small);
    await hasher.update(big);
    await hasher.update(Buffer.from("tail"));
    expect(await hasher.digest()).toBe(expected(Buffer.from("small pooled chunk"), copyOfBig, Buffer.from("tail")));
    expect(small.toString()).toBe("small pooled chunk"); // the pool is intact
    expect(Buffer.from("still usable").toString()).toBe("still usable");
  });

  it("keeps hashers of concurrent blobs apart", async () => {
    const parts = Array.from({ length: 5 }, (_, i) => Buffer.alloc(100_000 + i, i));
    const hashers = parts.map(() => create());
    await Promise.all(hashers.map((h, i) => h.update(Buffer.from(parts[i]!))));
    expect(await Promise.all(hashers.map((h) => h.digest()))).toEqual(parts.map((p) => expected(p)));
  });

  it("accepts more than its backlog in one go (the waiting resolves once hashed)", async () => {
    const huge = Buffer.alloc(HASH_BACKLOG_BYTES * 2 + 1, 7);
    const hasher = create();
    await hasher.update(Buffer.from(huge));
    expect(await hasher.digest()).toBe(expected(huge));
  });
});
