import { describe, expect, it } from "vitest";
import { PullbackError } from "../../src/errors.js";
import type { PullOutcome } from "../../src/fallback/pull-outcome.js";
import { FirstFailure, runImageSet, whileNotAborted } from "../../src/sets/run-image-set.js";
import { SharedRun } from "../../src/sets/shared-run.js";

const done = (name: string): PullOutcome<string> => ({ image: name, attempts: [], warnings: [], fellBack: false });
const jobsOf = (...names: string[]) => names.map((image) => ({ image }));
const summary = (items: Awaited<ReturnType<typeof runImageSet<{ image: string }, string>>>) =>
  items.map((i) => (i.ok ? `${i.image}:ok` : `${i.image}:${i.error.kind}/${i.error.reason ?? ""}`));

describe("runImageSet", () => {
  it("labels every item with its image (and host), in order, timed", async () => {
    const items = await runImageSet(
      [
        { image: "a", host: "h1" },
        { image: "b", host: "h2" },
      ],
      async (job) => {
        await new Promise((r) => setTimeout(r, job.image === "a" ? 20 : 1));
        return done(job.image);
      },
      { jobs: 2, keepGoing: false },
    );
    expect(items.map((i) => [i.image, i.host, i.ok])).toEqual([
      ["a", "h1", true],
      ["b", "h2", true],
    ]);
    expect(items[0]!.durationMs).toBeGreaterThanOrEqual(15);
  });

  it("without keepGoing starts nothing after the first failure, and says which image failed", async () => {
    const started: string[] = [];
    const items = await runImageSet(
      jobsOf("a", "b", "c"),
      async (job) => {
        await Promise.resolve();
        started.push(job.image);
        if (job.image === "a") throw new PullbackError("not-found", "a: manifest unknown");
        return done(job.image);
      },
      { jobs: 1, keepGoing: false },
    );
    expect(started).toEqual(["a"]);
    expect(summary(items)).toEqual(["a:not-found/", "b:other/cancelled", "c:other/cancelled"]);
    expect(!items[1]!.ok && items[1]!.error.message).toBe("not started: a failed first, and keepGoing is off");
  });

  it("with keepGoing runs every image; a foreign throw becomes a PullbackError", async () => {
    const items = await runImageSet(
      jobsOf("a", "b"),
      async (job) => {
        await Promise.resolve();
        if (job.image === "a") throw new Error("boom");
        return done(job.image);
      },
      { jobs: 1, keepGoing: true },
    );
    expect(summary(items)).toEqual(["a:other/", "b:ok"]);
  });

  it("shares the first failure between runs of one set (the hosts of a remote set)", async () => {
    const stop = new FirstFailure(false);
    const fail = async (): Promise<PullOutcome<string>> => Promise.reject(new PullbackError("auth", "denied"));
    await runImageSet([{ image: "a", host: "h1" }], fail, { jobs: 1, keepGoing: false }, stop);
    const later = await runImageSet(
      [{ image: "b", host: "h2" }],
      (job) => Promise.resolve(done(job.image)),
      { jobs: 1, keepGoing: false },
      stop,
    );
    expect(!later[0]!.ok && later[0]!.error.message).toBe("not started: a on h1 failed first, and keepGoing is off");
  });

  it("an abort cancels the running item through its signal and the ones not started, and nothing counts as the first failure", async () => {
    const controller = new AbortController();
    const items = await runImageSet(
      jobsOf("a", "b", "c"),
      (job, signal) =>
        new Promise<PullOutcome<string>>((resolve, reject) => {
          if (job.image !== "a") return resolve(done(job.image));
          signal.addEventListener("abort", () => reject(new Error("socket hang up")));
          setTimeout(() => controller.abort(), 5);
        }),
      { jobs: 1, keepGoing: false, signal: controller.signal },
    );
    expect(summary(items)).toEqual(["a:other/cancelled", "b:other/cancelled", "c:other/cancelled"]);
    expect(!items[0]!.ok && (items[0]!.error.cause as Error).message).toBe("socket hang up");
  });
});

describe("whileNotAborted", () => {
  it("does not start work under an aborted signal, and names a failure after an abort a cancellation", async () => {
    let ran = false;
    const aborted = AbortSignal.abort();
    await expect(whileNotAborted(aborted, () => Promise.resolve((ran = true)))).rejects.toMatchObject({
      kind: "other",
      reason: "cancelled",
    });
    expect(ran).toBe(false);
    const controller = new AbortController();
    const work = whileNotAborted(controller.signal, () => {
      controller.abort();
      return Promise.reject(new Error("aborted request"));
    });
    await expect(work).rejects.toMatchObject({ reason: "cancelled", message: "cancelled before it finished" });
    await expect(whileNotAborted(undefined, async () => Promise.reject(new Error("plain")))).rejects.toThrow("plain");
  });
});

describe("SharedRun refusals", () => {
  it("asks whether a credential is wrong outright only after a refusal, once per registry and source", async () => {
    const run = new SharedRun();
    let checks = 0;
    const check = (): Promise<boolean> => {
      checks++;
      return Promise.resolve(true);
    };
    expect(await run.refusedOutright("r.example", "alice", check)).toBe(false);
    expect(checks).toBe(0);
    run.noteRefusal("r.example", "alice");
    const answers = await Promise.all([1, 2, 3].map(() => run.refusedOutright("r.example", "alice", check)));
    expect(answers).toEqual([true, true, true]);
    expect(checks).toBe(1);
    expect(await run.refusedOutright("other.example", "alice", check)).toBe(false);
  });

  it("takes a check that fails for a no", async () => {
    const run = new SharedRun();
    run.noteRefusal("r.example", "bob");
    expect(await run.refusedOutright("r.example", "bob", () => Promise.reject(new Error("offline")))).toBe(false);
  });
});
