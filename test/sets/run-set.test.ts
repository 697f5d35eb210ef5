import { describe, expect, it } from "vitest";
import { PullbackError } from "../../src/errors.js";
import type { PullEvent } from "../../src/events.js";
import { isSetFailure, runSet } from "../../src/sets/run-set.js";
import { SharedRun } from "../../src/sets/shared-run.js";

/** A promise with its resolver, to hold items in flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("runSet", () => {
  it("returns one result per item, in the items' order, whatever order they finish in", async () => {
    const results = await runSet([30, 10, 20], async (ms) => new Promise<number>((r) => setTimeout(() => r(ms * 2), ms)), { jobs: 3 });
    expect(results).toEqual([60, 20, 40]);
  });

  it("never runs more than `jobs` items at once, and runs them all", async () => {
    let running = 0;
    let peak = 0;
    const results = await runSet(
      Array.from({ length: 12 }, (_, i) => i),
      async (i) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return i;
      },
      { jobs: 3 },
    );
    expect(peak).toBe(3);
    expect(results).toHaveLength(12);
  });

  it("keeps going past a failure and turns foreign throws into PullbackErrors", async () => {
    const results = await runSet(
      ["a", "b", "c"],
      (item) => {
        if (item === "a") return Promise.reject(new PullbackError("not-found", "a is missing"));
        if (item === "b") return Promise.reject(new TypeError("boom"));
        return Promise.resolve(item);
      },
      { jobs: 1 },
    );
    expect(isSetFailure(results[0]!) && results[0].kind).toBe("not-found");
    expect(isSetFailure(results[1]!) && results[1].kind).toBe("other");
    expect(results[2]).toBe("c");
  });

  it("on abort, starts nothing more, hands the signal to running items, and marks the rest cancelled", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const held = gate();
    const pending = runSet(
      [0, 1, 2, 3],
      async (i, _index, signal) => {
        started.push(i);
        await held.promise;
        if (signal.aborted) throw signal.reason;
        return i;
      },
      { jobs: 2, signal: controller.signal },
    );
    await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error("stop"));
    held.open();
    const results = await pending;
    expect(started).toEqual([0, 1]);
    for (const result of results) expect(isSetFailure(result) && result.reason).toBe("cancelled");
  });

  it("runs nothing under a signal already aborted", async () => {
    let calls = 0;
    const results = await runSet([1, 2], () => Promise.resolve(++calls), { jobs: 2, signal: AbortSignal.abort() });
    expect(calls).toBe(0);
    expect(results.every((r) => isSetFailure(r) && r.reason === "cancelled")).toBe(true);
  });
});

describe("SharedRun", () => {
  it("chooses each registry's credential once, however many images ask", async () => {
    const run = new SharedRun();
    let resolutions = 0;
    const choose = (): Promise<undefined> => {
      resolutions++;
      return Promise.resolve(undefined);
    };
    await Promise.all([run.credentialFor("ghcr.io", choose), run.credentialFor("ghcr.io", choose), run.credentialFor("quay.io", choose)]);
    expect(resolutions).toBe(2);
  });

  it("labels every event with its image and passes a refusal once per registry, source and host", () => {
    const run = new SharedRun();
    const seen: PullEvent[] = [];
    const refusal = (registry: string): PullEvent => ({
      type: "warning",
      code: "credentials-refused",
      message: `credentials for ${registry} refused`,
      registry,
      source: "the token from PULLBACK_REGISTRY_TOKEN",
    });
    const a = run.listenerFor((e) => seen.push(e), { image: "ghcr.io/o/a:1" })!;
    const b = run.listenerFor((e) => seen.push(e), { image: "ghcr.io/o/b:1" })!;
    const c = run.listenerFor((e) => seen.push(e), { image: "ghcr.io/o/c:1", host: "build-2" })!;
    a(refusal("ghcr.io"));
    b(refusal("ghcr.io"));
    b(refusal("quay.io"));
    c(refusal("ghcr.io"));
    a({ type: "layer", id: "sha256:1", status: "done" });
    expect(seen.map((e) => (e.type === "warning" ? `${e.registry}@${e.host ?? "-"}:${e.image}` : `${e.type}:${e.image}`))).toEqual([
      "ghcr.io@-:ghcr.io/o/a:1",
      "quay.io@-:ghcr.io/o/b:1",
      "ghcr.io@build-2:ghcr.io/o/c:1",
      "layer:ghcr.io/o/a:1",
    ]);
  });
});
