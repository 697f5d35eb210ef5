/**
 * Progress events, shared by every pull path. A tagged union, secret-free by
 * construction: credentials appear only as their `source` description.
 * Optional fields may hold `undefined` (JSON leaves them out), so callers pass values straight through.
 */
import type { ErrorKind } from "./errors.js";

/**
 * Who an attempt pulled as: a credential's source ("the token from PULLBACK_REGISTRY_TOKEN") or nobody.
 *
 * @example
 * const who = event.identity.anonymous ? "anonymously" : `with ${event.identity.source}`;
 */
export type AttemptIdentity = { readonly anonymous: true } | { readonly anonymous: false; readonly source: string };

/**
 * An attempt begins: which one (1, or 2 for the anonymous retry), of what, as whom.
 *
 * @example
 * // { type: "attempt-started", attempt: 1, image: "ghcr.io/acme/app:1", identity: { anonymous: false, source: "the token from PULLBACK_REGISTRY_TOKEN" } }
 */
export interface AttemptStartedEvent {
  readonly type: "attempt-started";
  readonly attempt: number;
  readonly image: string;
  readonly identity: AttemptIdentity;
  /** The remote host an SSH path pulls on; absent for the local daemon and daemonless paths. */
  readonly host?: string | undefined;
}

/**
 * Progress of one layer (or blob); `current`/`total` in bytes when known.
 *
 * @example
 * if (event.type === "layer" && event.total) bar(event.id).update(event.current ?? 0, event.total);
 */
export interface LayerEvent {
  readonly type: "layer";
  readonly id: string;
  /** "waiting" | "downloading" | "verifying" | "extracting" | "done" | "exists", or the daemon's own words. */
  readonly status: string;
  readonly current?: number | undefined;
  readonly total?: number | undefined;
  readonly host?: string | undefined;
  /** The image this event belongs to; set when several images are pulled in one run. */
  readonly image?: string | undefined;
}

/**
 * Something the user must see although the pull goes on, such as refused credentials.
 *
 * @example
 * if (event.type === "warning" && event.code === "credentials-refused") console.warn(event.message);
 */
export interface WarningEvent {
  readonly type: "warning";
  /** Closed: add a code here when a new kind of warning is emitted. */
  readonly code: "credentials-refused" | "destination-replaced" | "other";
  readonly message: string;
  readonly host?: string | undefined;
  /** The image this warning arose for; set when several images are pulled in one run. */
  readonly image?: string | undefined;
  /** For `credentials-refused`: the registry that refused, and the credential's source (never the secret). */
  readonly registry?: string | undefined;
  readonly source?: string | undefined;
}

/**
 * An attempt failed; `willRetryAnonymously` says whether the anonymous retry follows.
 *
 * @example
 * if (event.type === "attempt-failed" && !event.willRetryAnonymously) console.error(`${event.kind}: ${event.message}`);
 */
export interface AttemptFailedEvent {
  readonly type: "attempt-failed";
  readonly attempt: number;
  /** The failure's kind, as on PullbackError: the same word from the attempt to the exit code. */
  readonly kind: ErrorKind;
  /** The error's stable `reason` ("tls-unknown-ca", "disk-full", "not-found-or-denied"), where it has one. */
  readonly reason?: string | undefined;
  readonly message: string;
  readonly willRetryAnonymously: boolean;
  readonly host?: string | undefined;
  /** The image this attempt was for; set when several images are pulled in one run. */
  readonly image?: string | undefined;
}

/**
 * The image is there; `digest` is the manifest digest when known.
 *
 * @example
 * if (event.type === "done") console.log(`${event.image} ${event.digest ?? ""}`);
 */
export interface DoneEvent {
  readonly type: "done";
  readonly image: string;
  readonly digest?: string | undefined;
  /** The registry was asked and the daemon already held this image: nothing was downloaded ("Image is up to date"). */
  readonly upToDate?: true | undefined;
  readonly host?: string | undefined;
}

/**
 * Every event a pull emits, told apart by `type`.
 *
 * @example
 * const onEvent = (event: PullEvent): void => {
 *   if (event.type === "warning") console.warn(event.message);
 * };
 */
export type PullEvent = AttemptStartedEvent | LayerEvent | WarningEvent | AttemptFailedEvent | DoneEvent;

/**
 * Where callers receive events. Listeners must not throw; a throwing listener is ignored.
 *
 * @example
 * const listener: PullEventListener = (event) => { if (event.type === "done") console.log(event.image) };
 */
export type PullEventListener = (event: PullEvent) => void;

/** Deliver an event without letting a faulty listener break a pull. */
export function emit(listener: PullEventListener | undefined, event: PullEvent): void {
  if (!listener) return;
  try {
    listener(event);
  } catch {
    // A progress display that fails must not fail the pull.
  }
}
