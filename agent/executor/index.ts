/** The agent's executors: the contract and its implementations. */
export type { Executor, ExitListener, Launched, LaunchSpec, Limitation, ReattachSpec, TaskExit } from './executor';
export { PosixExecutor, WRAPPER_PATH, commandArgv, parseExitStatus, type PosixExecutorOptions } from './executor-posix';
export { taskEnvironment, gpuVariables, CGROUP_PROCS_VAR, RUN_AS_VAR, type TaskEnvironmentInput } from './environment';
export { CgroupsExecutor, createExecutor, type CgroupsExecutorOptions, type CreateExecutorOptions } from './executor-cgroups';
export { detectIsolator, type DetectIsolatorOptions } from './isolator-detect';
export { DEFAULT_PIDS_MAX, ISOLATION_MODES, type IsolationMode, type Isolator, type TaskCgroups, type TaskLimits } from './isolator';
export {
  checkpointPath, readCheckpoints, readStatusCheckpoints, writeJsonAtomic, type StatusCheckpoint, type TaskCheckpoint,
} from './checkpoint';
export { findTaskWrappers, findWrappersUnder, groupMembers, isTaskWrapper, readProcStat } from './proc-fs';
