// The services framework's public surface (Marathon's apps on Mezzanine).
// App spec: Marathon's app JSON (or YAML) → a normalized App, or a 422's details.
export { invalidBody, mergeApp, parseApp, type ParseOptions, type ParseResult } from './app-spec';
export {
  AppDefinition,
  AppUpdate,
  HEALTH_PROTOCOLS,
  UNSUPPORTED,
  type App,
  type AppDefinitionInput,
  type AppUpdateInput,
  type CheckSpec,
  type FetchSpec,
  type FieldErrors,
  type HealthCheckSpec,
  type HealthProtocol,
  type PortDefinitionSpec,
  type ReadinessCheckSpec,
} from './app-schema';
export { MAX_APP_ID_LENGTH, parentGroup, resolveAppId, resolveGroupId } from './app-id';
// Group spec: Marathon's group JSON → the apps a /v2/groups request puts and removes, or a 422's details.
export { groupChange, parseGroup, type ExistingApp, type GroupChange, type GroupResult, type GroupSpec } from './group-spec';
export { appPlacement, constraintErrors, toSdkConstraint } from './app-constraints';
// The task's environment, as Marathon sets it.
export { appEnvironment, labelVariables, portVariables, type TaskContext } from './app-env';
// The service proxy (marathon-lb's job): service ports → healthy, ready instances, with drain.
export {
  DrainTimeoutError,
  ServiceProxy,
  type DrainingBackend,
  type ProxyBackend,
  type ProxyCounters,
  type ProxyLogger,
  type ServiceProxyOptions,
} from './service-proxy';
// Readiness checks (Marathon's, run by the scheduler): which new tasks are ready, and readinessCheckResults.
export {
  DEFAULT_MAX_BODY_BYTES,
  ReadinessChecker,
  httpProbe,
  readinessTarget,
  type HttpResponse,
  type Probe,
  type ProbeRequest,
  type ReadinessCheckResult,
  type ReadinessCheckerOptions,
  type ReadinessTarget,
  type ReadinessTimers,
} from './readiness';
