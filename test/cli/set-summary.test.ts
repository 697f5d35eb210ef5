import { describe, expect, it } from "vitest";
import { SetItemIndex } from "../../src/cli/output/set-items.js";
import { SetPlainProgress } from "../../src/cli/output/set-progress.js";
import { LayerTally } from "../../src/cli/output/layer-tally.js";
import { countsLine, formatDuration, summaryJson, summaryRows, summaryTable } from "../../src/cli/output/set-summary.js";
import { styleFor } from "../../src/cli/output/style.js";
import { PullbackError } from "../../src/errors.js";
import type { ImageSetItem } from "../../src/sets/set-result.js";
import type { SummarizedImage } from "../../src/cli/output/set-summary.js";

const plain = styleFor({ isTTY: false } as never, {});
const A = "reg.local/public/a:1";
const B = "reg.local/public/b:1";
const C = "reg.local/private/c:1";
const D = "reg.local/public/missing:1";
const digest = `sha256:${"ab".repeat(32)}`;
const attempts = [{ attempt: 1, identity: { anonymous: true as const }, succeeded: true }];

function success(
  image: string,
  extra: { fellBack?: boolean; present?: boolean; bytes?: number; host?: string },
): ImageSetItem<SummarizedImage> {
  return {
    ok: true,
    image,
    host: extra.host,
    durationMs: 1234,
    outcome: {
      image: { digest, alreadyPresent: extra.present ?? false, ...(extra.bytes === undefined ? {} : { bytes: extra.bytes }) },
      attempts: extra.present ? [] : attempts,
      warnings: [],
      fellBack: extra.fellBack ?? false,
    },
  };
}
const failure = (image: string, error: PullbackError, host?: string): ImageSetItem<SummarizedImage> => ({
  ok: false,
  image,
  host,
  durationMs: 80,
  error,
});

describe("the summary of a set", () => {
  const index = new SetItemIndex(
    [A, B, C, D].map((canonical) => ({ canonical, given: canonical.replace("reg.local/", "") })),
    [],
  );
  const items = [
    success(A, { bytes: 1_234_567 }),
    success(B, { present: true, bytes: 700_000 }),
    success(C, { fellBack: true, bytes: 800_000 }),
    failure(D, new PullbackError("not-found", "reg.local/public/missing:1: manifest unknown")),
  ];
  const rows = summaryRows(items, index, () => undefined);

  it("says what became of each image: pulled, already present, fell back, failed with its kind", () => {
    const lines = summaryTable(rows, plain);
    expect(lines[0]).toMatch(/^IMAGE +RESULT +DIGEST +SIZE +TIME$/);
    expect(lines[1]).toMatch(/^public\/a:1 +pulled +sha256:abababababab +1\.2 MB +1\.2 s$/);
    expect(lines[2]).toMatch(/^public\/b:1 +already present +sha256:abababababab +700\.0 kB +1\.2 s$/);
    expect(lines[3]).toMatch(/^private\/c:1 +pulled anonymously after refused credentials +sha256:abababababab +800\.0 kB +1\.2 s$/);
    expect(lines[4]).toMatch(/^public\/missing:1 +failed \(not-found\) +- +- +80 ms$/);
    expect(lines[5]).toBe("4 items: 1 pulled, 1 already present, 1 pulled anonymously after refused credentials, 1 failed");
    // Columns line up: RESULT starts at the same offset on every line.
    const offsets = lines.slice(0, 5).map((line) => line.search(/(RESULT|pulled|already|failed)/));
    expect(new Set(offsets).size).toBe(1);
  });

  it("shows a HOST column when items went to hosts, and the downloaded bytes on a daemon", () => {
    const hosts = new SetItemIndex([{ canonical: A, given: "public/a:1" }], ["ssh://b-1", "ssh://b-2"]);
    const hostRows = summaryRows(
      [success(A, { host: "ssh://b-1" }), failure(A, new PullbackError("daemon-unreachable", "down"), "ssh://b-2")],
      hosts,
      (_image, host) => (host === "ssh://b-1" ? 655_360 : undefined),
    );
    const lines = summaryTable(hostRows, plain);
    expect(lines[0]).toMatch(/^IMAGE +HOST +RESULT/);
    expect(lines[1]).toMatch(/^public\/a:1 +ssh:\/\/b-1 +pulled +sha256:\S+ +655\.4 kB/);
    expect(lines[2]).toMatch(/^public\/a:1 +ssh:\/\/b-2 +failed \(daemon-unreachable\)/);
  });

  it("names follow-on failures for what they are and counts them apart", () => {
    const followOn = summaryRows(
      [
        failure(D, new PullbackError("not-found", "missing")),
        failure(A, new PullbackError("other", "cancelled before it finished", { reason: "cancelled" })),
        failure(B, new PullbackError("other", "not written: missing failed", { reason: "not-written" })),
      ],
      index,
      () => undefined,
    );
    const lines = summaryTable(followOn, plain);
    expect(lines[2]).toMatch(/ cancelled /);
    expect(lines[3]).toMatch(/ not written /);
    expect(countsLine(followOn)).toBe("3 items: 1 failed, 2 cancelled or not written");
  });

  it("--json: one summary object with every item", () => {
    const json = summaryJson(rows, 4);
    expect(json).toMatchObject({
      type: "summary",
      ok: false,
      exitCode: 4,
      counts: { pulled: 1, alreadyPresent: 1, fellBack: 1, failed: 1, notAttempted: 0 },
    });
    expect((json["items"] as unknown[])[3]).toEqual({
      image: D,
      host: undefined,
      result: "failed",
      kind: "not-found",
      reason: undefined,
      message: "reg.local/public/missing:1: manifest unknown",
      digest: undefined,
      bytes: undefined,
      downloaded: undefined,
      durationMs: 80,
    });
  });

  it("formats times", () => {
    expect(formatDuration(80.4)).toBe("80 ms");
    expect(formatDuration(1234)).toBe("1.2 s");
    expect(formatDuration(125_000)).toBe("2 min 5 s");
  });
});

