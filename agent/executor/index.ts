/** The agent's executors: the contract and its implementations. */
export type { Executor, ExitListener, Launched, LaunchSpec, TaskExit } from './executor';
export { PosixExecutor, WRAPPER_PATH, commandArgv, parseExitStatus, type PosixExecutorOptions } from './executor-posix';
export { taskEnvironment, type TaskEnvironmentInput } from './environment';
export { checkpointPath, readCheckpoints, writeJsonAtomic, type TaskCheckpoint } from './checkpoint';
