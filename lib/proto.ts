/**
 * Loads the `mezzanine.v1` protobuf package at run time and re-exports the
 * TypeScript types generated from the same files (`npm run gen:proto`), so
 * the code and the wire cannot drift.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { TaskState as TaskStateNames } from './proto/generated/mezzanine/v1/TaskState';
import type { ProtoGrpcType as AgentProto } from './proto/generated/agent';
import type { ProtoGrpcType as OperatorProto } from './proto/generated/operator';
import type { ProtoGrpcType as SchedulerProto } from './proto/generated/scheduler';

export const PROTO_DIR = fileURLToPath(new URL('../proto', import.meta.url));
const FILES = ['resources', 'scheduler', 'agent', 'operator'].map((f) => `mezzanine/v1/${f}.proto`);

/** Options shared by the loader and by `proto-loader-gen-types`; change both together. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  arrays: true,
  includeDirs: [PROTO_DIR],
};

type V1 = AgentProto['mezzanine']['v1'] & OperatorProto['mezzanine']['v1'] & SchedulerProto['mezzanine']['v1'];

let cached: V1 | undefined;

/** The loaded `mezzanine.v1` package: service constructors and message types. */
export function mezzProto(): V1 {
  if (!cached) {
    const def = protoLoader.loadSync(FILES, LOADER_OPTIONS);
    cached = (grpc.loadPackageDefinition(def) as unknown as { mezzanine: { v1: V1 } }).mezzanine.v1;
  }
  return cached;
}

export type { Resource, Resource__Output } from './proto/generated/mezzanine/v1/Resource';
export type { Range, Range__Output } from './proto/generated/mezzanine/v1/Range';
export type { Attribute, Attribute__Output } from './proto/generated/mezzanine/v1/Attribute';
export type { TaskInfo, TaskInfo__Output } from './proto/generated/mezzanine/v1/TaskInfo';
export type { HealthCheck, HealthCheck__Output } from './proto/generated/mezzanine/v1/HealthCheck';
export type { CheckInfo, CheckInfo__Output } from './proto/generated/mezzanine/v1/CheckInfo';
export type { CheckStatusInfo, CheckStatusInfo__Output } from './proto/generated/mezzanine/v1/CheckStatusInfo';
export type { TaskStatus, TaskStatus__Output } from './proto/generated/mezzanine/v1/TaskStatus';
export type { TaskState__Output as TaskState } from './proto/generated/mezzanine/v1/TaskState';
export type { Offer, Offer__Output } from './proto/generated/mezzanine/v1/Offer';
export type { Filters, Filters__Output } from './proto/generated/mezzanine/v1/Filters';
export type { FrameworkInfo, FrameworkInfo__Output } from './proto/generated/mezzanine/v1/FrameworkInfo';
export type { OfferConstraints, OfferConstraints__Output } from './proto/generated/mezzanine/v1/OfferConstraints';
export type { OfferConstraint, OfferConstraint__Output } from './proto/generated/mezzanine/v1/OfferConstraint';
export type { CommandInfo, CommandInfo__Output } from './proto/generated/mezzanine/v1/CommandInfo';
export type { Call, Call__Output } from './proto/generated/mezzanine/v1/Call';
export type { Event, Event__Output } from './proto/generated/mezzanine/v1/Event';
export type { Operation, Operation__Output } from './proto/generated/mezzanine/v1/Operation';
export type { AgentInfo, AgentInfo__Output } from './proto/generated/mezzanine/v1/AgentInfo';
export type { AgentTask, AgentTask__Output } from './proto/generated/mezzanine/v1/AgentTask';
export type { AgentMessage, AgentMessage__Output } from './proto/generated/mezzanine/v1/AgentMessage';
export type { MasterMessage, MasterMessage__Output } from './proto/generated/mezzanine/v1/MasterMessage';
export type { ReadFileRequest, ReadFileRequest__Output } from './proto/generated/mezzanine/v1/ReadFileRequest';
export type { ReadFileResponse, ReadFileResponse__Output } from './proto/generated/mezzanine/v1/ReadFileResponse';
export type { ScalarResources, ScalarResources__Output } from './proto/generated/mezzanine/v1/ScalarResources';
export type { ClusterState, ClusterState__Output } from './proto/generated/mezzanine/v1/ClusterState';
export type { AgentSummary, AgentSummary__Output } from './proto/generated/mezzanine/v1/AgentSummary';
export type { FrameworkSummary, FrameworkSummary__Output } from './proto/generated/mezzanine/v1/FrameworkSummary';
export type { TaskSummary, TaskSummary__Output } from './proto/generated/mezzanine/v1/TaskSummary';
export type { RoleSummary, RoleSummary__Output } from './proto/generated/mezzanine/v1/RoleSummary';
export type { OperatorClient } from './proto/generated/mezzanine/v1/Operator';
export type { SchedulerClient } from './proto/generated/mezzanine/v1/Scheduler';
export type { AgentGatewayClient } from './proto/generated/mezzanine/v1/AgentGateway';
export type { AgentFilesClient } from './proto/generated/mezzanine/v1/AgentFiles';

/** Every task state name, in proto order. */
export const TASK_STATES: readonly string[] = Object.values(TaskStateNames);

/**
 * The framework capabilities the master knows (FrameworkInfo.capabilities),
 * named as in Mesos; any other name is refused at SUBSCRIBE and
 * UPDATE_FRAMEWORK, so a misspelt one fails loudly instead of doing nothing.
 * - PARTITION_AWARE: TASK_UNREACHABLE (and the task back as RUNNING) instead of TASK_LOST.
 * - GPU_RESOURCES: offered agents with GPUs.
 * - TASK_KILLING_STATE: sees TASK_KILLING between a kill and its end; others see the task RUNNING until it ends.
 * - MULTI_ROLE: accepted for frameworks written for Mesos; every framework here may hold several roles.
 */
export const FRAMEWORK_CAPABILITIES = ['PARTITION_AWARE', 'GPU_RESOURCES', 'TASK_KILLING_STATE', 'MULTI_ROLE'] as const;
export type FrameworkCapability = (typeof FRAMEWORK_CAPABILITIES)[number];

/** Task states after which a task never runs again. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED',
  'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

export function isTerminal(state: string): boolean {
  return TERMINAL_STATES.has(state);
}
