/**
 * Immutable versions of a function, and the action JSON OpenWhisk's GET
 * returns for one.
 *
 * Every PUT makes a new version numbered 1, 2, 3 …; a worker runs exactly
 * one. OpenWhisk shows versions as semver and bumps the patch on each update
 * (`SemVer.upPatch`, starting at 0.0.1), so version N is shown as `0.0.N`
 * and either form pins it. A `version` in a PUT body is not used: the
 * platform numbers versions, and a client cannot make two versions share one.
 */
import { type FunctionSpec, type KeyValue, type Limits } from './function-schema';

/** One version as the store keeps it. */
export interface StoredVersion {
  version: number;
  spec: FunctionSpec;
  /** When it was made, in milliseconds since the epoch (OpenWhisk's `updated`). */
  updated: number;
}

/** The number of the version after `latest`, or 1 for a function's first. */
export function nextVersion(latest?: number): number {
  return latest === undefined ? 1 : latest + 1;
}

/** Version `n` as OpenWhisk shows it. */
export function semver(n: number): string {
  return `0.0.${n}`;
}

/** The version a caller pins, `3` or `0.0.3`; undefined when `text` names none (`1.2.3`, `x`, `0`). */
export function parseVersion(text: string): number | undefined {
  const m = /^(?:0\.0\.)?([1-9]\d{0,8})$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** OpenWhisk's action JSON (`WhiskAction.toJson`). */
export interface ActionJson {
  namespace: string;
  name: string;
  version: string;
  exec: { kind: string; binary: boolean; code?: string; main?: string };
  parameters: KeyValue[];
  annotations: KeyValue[];
  limits: Limits;
  publish: boolean;
  updated: number;
}

/**
 * The action as OpenWhisk's `GET …/actions/{name}` returns it; the code only
 * when asked (`?code=true`, OpenWhisk's default; listings leave it out).
 */
export function actionJson(stored: StoredVersion, opts: { code: boolean }): ActionJson {
  const { spec } = stored;
  const { kind, binary, code, main } = spec.exec;
  return {
    namespace: spec.namespace,
    name: spec.name,
    version: semver(stored.version),
    exec: { kind, binary, ...(opts.code && { code }), ...(main !== undefined && { main }) },
    parameters: spec.parameters.map((p) => ({ ...p })),
    annotations: spec.annotations.map((a) => ({ ...a })),
    limits: { ...spec.limits },
    publish: spec.publish,
    updated: stored.updated,
  };
}
