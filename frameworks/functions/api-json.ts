/**
 * The functions API's response bodies in OpenWhisk's shapes (its
 * `WhiskActivation.toExtendedJson`, `summaryAsJson`, `ActivationResponse`
 * and `ErrorResponse`), so OpenWhisk's clients read them unchanged. The
 * action's own JSON is versions.ts's `actionJson`.
 */
import type { Activation } from './activation';
import { parseVersion, semver } from './versions';

/** OpenWhisk's error body: the message, and `code`, the request's transaction id (here fastify's request id). */
export function owError(error: string, code: string): { error: string; code: string } {
  return { error, code };
}

/** A version as OpenWhisk shows it: `0.0.N` (the record keeps the number as a string). */
function shownVersion(version: string): string {
  const n = parseVersion(version);
  return n === undefined ? version : semver(n);
}

/** The whole record: GET …/activations/{id}, a blocking invoke's body, a listing with `docs=true`. */
export function activationJson(a: Activation) {
  return { ...a, version: shownVersion(a.version) };
}

/** A listing's entry without `docs`: no result and no logs, the status code beside the times (OpenWhisk's summary). */
export function activationSummary(a: Activation) {
  return {
    namespace: a.namespace,
    name: a.name,
    version: shownVersion(a.version),
    subject: a.subject,
    activationId: a.activationId,
    start: a.start,
    end: a.end,
    duration: a.duration,
    statusCode: a.response.statusCode,
    annotations: a.annotations,
    publish: a.publish,
    cold: a.cold,
  };
}

/** GET …/activations/{id}/result: the response with the result's size in bytes of its JSON. */
export function resultJson(a: Activation) {
  const { status, statusCode, success, result } = a.response;
  return { status, statusCode, success, result, size: Buffer.byteLength(JSON.stringify(result) ?? '') };
}
