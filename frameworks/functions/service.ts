/**
 * What the function runner's HTTP API (OpenWhisk's `/api/v1`) asks of its
 * scheduler, and nothing more: the API is written and tested against this,
 * the scheduler implements it.
 *
 * Errors the methods throw (lib/errors.ts, mapped to HTTP by the
 * foundation): UnavailableError (503) while this instance does not lead,
 * NotFoundError (404) for an unknown function, version or activation,
 * LimitExceededError (429) for a full queue — its message says when to come
 * back, and `retryAfterSeconds` on the error gives the `Retry-After` header.
 */
import type { Activation } from './activation';
import type { FunctionSpec } from './function-schema';
import type { StoredVersion } from './versions';

/** How an invocation is asked for. */
export interface InvokeRequest {
  namespace: string;
  name: string;
  /** A pinned version (`0.0.3` or `3`); the latest when left out. */
  version?: string;
  /** The parameters (the function's defaults are merged under them by the service). */
  params: Record<string, unknown>;
  /** The caller's subject, recorded in the activation. */
  subject: string;
}

/** One worker of a function, as `GET …/actions/{name}/workers` shows it. */
export interface WorkerView {
  /** Its task id (`mezz tasks`), or the pool's worker id before it is launched. */
  id: string;
  /** launching, initialising, ready or draining. */
  state: string;
  /** The version it runs, `0.0.N`. */
  version: string;
  /** Invocations running on it now. */
  inflight: number;
  /** When it last had nothing in flight (ms since the epoch). */
  idleSince: number;
}

/** The answer to an invocation: the activation once it ended, or only its id when `waitMs` passed first. */
export type InvokeResult = { activation: Activation } | { activationId: string; pending: true };

export interface FunctionsService {
  /** Whether this instance leads and has loaded its state. */
  leading(): boolean;
  /** The functions of a namespace, latest versions, sorted by name. */
  functions(namespace: string): StoredVersion[];
  /** A function's latest version, or a pinned one. */
  function(namespace: string, name: string, version?: string): StoredVersion | undefined;
  /** Every stored version of a function, newest first. */
  versions(namespace: string, name: string): StoredVersion[];
  /** The workers holding a function now (stems belong to none until specialised). */
  workers(namespace: string, name: string): WorkerView[];
  /**
   * Stores `spec` as the function's next version (its code already checked
   * by `checkCode`). `overwrite: false` refuses an existing function (409,
   * as OpenWhisk's PUT without `?overwrite=true`).
   */
  putFunction(spec: FunctionSpec, overwrite: boolean): Promise<StoredVersion>;
  /** Deletes a function and every version; its workers are stopped. Answers the latest version as it was. */
  deleteFunction(namespace: string, name: string): Promise<StoredVersion>;
  /**
   * Invokes: stored first when `blocking` is false (the 202's activation id
   * then runs at least once, across a failover); waits up to `waitMs` for
   * the end when blocking.
   */
  invoke(request: InvokeRequest, options: { blocking: boolean; waitMs: number }): Promise<InvokeResult>;
  /** Activations of a namespace (of one function when `name` is given), newest first, `skip`/`limit` as OpenWhisk's. */
  activations(namespace: string, query: { name?: string; skip: number; limit: number; since?: number; upto?: number }): Activation[];
  activation(namespace: string, activationId: string): Activation | undefined;
}
