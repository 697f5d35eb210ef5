import type { TarEntry } from "./tar.js";

/** Bump when any spec or the layout writer changes: it keys the build cache. */
export const FIXTURE_VERSION = "v2";

const MiB = 1024 * 1024;

export interface PlatformSpec {
  readonly architecture: string;
  readonly os: string;
  readonly layers: readonly (readonly TarEntry[])[];
}

export interface ImageSpec {
  /** Key in WorldInfo.fixtures. */
  readonly key: "publicApp" | "privateApp" | "publicMulti" | "publicBig" | "publicLayers" | `set:${string}`;
  readonly repository: string;
  readonly tag: string;
  /** One platform: an image manifest. Several: an OCI index of them. */
  readonly platforms: readonly PlatformSpec[];
}

function appLayers(name: string): TarEntry[][] {
  return [
    [
      { kind: "dir", path: "etc" },
      { kind: "text", path: "etc/pullback-fixture", text: `${name}\n` },
      { kind: "dir", path: "opt" },
      { kind: "dir", path: "opt/app" },
      { kind: "random", path: "opt/app/base.bin", size: 6 * MiB, seed: `${name} base` },
    ],
    [
      { kind: "dir", path: "opt/app/lib" },
      { kind: "random", path: "opt/app/lib/lib-a.bin", size: 3 * MiB, seed: `${name} lib-a` },
      { kind: "random", path: "opt/app/lib/lib-b.bin", size: 4 * MiB, seed: `${name} lib-b` },
    ],
    [
      { kind: "random", path: "opt/app/data.bin", size: 7 * MiB, seed: `${name} data` },
      { kind: "text", path: "opt/app/VERSION", text: "1\n" },
    ],
  ];
}

function multiLayers(arch: string): TarEntry[][] {
  return [
    [
      { kind: "dir", path: "etc" },
      { kind: "text", path: "etc/pullback-arch", text: `${arch}\n` },
      { kind: "random", path: "etc/payload.bin", size: MiB, seed: `public/multi ${arch}` },
    ],
  ];
}

function bigLayers(): TarEntry[][] {
  return [1, 2, 3, 4].map((n) => [{ kind: "random", path: `big-${n}.bin`, size: 64 * MiB, seed: `public/big ${n}` }]);
}

/** Repositories of the image set: eight public, four private — small images for tests of many images in one run. */
export const SET_REPOSITORIES: readonly string[] = [
  ...Array.from({ length: 8 }, (_, i) => `public/set-${i + 1}`),
  ...Array.from({ length: 4 }, (_, i) => `private/set-${i + 1}`),
];

/** Every set image has the same 512 KiB base layer (stored and downloaded once per run) and its own 128 KiB layer. */
function setLayers(repository: string): TarEntry[][] {
  return [
    [
      { kind: "dir", path: "etc" },
      { kind: "random", path: "etc/set-base.bin", size: 512 * 1024, seed: "set base" },
    ],
    [
      { kind: "text", path: "etc/pullback-fixture", text: `${repository}\n` },
      { kind: "random", path: "etc/own.bin", size: 128 * 1024, seed: `${repository} own` },
    ],
  ];
}

/**
 * 40 layers of 64 KiB to 4 MiB (~71 MiB in all), the shape of a real image: sizes
 * spread on a curve so most layers are small, in a fixed shuffled order.
 */
function manyLayers(): TarEntry[][] {
  const count = 40;
  const KiB = 1024;
  return Array.from({ length: count }, (_, n) => {
    const i = (n * 17) % count; // 17 is coprime to 40: every size once, small and big interleaved
    const size = Math.round((64 * KiB + (4 * MiB - 64 * KiB) * (i / (count - 1)) ** 1.3) / KiB) * KiB;
    return [{ kind: "random", path: `layer-${n + 1}.bin`, size, seed: `public/layers ${n + 1}` }];
  });
}

/**
 * The fixture images. ~20 MiB each for the apps (3 layers), ~1 MiB per
 * platform for multi; with `big` (the benchmark's world) also 4 × 64 MiB for
 * public/big and 40 layers of 64 KiB–4 MiB for public/layers.
 *
 * @example
 * fixtureSpecs(false).map((s) => s.repository) // ["public/app", "private/app", "public/multi", "public/set-1", …, "private/set-4"]
 */
export function fixtureSpecs(big: boolean): ImageSpec[] {
  const specs: ImageSpec[] = [
    {
      key: "publicApp",
      repository: "public/app",
      tag: "1",
      platforms: [{ architecture: "amd64", os: "linux", layers: appLayers("public/app") }],
    },
    {
      key: "privateApp",
      repository: "private/app",
      tag: "1",
      platforms: [{ architecture: "amd64", os: "linux", layers: appLayers("private/app") }],
    },
    {
      key: "publicMulti",
      repository: "public/multi",
      tag: "1",
      platforms: [
        { architecture: "amd64", os: "linux", layers: multiLayers("amd64") },
        { architecture: "arm64", os: "linux", layers: multiLayers("arm64") },
      ],
    },
    ...SET_REPOSITORIES.map((repository): ImageSpec => ({
      key: `set:${repository}`,
      repository,
      tag: "1",
      platforms: [{ architecture: "amd64", os: "linux", layers: setLayers(repository) }],
    })),
  ];
  if (big)
    specs.push({
      key: "publicBig",
      repository: "public/big",
      tag: "1",
      platforms: [{ architecture: "amd64", os: "linux", layers: bigLayers() }],
    });
  if (big)
    specs.push({
      key: "publicLayers",
      repository: "public/layers",
      tag: "1",
      platforms: [{ architecture: "amd64", os: "linux", layers: manyLayers() }],
    });
  return specs;
}
