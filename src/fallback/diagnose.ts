/**
 * Turns a classified pull failure into what a person needs: a summary, the why,
 * and numbered steps with the command that does each. Every ErrorKind has its
 * diagnosis here; an error that arrives with its own (a precise TLS, disk or
 * integrity diagnosis built where the facts were known) keeps it.
 */
import type { Diagnosis, RecoveryStep } from "../errors.js";
import type { Classification } from "./classification.js";
import { daemonNetworkDiagnosis } from "./daemon-network-diagnosis.js";
import type { PullAttempt } from "./pull-outcome.js";

export interface FailureContext {
  readonly classification: Classification;
  readonly attempts: readonly PullAttempt[];
  readonly image: string;
  readonly registry: string;
  /** The credential's description, when one was used; never the secret. */
  readonly credentialSource: string | undefined;
  readonly fallbackDisabled: boolean;
}

/** The diagnosis for a pull whose every attempt failed. */
export function diagnosePullFailure(context: FailureContext): Diagnosis {
  switch (context.classification.kind) {
    case "auth":
      return context.classification.ambiguousNotFound ? notFoundOrDenied(context) : authDiagnosis(context);
    case "credentials":
    case "config":
      return {
        summary: `pullback could not use the configured credentials for ${context.registry}`,
        explanation: context.classification.reason,
        steps: [
          { text: "Check which credentials pullback would use", command: `pullback check ${context.image}` },
          { text: "Fix the Docker config or the credential helper it names, or pass credentials with --username and --password-stdin" },
        ],
        retryable: false,
      };
    case "not-found":
      return {
        summary: `${context.image} was not found on ${context.registry}`,
        explanation: `The registry answered that the repository, tag or digest does not exist (${context.classification.reason}). Registries also say this for a private repository that the caller may not see.`,
        steps: [
          { text: "Check the image name and tag for typos", command: `pullback check ${context.image}` },
          { text: "List the tags that exist", command: `skopeo list-tags docker://${withoutTag(context.image)}` },
          { text: "If the repository is private, pull with credentials that can read it" },
        ],
        retryable: false,
      };
    case "rate-limited":
      return {
        summary: `${context.registry} is rate-limiting pulls`,
        explanation: `The registry refused the pull with a rate limit (${context.classification.reason}). pullback does not retry anonymously on a rate limit: anonymous pulls have lower limits.`,
        steps: [
          { text: "Wait for the limit window to pass, then pull again" },
          { text: "Authenticate: authenticated pulls have higher limits", command: `docker login ${context.registry}` },
          { text: "Use a pull-through mirror for this registry" },
        ],
        retryable: true,
      };
    case "network":
      return (
        daemonNetworkDiagnosis({ reason: context.classification.reason, registry: context.registry, image: context.image }) ?? {
          summary: `${context.registry} could not be reached`,
          explanation: `The pull failed before the registry could answer (${context.classification.reason}). This says nothing about the credentials, so pullback did not retry anonymously.`,
          steps: [
            // The endpoint actually contacted: Docker Hub is served by registry-1.docker.io.
            {
              text: "Check that the registry host resolves and accepts connections",
              command: `curl -sSI https://${context.registry === "docker.io" ? "registry-1.docker.io" : context.registry}/v2/`,
            },
            { text: "Check proxy settings (HTTPS_PROXY, NO_PROXY) of the machine that pulls" },
            { text: "Pull again once the network is back" },
          ],
          retryable: true,
        }
      );
    case "daemon-unreachable":
      return {
        summary: "The Docker daemon could not be reached",
        explanation: context.classification.reason,
        steps: [
          { text: "Check that the daemon runs and that DOCKER_HOST or --host names it", command: "docker version" },
          { text: "Pull without a daemon into an OCI layout instead", command: `pullback pull ${context.image} --to oci:./images` },
        ],
        retryable: true,
      };
    case "integrity":
      return {
        summary: `${context.registry} served ${context.image} with content that does not match its digest`,
        explanation: `${context.classification.reason}. pullback refused the content and kept nothing of it; the credentials were not the problem, so it did not retry anonymously.`,
        steps: [
          { text: "Pull again: a transfer corrupted on the way (a proxy, a flaky link) usually arrives whole the next time" },
          {
            text: "If it fails the same way again, the registry stores a corrupt blob: tell its operators which digest",
            command: `skopeo inspect docker://${context.image}`,
          },
        ],
        retryable: true,
      };
    case "limit":
      return {
        summary: `${context.registry} served something larger or deeper than pullback accepts for ${context.image}`,
        explanation: `${context.classification.reason}. The limits protect the machine from hostile or broken registries; a real image stays far below them.`,
        steps: [
          {
            text: "Check that the reference names an image and that the registry is the one you meant",
            command: `skopeo inspect --raw docker://${context.image}`,
          },
        ],
        retryable: false,
      };
    case "io":
      return {
        summary: `Writing ${context.image} to disk failed`,
        explanation: context.classification.reason,
        steps: [
          {
            text: "Check the free space and permissions where the image is written (a daemon writes under its data root)",
            command: "docker info --format '{{.DockerRootDir}}'",
          },
          { text: "Run the same command again once there is room: blobs already stored are reused" },
        ],
        retryable: false,
      };
    case "usage":
    case "reference":
      // The refusal's own words say what to change; a summary around them would only hide them.
      return {
        summary: context.classification.reason,
        explanation: context.classification.reason,
        steps: [{ text: "Correct the command as the message says", command: "pullback pull --help" }],
        retryable: false,
      };
    case "local-only":
      return {
        summary: `${context.image} can only have been built locally`,
        explanation: context.classification.reason,
        steps: [{ text: "Build or load the image, or name the registry it lives in" }],
        retryable: false,
      };
    case "registry":
      return {
        summary: `${context.registry} failed to serve ${context.image}`,
        explanation: `The registry answered with an error of its own (${context.classification.reason}). This says nothing about the credentials, so pullback did not retry anonymously.`,
        steps: [{ text: "Pull again in a few minutes: registry errors are often passing" }, { text: "Check the registry's status page" }],
        retryable: true,
      };
    case "platform":
      return {
        summary: `${context.image} has no variant for the requested platform`,
        explanation: `${context.classification.reason}.`,
        steps: [
          { text: "See which platforms the image offers", command: `skopeo inspect --raw docker://${context.image}` },
          { text: "Pull with a platform it offers", command: `pullback pull ${context.image} --platform linux/amd64` },
        ],
        retryable: false,
      };
    case "other":
    default:
      return {
        summary: `Pulling ${context.image} failed`,
        explanation: context.classification.reason,
        steps: [{ text: "Run again with -v to see every exchange with the registry and the daemon" }],
        retryable: false,
      };
  }
}

