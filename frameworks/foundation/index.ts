/**
 * The foundation every shipped framework (services, batch, functions)
 * builds on. Import it only from here.
 */
// State and high availability.
export { FrameworkState, LeadershipLostError, frameworkPrefix, type StateGuard, type StateOp } from './state';
export { FrameworkRunner, FRAMEWORK_ID_KEY, type FrameworkRunnerOptions, type LeaderContext, type RunnerLogger } from './runner';
export { openBackend, type FrameworkBackend } from './backend';
export { proxyToLeader, DEFAULT_PROXY_TIMEOUT_MS, LEADER_HEADER, VIA_HEADER, type ProxyOptions } from './proxy';
export { addFrameworkFlags, advertisedAddress, type FrameworkFlagDefaults, type FrameworkFlags } from './flags';
