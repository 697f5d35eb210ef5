/**
 * pullback's public API. Every export is listed by name; nothing else is public.
 */

// Errors and events
export { PullbackError, isPullbackError } from "./errors.js";
export type { ErrorKind, Diagnosis, RecoveryStep } from "./errors.js";
export type {
  PullEvent,
  PullEventListener,
  AttemptIdentity,
  AttemptStartedEvent,
  LayerEvent,
  WarningEvent,
  AttemptFailedEvent,
  DoneEvent,
} from "./events.js";

// References
export { parseReference, isLocalImageRef } from "./reference/parse-reference.js";
export type { ImageReference } from "./reference/parse-reference.js";

// Credentials
export { Credential } from "./credentials/credential.js";
export type { CredentialSource, CredentialKind } from "./credentials/credential.js";
export { resolveCredentials } from "./credentials/resolve-credentials.js";
export type { ResolveCredentialsOptions } from "./credentials/resolve-credentials.js";

// Registry verification
export { verifyCredentials } from "./registry/verify-credentials.js";
export type { Verdict, Verification, VerifyOptions } from "./registry/verify-credentials.js";

// Trust and proxies for pullback's own requests
export type { TlsOptions } from "./registry/trust.js";
export type { ProxyEnv } from "./registry/proxy.js";

// Fallback policy and outcomes
export { classifyPullError } from "./fallback/classification.js";
export type { FailureKind, Classification, AnonymousRetryDecision } from "./fallback/classification.js";
export { pullWithFallback } from "./fallback/pull-with-fallback.js";
export type { FallbackOptions, FallbackChoiceOptions, PullAttemptFn } from "./fallback/pull-with-fallback.js";
export { PullError } from "./fallback/pull-outcome.js";
export type { PullAttempt, AttemptFailure, PullOutcome } from "./fallback/pull-outcome.js";

// Docker daemons, local and over SSH
export { connectDocker } from "./targets/docker/connect-docker.js";
export type { ConnectDockerOptions, DockerConnection, SshCommands } from "./targets/docker/connect-docker.js";
export type { SshOptions } from "./targets/docker/ssh-command.js";
export type { DaemonVersion } from "./targets/docker/engine.js";
export { ensureImage } from "./targets/docker/ensure-image.js";
export type { EnsureImageOptions } from "./targets/docker/ensure-image.js";
export { pullRemoteImage } from "./targets/docker/pull-remote-image.js";
export type { PullRemoteImageOptions } from "./targets/docker/pull-remote-image.js";
export { ensureImages } from "./targets/docker/ensure-images.js";
export type { EnsureImagesOptions } from "./targets/docker/ensure-images.js";
export { pullRemoteImages } from "./targets/docker/pull-remote-images.js";
export type { PullRemoteImagesOptions } from "./targets/docker/pull-remote-images.js";
export type { ImageSetItem } from "./sets/set-result.js";
export type { DaemonImage } from "./targets/docker/daemon-pull.js";
export type { CredentialChoiceOptions } from "./targets/credential-choice.js";
export type { PullPolicy } from "./pull-policy.js";

// Daemonless: OCI layout and docker-archive
export { pullImage, parseDestination } from "./targets/oci/pull-image.js";
export type { PullImageOptions, OciPulledImage, PullDestination } from "./targets/oci/pull-image.js";
export { pullImages } from "./targets/oci/pull-images.js";
export type { PullImagesOptions } from "./targets/oci/pull-images.js";

// Cluster: k3s/RKE2 registries.yaml and Kubernetes pull secrets
export { writeRegistriesConfig } from "./targets/cluster/write-registries-config.js";
export type {
  WriteRegistriesConfigOptions,
  WriteRegistriesConfigResult,
  RegistryDecision,
  ClusterRegistry,
} from "./targets/cluster/write-registries-config.js";
export { renderPullSecret } from "./targets/cluster/k8s-pull-secret.js";
export type { RenderPullSecretOptions, PullSecretResult } from "./targets/cluster/k8s-pull-secret.js";
export { readRegistriesConfig } from "./targets/cluster/registries-config.js";
export type { RegistriesConfig, RegistriesConfigReadResult, ConfigIssue } from "./targets/cluster/registries-config.js";

// Platforms
export { parsePlatform, formatPlatform, normalizeArchitecture } from "./platform.js";
export type { Platform } from "./platform.js";
