/**
 * The foundation the shipped frameworks (services, batch, functions) stand
 * on; they import it only through this file.
 */
export * from './reconciler/index';
export {
  type Api, type ApiOptions, type ApiServer, createApi, DEFAULT_BODY_LIMIT, type RouteRequest, type RouteResponse,
  type RouteSchemas, type RouteSpec,
} from './http';
export { type Authz } from './http-auth';
export { BodySyntaxError, type ErrorBody, type ErrorDetail, MAX_ERROR_DETAILS } from './errors';
