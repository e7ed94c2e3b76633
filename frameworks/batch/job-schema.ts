/**
 * Metronome's job JSON as a TypeBox schema, with Mezzanine's additions, and
 * the normalized job it becomes.
 *
 * Fields and defaults are Metronome's (`job.raml`, its `pathType` id rule,
 * schedule.raml); every object is `additionalProperties: false`, so a typo
 * or a field in the wrong place is refused by name. Fields Mezzanine cannot
 * honour are listed in UNSUPPORTED_RUN and refused as such.
 */
import { Type, type Static } from 'typebox';
import { MAX_COMMAND_BYTES, MAX_LABEL_VALUE, MAX_LABELS, MAX_URI_LENGTH, MAX_URIS } from '../../lib/limits';

const strict = { additionalProperties: false } as const;

/** Metronome's `pathType`: lowercase words of letters, digits and inner dashes, joined by dots. */
export const JOB_ID_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
export const MAX_JOB_ID_LENGTH = 200;
export const MAX_SCHEDULES = 32;
export const MAX_DEPENDENCIES = 64;
/** Tasks a run may have at once or in all; bounded so one job cannot flood the master. */
export const MAX_TASKS_PER_RUN = 10_000;
const MAX_ENV = 100;
const MAX_CONSTRAINTS = 64;
const MAX_TEXT = 1024;

const Seconds = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });
const Text = Type.String({ minLength: 1, maxLength: MAX_TEXT });
const Resource = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 1, maximum: MAX_TASKS_PER_RUN });
/** Ids are checked against JOB_ID_PATTERN by the rules, which say what is wrong in words. */
const Id = Type.String({ minLength: 1, maxLength: MAX_JOB_ID_LENGTH });
const Labels = Type.Record(Type.String(), Type.String({ maxLength: MAX_LABEL_VALUE }), { maxProperties: MAX_LABELS });

const Artifact = Type.Object(
  {
    uri: Type.String({ minLength: 1, maxLength: MAX_URI_LENGTH }),
    extract: Type.Optional(Type.Boolean()),
    executable: Type.Optional(Type.Boolean()),
    cache: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const CONSTRAINT_OPERATORS = ['IS', 'EQ', 'LIKE', 'UNLIKE'] as const;
const Constraint = Type.Object({ attribute: Text, operator: Type.Enum([...CONSTRAINT_OPERATORS]), value: Type.Optional(Type.String({ maxLength: MAX_TEXT })) }, strict);

/** The fields of `run` Mezzanine honours; UNSUPPORTED_RUN names the rest of Metronome's. */
export const RunSpec = Type.Object(
  {
    cmd: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_COMMAND_BYTES })),
    args: Type.Optional(Type.Array(Type.String({ maxLength: MAX_COMMAND_BYTES }), { minItems: 1, maxItems: 1024 })),
    cpus: Type.Optional(Resource),
    mem: Type.Optional(Resource),
    disk: Type.Optional(Resource),
    gpus: Type.Optional(Type.Integer({ minimum: 0 })),
    env: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ maxLength: MAX_LABEL_VALUE }), { maxProperties: MAX_ENV })),
    artifacts: Type.Optional(Type.Array(Artifact, { maxItems: MAX_URIS })),
    placement: Type.Optional(Type.Object({ constraints: Type.Optional(Type.Array(Constraint, { maxItems: MAX_CONSTRAINTS })) }, strict)),
    maxLaunchDelay: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
    restart: Type.Optional(Type.Object({ policy: Type.Optional(Type.Enum(['NEVER', 'ON_FAILURE'])), activeDeadlineSeconds: Type.Optional(Seconds) }, strict)),
    taskKillGracePeriodSeconds: Type.Optional(Seconds),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  strict,
);

/**
 * Metronome's `run` fields Mezzanine refuses, and why. An empty `volumes`,
 * `secrets` or `networks`, or networks all in host mode, asks for nothing
 * and is accepted (Metronome's own documented examples send `volumes: []`).
 */
export const UNSUPPORTED_RUN: Readonly<Record<string, string>> = {
  docker: 'container images (Docker); tasks run as commands on the agent, use cmd or args',
  ucr: 'container images (UCR); tasks run as commands on the agent, use cmd or args',
  secrets: 'secrets; Mezzanine has no secret store',
  volumes: 'volumes; tasks use their sandbox',
  networks: 'networks other than host (mode "host")',
};

export const CONCURRENCY_POLICIES = ['ALLOW', 'FORBID', 'REPLACE'] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

export const ScheduleSpec = Type.Object(
  {
    id: Id,
    /** Checked by the `validateCron` hook of parseJob (frameworks/batch/cron.ts), not here. */
    cron: Type.String({ minLength: 1, maxLength: 256 }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    startingDeadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
    concurrencyPolicy: Type.Optional(Type.Enum([...CONCURRENCY_POLICIES])),
    enabled: Type.Optional(Type.Boolean()),
  },
  strict,
);

/** The top-level fields of a job: Metronome's, then Mezzanine's additions. */
export const JobSpec = Type.Object(
  {
    id: Id,
    description: Type.Optional(Type.String({ maxLength: MAX_TEXT })),
    labels: Type.Optional(Labels),
    run: RunSpec,
    schedules: Type.Optional(Type.Array(ScheduleSpec, { maxItems: MAX_SCHEDULES })),
    parallelism: Type.Optional(Count),
    completions: Type.Optional(Count),
    completionMode: Type.Optional(Type.Enum(['NonIndexed', 'Indexed'])),
    backoffLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    gang: Type.Optional(Type.Boolean()),
    dependencies: Type.Optional(Type.Array(Type.Object({ id: Id }, strict), { maxItems: MAX_DEPENDENCIES })),
    historyLimits: Type.Optional(
      Type.Object({ successful: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })), failed: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })) }, strict),
    ),
  },
  strict,
);

export type JobSpecInput = Static<typeof JobSpec>;
export type ScheduleInput = Static<typeof ScheduleSpec>;

export interface Artifact {
  uri: string;
  extract: boolean;
  executable: boolean;
  cache: boolean;
}

export interface Constraint {
  attribute: string;
  operator: (typeof CONSTRAINT_OPERATORS)[number];
  value?: string;
}

export interface Schedule {
  id: string;
  cron: string;
  timezone: string;
  startingDeadlineSeconds: number;
  concurrencyPolicy: ConcurrencyPolicy;
  enabled: boolean;
}

/** A job with every default filled in: what the store keeps and GET returns. */
export interface Job {
  id: string;
  description: string;
  labels: Record<string, string>;
  run: {
    cmd?: string;
    args?: string[];
    cpus: number;
    mem: number;
    disk: number;
    gpus: number;
    env: Record<string, string>;
    artifacts: Artifact[];
    placement: { constraints: Constraint[] };
    maxLaunchDelay: number;
    restart: { policy: 'NEVER' | 'ON_FAILURE'; activeDeadlineSeconds?: number };
    taskKillGracePeriodSeconds?: number;
    user?: string;
  };
  schedules: Schedule[];
  parallelism: number;
  completions: number;
  completionMode: 'NonIndexed' | 'Indexed';
  backoffLimit: number;
  gang: boolean;
  dependencies: { id: string }[];
  historyLimits: { successful: number; failed: number };
}

/** Problems at one JSON path (Metronome's and Marathon's 422 `details`). */
export interface FieldErrors {
  path: string;
  errors: string[];
}