describe("set progress without a terminal", () => {
  it("prints a line per item state, a total at most every 2 s, never a layer line or a carriage return", () => {
    const index = new SetItemIndex(
      [
        { canonical: A, given: "public/a:1" },
        { canonical: B, given: "public/b:1" },
      ],
      [],
    );
    const [a, b] = index.items;
    const lines: string[] = [];
    let now = 0;
    const progress = new SetPlainProgress(
      (line) => lines.push(line),
      2,
      () => now,
    );
    const tally = new LayerTally();
    progress.state(a!, "pulling", false);
    for (let i = 0; i < 50; i++) {
      now += 100;
      tally.update("l1", "downloading", i * 1000, 100_000);
      progress.bytes(a!, tally, { current: tally.current, total: tally.total });
    }
    progress.state(a!, "pulled", true);
    progress.state(b!, "failed (not-found)", true);
    expect(lines.filter((l) => !l.startsWith("progress:"))).toEqual([
      "public/a:1: pulling",
      "public/a:1: pulled",
      "public/b:1: failed (not-found)",
    ]);
    expect(lines.filter((l) => l.startsWith("progress:"))).toHaveLength(2);
    expect(lines.find((l) => l.startsWith("progress:"))).toMatch(/^progress: 0 of 2 done, [\d.]+ kB of 100\.0 kB$/);
    expect(lines.join("\n")).not.toContain("\r");
  });

  it("finds the item of an event by image and host, also when the host is named by its address", () => {
    const index = new SetItemIndex([{ canonical: A, given: "public/a:1" }], ["ssh://root@10.0.0.7:2222", "ssh://build-2"]);
    expect(index.itemOf({ type: "layer", id: "x", status: "done", image: A, host: "ssh://build-2" })?.label).toBe(
      "public/a:1 on ssh://build-2",
    );
    expect(index.itemOf({ type: "layer", id: "x", status: "done", image: A, host: "10.0.0.7" })?.label).toBe(
      "public/a:1 on ssh://root@10.0.0.7:2222",
    );
    expect(index.itemOf({ type: "layer", id: "x", status: "done", image: B, host: "ssh://build-2" })).toBeUndefined();
  });
});
