import { describe, expect, it } from "vitest";
import { DEFAULT_JOBS, parseJobs, planPull, planPullRun } from "../../src/cli/commands/pull-plan.js";
import { usageMessage } from "../support/usage-message.js";

describe("planPullRun: one image on one host stays the single-image plan", () => {
  it("hands one image and at most one host to planPull unchanged", () => {
    expect(planPullRun(["a:1"], {})).toEqual({ shape: "single", image: "a:1", plan: planPull({}) });
    const ssh = { identity: "/k", tagAs: "app:dev" };
    expect(planPullRun(["a:1"], { ...ssh, host: ["ssh://b-1"], jobs: "8", keepGoing: true })).toEqual({
      shape: "single",
      image: "a:1",
      plan: planPull({ ...ssh, host: "ssh://b-1" }),
    });
    expect(planPullRun(["a:1"], { to: "oci:./out:a" })).toMatchObject({ shape: "single", plan: { kind: "daemonless", to: "oci:./out:a" } });
  });

  it("refuses a run without images", () => {
    expect(usageMessage(() => planPullRun([], {}))).toMatch(/no image to pull: give IMAGE arguments or --file FILE/);
  });
});

describe("planPullRun: sets", () => {
  it("several images on the local daemon: ensureImages with the default jobs", () => {
    expect(planPullRun(["a:1", "b:1"], { pull: "missing", platform: "linux/amd64" })).toEqual({
      shape: "set",
      images: ["a:1", "b:1"],
      plan: {
        kind: "daemon",
        host: undefined,
        sshConfigFile: undefined,
        platform: "linux/amd64",
        pull: "missing",
        fallback: true,
        failOnFallback: false,
        jobs: DEFAULT_JOBS,
        keepGoing: false,
      },
    });
  });

  it("several hosts, even for one image: pullRemoteImages with every host and the SSH flags", () => {
    expect(
      planPullRun(["a:1"], { host: ["ssh://b-1", "ssh://deploy@b-2:2222"], identity: "/k", knownHosts: "/kh", jobs: "2", keepGoing: true }),
    ).toEqual({
      shape: "set",
      images: ["a:1"],
      plan: {
        kind: "remote",
        hosts: ["ssh://b-1", "ssh://deploy@b-2:2222"],
        identityFile: "/k",
        knownHostsFile: "/kh",
        acceptUnknownHostKey: false,
        sshConfigFile: undefined,
        platform: undefined,
        pull: "always",
        fallback: true,
        failOnFallback: false,
        jobs: 2,
        keepGoing: true,
      },
    });
    expect(planPullRun(["a:1", "b:1"], { host: ["ssh://b-1"] }).plan).toMatchObject({ kind: "remote", hosts: ["ssh://b-1"] });
    expect(planPullRun(["a:1", "b:1"], { host: ["unix:///run/d.sock"] }).plan).toMatchObject({
      kind: "daemon",
      host: "unix:///run/d.sock",
    });
  });

  it("several images into one destination: pullImages", () => {
    expect(planPullRun(["a:1", "b:1"], { to: "docker-archive:/tmp/b.tar", keepGoing: true }).plan).toMatchObject({
      kind: "daemonless",
      to: "docker-archive:/tmp/b.tar",
      keepGoing: true,
    });
    expect(planPullRun(["a:1", "b:1"], { to: "oci:./layout" }).plan).toMatchObject({ kind: "daemonless", to: "oci:./layout" });
  });

  it("refuses what cannot mean anything for a set", () => {
    expect(usageMessage(() => planPullRun(["a:1", "b:1"], { tagAs: "x:1" }))).toMatch(/--tag-as names one image on one host/);
    expect(usageMessage(() => planPullRun(["a:1"], { host: ["ssh://b-1", "ssh://b-2"], tagAs: "x:1" }))).toMatch(/--tag-as/);
    expect(usageMessage(() => planPullRun(["a:1", "b:1"], { to: "oci:./layout:tag" }))).toMatch(
      /--to oci:DIR:TAG names one image; .*--to oci:DIR \(each image is tagged by its reference\)/,
    );
    expect(usageMessage(() => planPullRun(["a:1", "b:1"], { to: "oci:x", host: ["ssh://b-1"] }))).toMatch(/--to .* --host/);
    expect(usageMessage(() => planPullRun(["a:1"], { to: "oci:x", host: ["ssh://b-1", "ssh://b-2"] }))).toMatch(/--to .* --host/);
    expect(usageMessage(() => planPullRun(["a:1", "b:1"], { host: ["unix:///a", "tcp://b:2375"], identity: "/k" }))).toMatch(
      /-i\/--identity/,
    );
    expect(usageMessage(() => planPullRun(["a:1"], { host: ["ssh://b-1", "ssh://b-1"] }))).toMatch(/--host ssh:\/\/b-1 is given twice/);
    expect(usageMessage(() => planPullRun(["a:1", "b:1"], { certDir: "./c" }))).toMatch(/--cert-dir applies to --to/);
  });
});

describe("--jobs", () => {
  it("takes a whole number from 1 to 64, default 4", () => {
    expect(parseJobs(undefined)).toBe(4);
    expect(parseJobs("1")).toBe(1);
    expect(parseJobs("64")).toBe(64);
    for (const bad of ["0", "65", "-1", "2.5", "four", "", "1e1"])
      expect(
        usageMessage(() => parseJobs(bad)),
        bad,
      ).toMatch(/--jobs must be a whole number from 1 to 64/);
  });

  it("is checked for one image too", () => {
    expect(usageMessage(() => planPullRun(["a:1"], { jobs: "0" }))).toMatch(/--jobs/);
  });
});
