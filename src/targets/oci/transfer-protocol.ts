/**
 * What the pull's thread and a transfer worker say to each other: a blob job goes
 * out, progress, `-v` exchanges and warnings come back, then the job's ending.
 * Errors cross as plain data and are rebuilt into the same PullbackError (kind,
 * reason, diagnosis, registry details, the cause's code) on the pull's thread.
 */
import { PullbackError, type Diagnosis, type ErrorKind } from "../../errors.js";
import type { Exchange } from "../../registry/http.js";
import { RegistryResponseError, type RegistryResponseDetails } from "../../registry/registry-error.js";
import type { BlobAnswer, BlobRequest, TransferConfig } from "../../registry/registry-client.js";
import type { BlobTarget } from "./blob-store.js";

/** One try at one blob: a request (with its authorization), the store it goes into, and the blob it must be. */
export interface TransferJob {
  readonly id: number;
  /** Names the HTTP settings: a worker keeps one HttpClient (and its keep-alive connections) per config. */
  readonly configId: number;
  readonly config: TransferConfig;
  /** The OCI layout (or staging area) root whose blobs/sha256 receives the blob. */
  readonly storeRoot: string;
  readonly target: BlobTarget;
  /** "blob sha256:… of public/app:1", for messages. */
  readonly what: string;
  readonly request: BlobRequest;
}

/** What a finished try reports: the bytes held when it ended (a resumed prefix included). */
export interface TransferResult {
  readonly received: number;
}

export type ToWorker =
  | { readonly type: "job"; readonly job: TransferJob }
  | { readonly type: "abort"; readonly id: number }
  | { readonly type: "release"; readonly configId: number };

export type FromWorker =
  | { readonly type: "progress"; readonly id: number; readonly received: number }
  | { readonly type: "exchange"; readonly id: number; readonly exchange: Exchange }
  | { readonly type: "warning"; readonly id: number; readonly message: string }
  | { readonly type: "done"; readonly id: number; readonly answer: BlobAnswer<TransferResult> }
  | { readonly type: "failed"; readonly id: number; readonly error: WireError; readonly received: number };

/** Thrown by a try that failed in a worker: the bytes it held, for the resume policy. */
export class TransferFailure extends Error {
  constructor(
    readonly error: Error,
    readonly received: number,
  ) {
    super(error.message, { cause: error });
  }
}

/** An error as plain data. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly kind?: ErrorKind;
  readonly reason?: string;
  readonly diagnosis?: Diagnosis;
  readonly registry?: RegistryResponseDetails;
  readonly code?: string;
  readonly cause?: WireError;
}

/**
 * An error as data that survives postMessage (a structured clone keeps only name and message).
 *
 * @example
 * port.postMessage({ type: "failed", id, error: errorToWire(error), received });
 */
export function errorToWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as { code?: unknown }).code;
  const wire: { -readonly [K in keyof WireError]: WireError[K] } = { name: error.name, message: error.message };
  if (typeof code === "string") wire.code = code;
  if (error instanceof PullbackError) {
    wire.kind = error.kind;
    if (error.reason !== undefined) wire.reason = error.reason;
    if (error.diagnosis !== undefined) wire.diagnosis = error.diagnosis;
  }
  if (error instanceof RegistryResponseError) {
    wire.registry = {
      status: error.status,
      codes: error.codes,
      registryMessage: error.registryMessage,
      source: error.source,
      ...(error.challengeError === undefined ? {} : { challengeError: error.challengeError }),
    };
  }
  // Causes say what the system said (ECONNRESET, ENOSPC): two levels are all any diagnosis reads.
  if (error.cause !== undefined && depth < 2) wire.cause = errorToWire(error.cause, depth + 1);
  return wire;
}

/**
 * The error again, as the class it was thrown as.
 *
 * @example
 * throw errorFromWire(message.error);
 */
export function errorFromWire(wire: WireError): Error {
  const cause = wire.cause === undefined ? undefined : errorFromWire(wire.cause);
  if (wire.kind !== undefined) {
    const options = { cause, diagnosis: wire.diagnosis, reason: wire.reason };
    return wire.registry !== undefined
      ? new RegistryResponseError(wire.kind, wire.message, wire.registry, options)
      : new PullbackError(wire.kind, wire.message, options);
  }
  const error = new Error(wire.message, cause === undefined ? undefined : { cause });
  error.name = wire.name;
  return wire.code === undefined ? error : Object.assign(error, { code: wire.code });
}
