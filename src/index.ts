/**
 * pullback's public API. Every export is listed by name; nothing else is public.
 */
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
export type { FailureKind, Classification } from "./fallback/classification.js";
