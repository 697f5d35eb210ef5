import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { ImageSpec, PlatformSpec } from "./fixture-specs.js";
import { buildTar } from "./tar.js";
import type { FixtureImage } from "./types.js";

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

type LayerInfo = FixtureImage["layers"][number];
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Writes blobs into an OCI layout's blobs/sha256/. */
class BlobWriter {
  constructor(private readonly dir: string) {}

  async write(mediaType: string, data: Buffer): Promise<Descriptor> {
    const digest = sha256(data);
    await writeFile(join(this.dir, "blobs", "sha256", digest.slice("sha256:".length)), data);
    return { mediaType, digest, size: data.length };
  }

  async json(mediaType: string, value: unknown): Promise<Descriptor> {
    return this.write(mediaType, Buffer.from(JSON.stringify(value)));
  }
}

async function writePlatform(
  blobs: BlobWriter,
  spec: ImageSpec,
  platform: PlatformSpec,
): Promise<{ manifest: Descriptor; config: Descriptor; layers: LayerInfo[] }> {
  const layers: LayerInfo[] = [];
  for (const entries of platform.layers) {
    const tar = buildTar(entries);
    // Level 1: the payload is random and does not compress; speed matters more.
    const blob = await blobs.write(MEDIA.layer, gzipSync(tar, { level: 1 }));
    layers.push({ digest: blob.digest, size: blob.size, diffId: sha256(tar) });
  }
  const created = "2024-01-01T00:00:00Z";
  const config = await blobs.json(MEDIA.config, {
    created,
    architecture: platform.architecture,
    os: platform.os,
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["/bin/true"],
      Labels: { "pullback.fixture": `${spec.repository}:${spec.tag}` },
    },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created, created_by: `pullback-world fixture layer ${i + 1}` })),
  });
  const manifest = await blobs.json(MEDIA.manifest, {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config,
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  });
  return { manifest, config, layers };
}

/**
 * Builds one fixture image as an OCI layout in `dir` (tag = spec.tag) and
 * returns its digests. Multi-platform specs become an OCI index.
 *
 * @example
 * const image = await writeOciLayout(spec, "/tmp/layout");
 */
export async function writeOciLayout(spec: ImageSpec, dir: string): Promise<FixtureImage> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const blobs = new BlobWriter(dir);
  const built = [];
  for (const platform of spec.platforms) built.push({ platform, ...(await writePlatform(blobs, spec, platform)) });
  const first = built[0];
  if (first === undefined) throw new Error(`fixture ${spec.repository} has no platform`);
  let top: Descriptor = first.manifest;
  let platforms: FixtureImage["platforms"];
  if (built.length > 1) {
    top = await blobs.json(MEDIA.index, {
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: built.map((b) => ({ ...b.manifest, platform: { architecture: b.platform.architecture, os: b.platform.os } })),
    });
    platforms = Object.fromEntries(
      built.map((b) => [
        `${b.platform.os}/${b.platform.architecture}`,
        { manifestDigest: b.manifest.digest, configDigest: b.config.digest, layers: b.layers },
      ]),
    );
  }
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { "org.opencontainers.image.ref.name": spec.tag } }] }),
  );
  return {
    repository: spec.repository,
    tag: spec.tag,
    manifestDigest: top.digest,
    mediaType: top.mediaType,
    configDigest: first.config.digest,
    layers: first.layers,
    ...(platforms === undefined ? {} : { platforms }),
  };
}
