/**
 * The TypeScript program a user would write against the installed package
 * (written into the temp project as consumer.ts). It names the public API, values
 * and types, so a rename or a missing export fails its type-check; then it runs
 * against the world and prints one JSON line the test asserts on. Kept as text:
 * in this repository "pullback" would resolve to the checkout, not to the tarball.
 */
export const CONSUMER_TS = `
import {
  classifyPullError, connectDocker, Credential, ensureImage, formatPlatform, isLocalImageRef, isPullbackError,
  normalizeArchitecture, parseDestination, parsePlatform, parseReference, pullImage, PullError, PullbackError,
  pullRemoteImage, pullWithFallback, readRegistriesConfig, renderPullSecret, resolveCredentials, verifyCredentials,
  writeRegistriesConfig,
} from "pullback";
import type {
  AttemptIdentity, Classification, ClusterRegistry, CredentialSource, DaemonImage, Diagnosis, DockerConnection,
  EnsureImageOptions, ErrorKind, FailureKind, ImageReference, OciPulledImage, Platform, PullAttempt, PullDestination,
  PullEvent, PullEventListener, PullImageOptions, PullOutcome, PullRemoteImageOptions, RegistryDecision, Verdict,
  Verification, WriteRegistriesConfigResult,
} from "pullback";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Type-level use of the public types: an exhaustive switch fails to compile if the event union changes shape.
function describe(event: PullEvent): string {
  switch (event.type) {
    case "attempt-started": return "start " + (event.identity.anonymous ? "anonymous" : event.identity.source);
    case "layer": return "layer " + event.id;
    case "warning": return "warning " + event.code;
    case "attempt-failed": return "failed " + event.kind;
    case "done": return "done " + event.image;
    default: { const never: never = event; return never; }
  }
}
const listener: PullEventListener = (event) => void describe(event);
const kinds: ErrorKind[] = ["auth", "not-found", "network", "platform", "usage"];
const failure: FailureKind = "auth";
const verdicts: Verdict[] = ["accepted", "rejected", "no-access", "unreachable"];
const source: CredentialSource = { type: "env", secretVariable: "CONSUMER_ALICE_PASSWORD" };
const identity: AttemptIdentity = { anonymous: true };
const destination: PullDestination = parseDestination("oci:/tmp/layout:app");
const platform: Platform = parsePlatform("linux/arm64/v8");
const registryEntry: ClusterRegistry = { host: "127.0.0.1:5000", insecure: true };
const optionsShapes: [EnsureImageOptions, PullRemoteImageOptions, Omit<PullImageOptions, "to">] = [{ onEvent: listener }, { tagAs: "app:dev" }, { fallback: false }];
type Shapes = [PullOutcome<DaemonImage>, PullOutcome<OciPulledImage>, Verification, PullAttempt, Diagnosis, Classification, DockerConnection, RegistryDecision, WriteRegistriesConfigResult, ImageReference];
const unused: Partial<Record<keyof Shapes & number, unknown>> = {};
void [kinds, failure, verdicts, identity, destination, registryEntry, optionsShapes, unused, ensureImage, pullRemoteImage, connectDocker, pullWithFallback, renderPullSecret, writeRegistriesConfig, resolveCredentials];

const registry = process.env.CONSUMER_TOKEN_REGISTRY!;
const alice = Credential.basic(process.env.CONSUMER_ALICE_USER!, process.env.CONSUMER_ALICE_PASSWORD!, source);
const wrong = Credential.basic(process.env.CONSUMER_ALICE_USER!, process.env.CONSUMER_WRONG_PASSWORD!, { type: "explicit", label: "the wrong password" });

const accepted = await verifyCredentials(registry + "/private/app:1", alice);
const rejected = await verifyCredentials(registry + "/private/app:1", wrong);

let anonymousPrivate: unknown;
try {
  await pullImage(registry + "/private/app:1", { to: parseDestination("oci:" + (await mkdtemp(join(tmpdir(), "consumer-")))) });
} catch (error) {
  anonymousPrivate = error;
}

console.log(JSON.stringify({
  reference: parseReference("nginx").toString(),
  familiar: parseReference(registry + "/public/app:1").familiar(),
  localOnly: isLocalImageRef("myapp"),
  platform: formatPlatform(platform),
  arch: normalizeArchitecture("x86_64"),
  registriesConfigErrors: readRegistriesConfig("mirrors: [").errors.length > 0,
  accepted: accepted.verdict,
  acceptedSource: accepted.credentialSource,
  rejected: rejected.verdict,
  classified: classifyPullError(new Error("unauthorized: authentication required")).kind,
  anonymousPrivate: {
    pullError: anonymousPrivate instanceof PullError,
    pullbackError: anonymousPrivate instanceof PullbackError,
    auth: isPullbackError(anonymousPrivate, "auth"),
    steps: anonymousPrivate instanceof PullError ? anonymousPrivate.diagnosis.steps.length : 0,
  },
  credentialText: String(alice) + JSON.stringify(alice),
}));
`;
