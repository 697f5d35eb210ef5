import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PullbackError } from "../../src/errors.js";
import { defaultCertsDirs, loadHostTrust } from "../../src/registry/trust.js";

let root: string;
const pem = (name: string): string => `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`;

async function put(path: string, text: string): Promise<string> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
  return path;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "pullback-trust-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("loadHostTrust: the certs.d layout of docker and containers", () => {
  it("defaults to /etc/containers/certs.d, /etc/docker/certs.d and the rootless XDG directory", () => {
    expect(defaultCertsDirs({ XDG_CONFIG_HOME: "/home/me/.cfg" })).toEqual([
      "/etc/containers/certs.d",
      "/etc/docker/certs.d",
      "/home/me/.cfg/containers/certs.d",
    ]);
    expect(defaultCertsDirs({ HOME: "/home/me" })[2]).toBe("/home/me/.config/containers/certs.d");
  });

  it("takes every *.crt of HOST:PORT as a CA, on top of the system store, and NAME.cert + NAME.key as the client certificate", async () => {
    const docker = join(root, "docker");
    const containers = join(root, "containers");
    await put(join(docker, "reg.corp:5443", "ca.crt"), pem("docker-ca"));
    await put(join(containers, "reg.corp:5443", "extra.crt"), pem("containers-ca"));
    await put(join(containers, "reg.corp:5443", "client.cert"), pem("client"));
    await put(join(containers, "reg.corp:5443", "client.key"), "KEY");
    await put(join(docker, "other.corp", "ca.crt"), pem("other-ca"));
    const trust = await loadHostTrust("reg.corp:5443", { certsDirs: [containers, docker] }, {});
    expect(trust.ca?.length).toBe(rootCertificates.length + 2);
    expect(trust.ca?.slice(-2)).toEqual([pem("containers-ca"), pem("docker-ca")]);
    expect(trust.cert?.toString()).toBe(pem("client"));
    expect(trust.key?.toString()).toBe("KEY");
    expect(trust.searched).toEqual([join(containers, "reg.corp:5443"), join(docker, "reg.corp:5443")]);
    expect(trust.rejectUnauthorized).toBe(true);
  });

  it("leaves Node's defaults alone when nothing extra is configured", async () => {
    const trust = await loadHostTrust("ghcr.io", { certsDirs: [join(root, "none")] }, {});
    expect(trust.ca).toBeUndefined();
    expect(trust.cert).toBeUndefined();
  });

  it("reads NODE_EXTRA_CA_CERTS from the environment it is given", async () => {
    const extra = await put(join(root, "extra.pem"), pem("extra"));
    const trust = await loadHostTrust("ghcr.io", { certsDirs: [] }, { NODE_EXTRA_CA_CERTS: extra });
    expect(trust.ca?.at(-1)).toBe(pem("extra"));
    expect(trust.files).toEqual([extra]);
  });

  it("looks up Docker Hub's endpoint under docker.io too", async () => {
    await put(join(root, "docker.io", "ca.crt"), pem("hub"));
    const trust = await loadHostTrust("registry-1.docker.io", { certsDirs: [root] }, {});
    expect(trust.ca?.at(-1)).toBe(pem("hub"));
  });

  it("--cert-dir replaces the certs.d lookup, as skopeo's does", async () => {
    await put(join(root, "certs.d", "reg.corp", "ca.crt"), pem("certs-d"));
    const dir = join(root, "cert-dir");
    await put(join(dir, "ca.crt"), pem("cert-dir"));
    const trust = await loadHostTrust("reg.corp", { certDir: dir, certsDirs: [join(root, "certs.d")] }, {});
    expect(trust.ca?.at(-1)).toBe(pem("cert-dir"));
    expect(trust.ca).not.toContain(pem("certs-d"));
    expect(trust.searched).toEqual([dir]);
  });

  it("refuses half a client pair instead of connecting without the certificate that was meant", async () => {
    await put(join(root, "reg.corp", "client.cert"), pem("client"));
    await expect(loadHostTrust("reg.corp", { certsDirs: [root] }, {})).rejects.toThrow(/client\.cert has no matching key .*client\.key/);
    await rm(join(root, "reg.corp", "client.cert"));
    await put(join(root, "reg.corp", "client.key"), "KEY");
    await expect(loadHostTrust("reg.corp", { certsDirs: [root] }, {})).rejects.toBeInstanceOf(PullbackError);
  });

  it("honours insecureSkipVerify", async () => {
    expect((await loadHostTrust("reg.corp", { certsDirs: [], insecureSkipVerify: true }, {})).rejectUnauthorized).toBe(false);
  });
});
