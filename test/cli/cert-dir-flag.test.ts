import { describe, expect, it } from "vitest";
import { planPull } from "../../src/cli/commands/pull-plan.js";

describe("--cert-dir on pull", () => {
  it("goes with --to: pullback makes those requests itself", () => {
    expect(planPull({ to: "oci:./out", certDir: "./certs" })).toMatchObject({ kind: "daemonless", certDir: "./certs" });
  });

  it("is refused on the daemon paths, which trust what the daemon's certs.d holds", () => {
    expect(() => planPull({ certDir: "./certs" })).toThrow(/--cert-dir applies to --to .*\/etc\/docker\/certs\.d\/HOST:PORT\//);
    expect(() => planPull({ host: "ssh://deploy@build-1", certDir: "./certs" })).toThrow(/--cert-dir applies to --to/);
  });
});
