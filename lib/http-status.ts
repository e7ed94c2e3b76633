/**
 * The HTTP status of each error kind, for HTTP APIs (the frameworks'), as
 * lib/grpc.ts maps kinds to gRPC statuses: a missing or wrong token is 401,
 * a permission the ACLs do not grant 403, a limit 429.
 */
import { type ErrorKind, MezzError } from './errors';

export const HTTP_STATUS_OF: Record<ErrorKind, number> = {
  INVALID: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  FRAMEWORK_REMOVED: 404,
  FRAMEWORK_UNKNOWN: 404,
  FAILED_PRECONDITION: 409,
  FRAMEWORK_FAILED_OVER: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  NOT_LEADER: 503,
};

/** The status of an error an HTTP handler threw: its kind's, 500 for anything unexpected. */
export function httpStatusOf(err: unknown): number {
  return err instanceof MezzError ? HTTP_STATUS_OF[err.kind] : 500;
}
