/** The agent's public surface. */
export { Agent, type AgentOptions, type AgentTaskView } from './agent';
export { detectResources, type DetectOptions, type DetectedResources } from './resources-detect';
export { detectGpus, parseNvidiaSmiQuery, type GpuInfo } from './gpu-detect';
export { parseAttributes } from './attributes';
export type { Executor, LaunchSpec, TaskExit } from './executor/index';