/**
 * Refused in a way the registry also uses for a repository that does not exist: say exactly that.
 * (Docker Hub, quay.io and distribution's token auth all answer so; none tells the two apart.)
 */
function notFoundOrDenied(context: FailureContext): Diagnosis {
  const source = context.credentialSource;
  const who = source === undefined ? "an anonymous pull may not read it" : "these credentials may not read it";
  const tried =
    context.attempts.some((a) => a.identity.anonymous) && source !== undefined ? " The anonymous retry was refused the same way." : "";
  return {
    summary: `${context.image} was not found, or ${who}`,
    explanation: `${source === undefined ? `${context.registry} refused an anonymous pull` : `${refusedBy(source, context.registry)}`}, and ${context.registry} answers the same for a repository that does not exist and for one the caller may not read (${context.classification.reason}).${tried}`,
    steps: [
      { text: "Check the image name and tag for typos", command: `pullback check ${context.image}` },
      { text: "If the repository is private, pull with credentials that can read it", command: `docker login ${context.registry}` },
      { text: "For a token (ghcr.io, GitLab, …), check that it carries the read scope for packages (for GitHub: read:packages)" },
    ],
    retryable: false,
  };
}

function authDiagnosis(context: FailureContext): Diagnosis {
  const triedAnonymously = context.attempts.some((a) => a.identity.anonymous);
  const source = context.credentialSource;
  const explanation = [
    source ? `${refusedBy(source, context.registry)}.` : `${context.registry} refused an anonymous pull.`,
    triedAnonymously && source ? "The anonymous retry was refused too, so the image is private (or does not exist)." : "",
    context.fallbackDisabled ? "The anonymous retry was switched off." : "",
    `The registry said: ${context.classification.reason}.`,
  ]
    .filter(Boolean)
    .join(" ");
  const steps: RecoveryStep[] = [
    { text: "Log in with credentials that can read this repository", command: `docker login ${context.registry}` },
    {
      text: "Or pass them to pullback, the secret on stdin",
      command: `printf '%s' "$TOKEN" | pullback pull ${context.image} --username USER --password-stdin`,
    },
    {
      text: "For a token (ghcr.io, GitLab, …), check that it has not expired and carries the read scope for packages (for GitHub: read:packages)",
    },
    {
      text: "Check which credentials pullback would use and whether the registry accepts them",
      command: `pullback check ${context.image}`,
    },
    { text: "Check the environment: PULLBACK_REGISTRY_USERNAME / PULLBACK_REGISTRY_TOKEN override the Docker config" },
  ];
  return { summary: `Access to ${context.image} was refused`, explanation, steps, retryable: false };
}

/** "the token from X was refused by R" / "the credentials in F were refused by R". */
export function refusedBy(credentialDescription: string, registry: string): string {
  const verb = /\bcredentials\b/.test(credentialDescription) ? "were" : "was";
  return `${credentialDescription} ${verb} refused by ${registry}`;
}

function withoutTag(image: string): string {
  return image.replace(/@.*$/, "").replace(/:[^/:]*$/, "");
}
