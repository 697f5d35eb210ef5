/**
 * Turns a classified pull failure into what a person needs: a summary, the why,
 * and numbered steps with the command that does each.
 */
import type { Diagnosis, RecoveryStep } from "../errors.js";
import type { Classification } from "./classification.js";
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
      return authDiagnosis(context);
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
      return {
        summary: `${context.registry} could not be reached`,
        explanation: `The pull failed before the registry could answer (${context.classification.reason}). This says nothing about the credentials, so pullback did not retry anonymously.`,
        steps: [
          // The endpoint actually contacted: Docker Hub is served by registry-1.docker.io.
          { text: "Check that the registry host resolves and accepts connections", command: `curl -sSI https://${context.registry === "docker.io" ? "registry-1.docker.io" : context.registry}/v2/` },
          { text: "Check proxy settings (HTTPS_PROXY, NO_PROXY) of the machine that pulls" },
          { text: "Pull again once the network is back" },
        ],
        retryable: true,
      };
    case "registry":
      return {
        summary: `${context.registry} failed to serve ${context.image}`,
        explanation: `The registry answered with an error of its own (${context.classification.reason}). This says nothing about the credentials, so pullback did not retry anonymously.`,
        steps: [
          { text: "Pull again in a few minutes: registry errors are often passing" },
          { text: "Check the registry's status page" },
        ],
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
      return {
        summary: `Pulling ${context.image} failed`,
        explanation: context.classification.reason,
        steps: [{ text: "Run again with -v to see every exchange with the registry and the daemon" }],
        retryable: false,
      };
  }
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
    { text: "Or pass them to pullback, the secret on stdin", command: `printf '%s' "$TOKEN" | pullback pull ${context.image} --username USER --password-stdin` },
    { text: "For a token (ghcr.io, GitLab, …), check that it has not expired and carries the read scope for packages (for GitHub: read:packages)" },
    { text: "Check which credentials pullback would use and whether the registry accepts them", command: `pullback check ${context.image}` },
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
