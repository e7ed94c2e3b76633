/**
 * The foundation the shipped frameworks (services, batch, functions) stand
 * on; they import it only through this file.
 */
// The pure core: desired state and actual tasks in, launches, kills and reasons out.
export * from './reconciler/index';
// The HTTP API.
export {
  type Api, type ApiOptions, type ApiServer, createApi, DEFAULT_BODY_LIMIT, type RouteRequest, type RouteResponse,
  type RouteSchemas, type RouteSpec,
} from './http';
export { type Authz } from './http-auth';
export { BodySyntaxError, childPointer, type ErrorBody, type ErrorDetail, MAX_ERROR_DETAILS } from './errors';
// The event stream (Marathon's GET /v2/events).
export {
  DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_SUBSCRIBERS, EVENT_TYPE_PATTERN, EventBus, type EventBusOptions, type EventSink,
  type SubscribeOptions, type Subscription,
} from './events';
export { acceptsEventStream, addEventRoutes, DEFAULT_HEARTBEAT_MS, type EventRouteOptions, MAX_EVENT_TYPE_FILTERS } from './events-http';
// State and high availability.
export { FrameworkState, LeadershipLostError, frameworkPrefix, writeAll, writeGroups, type StateGuard, type StateOp } from './state';
export { FrameworkRunner, FRAMEWORK_ID_KEY, type FrameworkRunnerOptions, type LeaderContext, type RunnerLogger } from './runner';
export { openBackend, type FrameworkBackend } from './backend';
export { proxyToLeader, DEFAULT_PROXY_TIMEOUT_MS, LEADER_HEADER, VIA_HEADER, type ProxyOptions } from './proxy';
export { addFrameworkFlags, advertisedAddress, type FrameworkFlagDefaults, type FrameworkFlags } from './flags';
export { findCycle } from './graph';
export { readBodyText } from './http-body';
export { hasEnded } from './task-state';
export { Rounds } from './rounds';
// The process: flags to a serving, leading (or standing by) framework.
export { runFrameworkMain, type FrameworkContext, type FrameworkParts, type Leadership, type ProcessOptions } from './server';
export { addLeaderRoutes } from './leader-routes';
