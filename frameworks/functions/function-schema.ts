/**
 * OpenWhisk's action document, as `PUT /api/v1/namespaces/{ns}/actions/{name}`
 * takes it, and the normalized function it becomes, with Mezzanine's
 * additions.
 *
 * Names, ranges and defaults are OpenWhisk's (apache/openwhisk
 * `EntityPath.scala` EntityName, `Exec.scala`, `WhiskAction.scala`
 * WhiskActionPut, `application.conf` limits): an OpenWhisk client's document
 * is read unchanged. Mezzanine's scaling knobs travel as annotations
 * (SCALING_ANNOTATIONS), the one place every OpenWhisk client can set
 * (`wsk action update f -a maxWorkers 8`) and round-trips untouched.
 */

/** OpenWhisk's EntityName: word characters, inner `@ . & -` and spaces, ≤ 256 characters, no trailing space. */
export const ENTITY_NAME_PATTERN = /^(\w|\w[\w@ .&-]{0,254}[\w@.&-])$/;
export const MAX_ENTITY_NAME = 256;

/** Code (text or base64) and parameters, in bytes (`exec-size-limit`, `parameter-size-limit`). */
export const MAX_CODE_BYTES = 48 * 1024 * 1024;
export const MAX_PARAMETERS_BYTES = 1024 * 1024;
/** OpenWhisk has no own limit on annotations; they are parameters in its store, so the same one. */
export const MAX_ANNOTATIONS_BYTES = 1024 * 1024;

/** A range with its default, in the unit its name says. */
export interface Range {
  min: number;
  max: number;
  default: number;
}

/**
 * `limits`: OpenWhisk's ranges and defaults (`application.conf`). Concurrency
 * above 1 is for Node.js only, as in OpenWhisk; its ceiling is Mezzanine's
 * (OpenWhisk's operator setting `concurrency-limit.max`, 500 in its docs).
 */
export const LIMITS = {
  timeout: { min: 100, max: 300_000, default: 60_000 },
  memory: { min: 128, max: 512, default: 256 },
  logs: { min: 0, max: 10, default: 10 },
  concurrency: { min: 1, max: 500, default: 1 },
} as const satisfies Record<string, Range>;

export type LimitName = keyof typeof LIMITS;
/** OpenWhisk's words and units for each limit, as its refusals use them. */
export const LIMIT_UNITS: Readonly<Record<LimitName, string>> = { timeout: 'milliseconds', memory: 'MB', logs: 'MB', concurrency: '' };

/**
 * Mezzanine's additions, as annotations: warm workers kept at all times,
 * the most workers at once, and seconds without a call before the workers
 * (beyond minWarm) stop.
 */
export const SCALING_ANNOTATIONS = {
  minWarm: { min: 0, max: 100, default: 0 },
  maxWorkers: { min: 1, max: 100, default: 10 },
  idleTimeout: { min: 1, max: 7 * 24 * 3600, default: 600 },
} as const satisfies Record<string, Range>;

export type ScalingName = keyof typeof SCALING_ANNOTATIONS;

/**
 * Kinds accepted, and the kind each is stored as. `nodejs:default` resolves
 * as OpenWhisk resolves it (its blessed version); every Node.js kind runs on
 * the agent's own `node`. `command` is Mezzanine's: an executable reading
 * the request JSON on stdin and writing the answer on stdout.
 */
export const KINDS: Readonly<Record<string, string>> = {
  'nodejs:20': 'nodejs:20',
  'nodejs:18': 'nodejs:18',
  'nodejs:default': 'nodejs:20',
  nodejs: 'nodejs:20',
  command: 'command',
};

/** OpenWhisk kinds Mezzanine refuses, and why. */
export const UNSUPPORTED_KINDS: Readonly<Record<string, string>> = {
  blackbox: 'Docker images (blackbox); package the program as a command function (kind "command")',
  sequence: 'sequences; call the functions one after another from a function',
};

/** What runs the code: the worker's MEZZ_FN_KIND. */
export type Runtime = 'nodejs' | 'command';

export function runtimeOf(kind: string): Runtime {
  return kind === 'command' ? 'command' : 'nodejs';
}

/** OpenWhisk's `{key, value}` pair; a parameter with `init: true` is exported as an environment variable at init. */
export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

export interface Limits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export interface Scaling {
  minWarm: number;
  maxWorkers: number;
  idleTimeout: number;
}

/** A function with every default filled in: one immutable version's content. */
export interface FunctionSpec {
  namespace: string;
  name: string;
  exec: {
    /** The resolved kind (`nodejs:20`, `command`, …). */
    kind: string;
    /** Source text, or base64 (a zip for Node.js, an executable for command) when binary. */
    code: string;
    binary: boolean;
    /** The entry function as given; unset means OpenWhisk's `main`. */
    main?: string;
  };
  parameters: KeyValue[];
  /** As given, Mezzanine's scaling annotations included (read from `scaling`). */
  annotations: KeyValue[];
  limits: Limits;
  publish: boolean;
  scaling: Scaling;
}

/** The entry function a worker calls. */
export function entryOf(spec: Pick<FunctionSpec, 'exec'>): string {
  return spec.exec.main ?? 'main';
}
