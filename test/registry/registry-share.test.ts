import { describe, expect, it } from "vitest";
import { RegistryShare, type PingAnswer } from "../../src/registry/registry-share.js";

const open: PingAnswer = { status: 200, challenges: [] };

/** An ask that resolves or rejects when the test says, counting its calls. */
function controlledAsk(): { ask: () => Promise<PingAnswer>; calls: () => number; settle: (answer: PingAnswer | Error) => void } {
  let calls = 0;
  const pending: ((answer: PingAnswer | Error) => void)[] = [];
  return {
    ask: () => {
      calls++;
      return new Promise((resolve, reject) => pending.push((answer) => (answer instanceof Error ? reject(answer) : resolve(answer))));
    },
    calls: () => calls,
    settle: (answer) => pending.shift()?.(answer),
  };
}

describe("RegistryShare.ping", () => {
  it("asks once per registry for every client of the run, in flight or answered", async () => {
    const share = new RegistryShare();
    const { ask, calls, settle } = controlledAsk();
    const first = share.ping("http://r", ask, undefined);
    const second = share.ping("http://r", ask, undefined);
    settle(open);
    await expect(Promise.all([first, second])).resolves.toEqual([open, open]);
    await expect(share.ping("http://r", ask, undefined)).resolves.toEqual(open);
    expect(calls()).toBe(1);
    // Another registry is another question.
    const other = share.ping("https://s", ask, undefined);
    settle({ status: 401, challenges: ['Bearer realm="https://s/token"'] });
    await expect(other).resolves.toMatchObject({ status: 401 });
    expect(calls()).toBe(2);
  });

  it("forgets a failed ask, so the next client asks again", async () => {
    const share = new RegistryShare();
    const { ask, calls, settle } = controlledAsk();
    const failed = share.ping("http://r", ask, undefined);
    settle(new Error("connection refused"));
    await expect(failed).rejects.toThrow("connection refused");
    const again = share.ping("http://r", ask, undefined);
    settle(open);
    await expect(again).resolves.toEqual(open);
    expect(calls()).toBe(2);
  });

  it("asks again for a waiter when the asker's own client was cancelled, and not for the asker", async () => {
    const share = new RegistryShare();
    const { ask, calls, settle } = controlledAsk();
    const cancelled = new AbortController();
    const asker = share.ping("http://r", ask, cancelled.signal);
    const waiter = share.ping("http://r", ask, new AbortController().signal);
    cancelled.abort(new Error("the image was cancelled"));
    settle(cancelled.signal.reason as Error);
    await expect(asker).rejects.toThrow("the image was cancelled");
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    settle(open);
    await expect(waiter).resolves.toEqual(open);
    expect(calls()).toBe(2);
  });

  it("a waiter shares a failure that was not a cancellation", async () => {
    const share = new RegistryShare();
    const { ask, calls, settle } = controlledAsk();
    const asker = share.ping("http://r", ask, undefined);
    const waiter = share.ping("http://r", ask, undefined);
    settle(new Error("HTTP 503"));
    await expect(asker).rejects.toThrow("HTTP 503");
    await expect(waiter).rejects.toThrow("HTTP 503");
    expect(calls()).toBe(1);
  });
});
