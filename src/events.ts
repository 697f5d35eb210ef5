/**
 * Progress events, shared by every pull path. A tagged union, secret-free by
 * construction: credentials appear only as their `source` description.
 */
import type { FailureKind } from "./fallback/classification.js";

/** Who an attempt pulled as: a credential's source ("the token from PULLBACK_REGISTRY_TOKEN") or nobody. */
export type AttemptIdentity = { readonly anonymous: true } | { readonly anonymous: false; readonly source: string };

export interface AttemptStartedEvent {
  readonly type: "attempt-started";
  readonly attempt: number;
  readonly image: string;
  readonly identity: AttemptIdentity;
  /** The remote host an SSH path pulls on; absent for the local daemon and daemonless paths. */
  readonly host?: string;
}

export interface LayerEvent {
  readonly type: "layer";
  readonly id: string;
  /** "waiting" | "downloading" | "verifying" | "extracting" | "done" | "exists", or the daemon's own words. */
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
  readonly host?: string;
}

export interface WarningEvent {
  readonly type: "warning";
  readonly code: "credentials-refused" | "credentials-unverified" | "realm-other-host" | "other";
  readonly message: string;
  readonly host?: string;
}

export interface AttemptFailedEvent {
  readonly type: "attempt-failed";
  readonly attempt: number;
  readonly kind: FailureKind;
  readonly message: string;
  readonly willRetryAnonymously: boolean;
  readonly host?: string;
}

export interface DoneEvent {
  readonly type: "done";
  readonly image: string;
  readonly digest?: string;
  readonly host?: string;
}

export type PullEvent = AttemptStartedEvent | LayerEvent | WarningEvent | AttemptFailedEvent | DoneEvent;

/** Where callers receive events. Listeners must not throw; a throwing listener is ignored. */
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
