/**
 * Marathon's app JSON as a TypeBox schema, and the normalized app it becomes.
 *
 * The fields and limits are Marathon's `app.raml` (and its health-check,
 * readiness-check, artifact and unreachable-strategy types), with
 * `additionalProperties: false` on every object, so a typo or a field in the
 * wrong place is refused by name. Fields Mezzanine cannot honour are listed in
 * UNSUPPORTED, so they are refused as such rather than as unknown.
 */
import { Type, type Static } from 'typebox';
import { MAX_TASK_HEALTH_CHECKS } from '../../lib/health-check-spec';
import { MAX_COMMAND_BYTES, MAX_LABEL_VALUE, MAX_LABELS, MAX_URI_LENGTH, MAX_URIS } from '../../lib/limits';
import { MAX_APP_ID_LENGTH } from './app-id';

const strict = { additionalProperties: false } as const;

/*
 * Counts are bounded so a task's environment stays within the master's
 * MAX_ENV_VARS (256): env 100 + labels 64 (+1 MARATHON_APP_LABELS) + ports
 * 24 × 3 (PORTn, PORT_<port>, PORT_<NAME>) + 13 fixed = 250.
 */
const MAX_ENV = 100;
export const MAX_PORTS = 24;
const MAX_CONSTRAINTS = 64;
const MAX_DEPENDENCIES = 256;
const MAX_TEXT = 1024;

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Seconds = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });
const Fraction = Type.Number({ minimum: 0, maximum: 1 });
const Text = Type.String({ minLength: 1, maxLength: MAX_TEXT });
const PathId = Type.String({ minLength: 1, maxLength: MAX_APP_ID_LENGTH });
/** Marathon's `LegacyName`: port and readiness-check port names. */
const PortName = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
const Labels = Type.Record(Type.String(), Type.String({ maxLength: MAX_LABEL_VALUE }), { maxProperties: MAX_LABELS });
const Env = Type.Record(Type.String({ minLength: 1 }), Type.Union([Type.String({ maxLength: MAX_LABEL_VALUE }), Type.Object({ secret: Type.String() }, strict)]), {
  maxProperties: MAX_ENV,
});

const PortDefinition = Type.Object(
  {
    port: Type.Optional(Port),
    protocol: Type.Optional(Type.Enum(['tcp', 'udp', 'udp,tcp'])),
    name: Type.Optional(PortName),
    labels: Type.Optional(Labels),
  },
  strict,
);

const Artifact = Type.Object(
  {
    uri: Type.String({ minLength: 1, maxLength: MAX_URI_LENGTH }),
    extract: Type.Optional(Type.Boolean()),
    executable: Type.Optional(Type.Boolean()),
    cache: Type.Optional(Type.Boolean()),
    destPath: Type.Optional(Text),
  },
  strict,
);

export const HEALTH_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'] as const;
export type HealthProtocol = (typeof HEALTH_PROTOCOLS)[number];

const HealthCheck = Type.Object(
  {
    protocol: Type.Optional(Type.Enum([...HEALTH_PROTOCOLS])),
    command: Type.Optional(Type.Object({ value: Type.String({ minLength: 1, maxLength: MAX_COMMAND_BYTES }) }, strict)),
    path: Type.Optional(Text),
    port: Type.Optional(Port),
    portIndex: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PORTS - 1 })),
    gracePeriodSeconds: Type.Optional(Seconds),
    intervalSeconds: Type.Optional(Seconds),
    timeoutSeconds: Type.Optional(Seconds),
    maxConsecutiveFailures: Type.Optional(Seconds),
    delaySeconds: Type.Optional(Seconds),
    ignoreHttp1xx: Type.Optional(Type.Boolean()),
    ipProtocol: Type.Optional(Type.Enum(['IPv4', 'IPv6'])),
  },
  strict,
);

const ReadinessCheck = Type.Object(
  {
    name: Type.Optional(Text),
    protocol: Type.Optional(Type.Enum(['HTTP', 'HTTPS'])),
    path: Type.Optional(Text),
    portName: Type.Optional(PortName),
    intervalSeconds: Type.Optional(Seconds),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 })),
    httpStatusCodesForReady: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 999 }), { minItems: 1, maxItems: 900, uniqueItems: true })),
    preserveLastResponse: Type.Optional(Type.Boolean()),
  },
  strict,
);

const PortRef = { portIndex: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PORTS - 1 })), port: Type.Optional(Port) };
/** A Mesos command: `{shell}` or `{argv}`, never both. */
const MesosCommand = Type.Union([
  Type.Object({ shell: Type.String({ minLength: 1, maxLength: MAX_COMMAND_BYTES }) }, strict),
  Type.Object({ argv: Type.Array(Type.String({ maxLength: MAX_COMMAND_BYTES }), { minItems: 1, maxItems: 1024 }) }, strict),
]);
const Check = Type.Object(
  {
    http: Type.Optional(Type.Object({ ...PortRef, path: Type.Optional(Text), scheme: Type.Optional(Type.Enum(['HTTP', 'HTTPS'])) }, strict)),
    tcp: Type.Optional(Type.Object(PortRef, strict)),
    exec: Type.Optional(Type.Object({ command: MesosCommand }, strict)),
    intervalSeconds: Type.Optional(Seconds),
    timeoutSeconds: Type.Optional(Seconds),
    delaySeconds: Type.Optional(Seconds),
  },
  strict,
);

const UnreachableStrategy = Type.Union([
  Type.Literal('disabled'),
  Type.Object({ inactiveAfterSeconds: Type.Optional(Seconds), expungeAfterSeconds: Type.Optional(Seconds) }, strict),
]);

/** Marathon's `networks`; only host networking exists here. */
const Network = Type.Object({ mode: Type.Literal('host'), name: Type.Optional(Text), labels: Type.Optional(Labels) }, strict);

const fields = {
  id: PathId,
  cmd: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_COMMAND_BYTES })),
  args: Type.Optional(Type.Array(Type.String({ maxLength: MAX_COMMAND_BYTES }), { maxItems: 1024 })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  cpus: Type.Optional(Type.Number({ minimum: 0.001 })),
  mem: Type.Optional(Type.Number({ minimum: 0 })),
  disk: Type.Optional(Type.Number({ minimum: 0 })),
  gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
  instances: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  env: Type.Optional(Env),
  labels: Type.Optional(Labels),
  fetch: Type.Optional(Type.Array(Artifact, { maxItems: MAX_URIS })),
  uris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: MAX_URI_LENGTH }), { maxItems: MAX_URIS })),
  constraints: Type.Optional(Type.Array(Type.Array(Type.String({ maxLength: MAX_TEXT }), { minItems: 2, maxItems: 3 }), { maxItems: MAX_CONSTRAINTS })),
  // Each becomes one of the task's checks, which the master caps per task.
  healthChecks: Type.Optional(Type.Array(HealthCheck, { maxItems: MAX_TASK_HEALTH_CHECKS })),
  readinessChecks: Type.Optional(Type.Array(ReadinessCheck, { maxItems: 1 })),
  check: Type.Optional(Check),
  portDefinitions: Type.Optional(Type.Array(PortDefinition, { maxItems: MAX_PORTS })),
  ports: Type.Optional(Type.Array(Port, { maxItems: MAX_PORTS })),
  requirePorts: Type.Optional(Type.Boolean()),
  networks: Type.Optional(Type.Array(Network, { maxItems: 1 })),
  upgradeStrategy: Type.Optional(Type.Object({ minimumHealthCapacity: Type.Optional(Fraction), maximumOverCapacity: Type.Optional(Fraction) }, strict)),
  backoffSeconds: Type.Optional(Seconds),
  backoffFactor: Type.Optional(Type.Number({ minimum: 1, maximum: 1000 })),
  maxLaunchDelaySeconds: Type.Optional(Seconds),
  taskKillGracePeriodSeconds: Type.Optional(Seconds),
  killSelection: Type.Optional(Type.Enum(['YOUNGEST_FIRST', 'OLDEST_FIRST'])),
  unreachableStrategy: Type.Optional(UnreachableStrategy),
  dependencies: Type.Optional(Type.Array(PathId, { maxItems: MAX_DEPENDENCIES, uniqueItems: true })),
  role: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  acceptedResourceRoles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 64, uniqueItems: true })),
  /** Marathon's `//cmd` (or empty): the command executor, the only one here. */
  executor: Type.Optional(Type.Enum(['', '//cmd'])),
  /** Sent back by GET; on PUT alone it asks for a rollback to that version. */
  version: Type.Optional(Type.String({ maxLength: 64 })),
};

/** The JSON Schema of an app as POSTed: Marathon's fields, nothing else. */
export const AppDefinition = Type.Object(fields, strict);
/** The JSON Schema of a partial update (PUT or PATCH): the same fields, all optional. */
export const AppUpdate = Type.Object({ ...fields, id: Type.Optional(PathId) }, strict);
export type AppDefinitionInput = Static<typeof AppDefinition>;
export type AppUpdateInput = Static<typeof AppUpdate>;

/**
 * Marathon fields that Mezzanine refuses rather than ignores, with why.
 * A 422 names them with this reason, never as "unknown".
 */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  container: 'containers (Docker or Mesos images) are not supported; Mezzanine runs a cmd or args on the agent',
  residency: 'resident tasks and local persistent volumes are not supported',
  secrets: 'secrets are not supported',
  ipAddress: 'IP-per-task networking is not supported; only host networking',
  executorResources: 'custom executors are not supported',
  resourceLimits: 'resource limits above the request are not supported',
  tty: 'a TTY for the task is not supported',
};

/** A normalized port definition: Marathon's defaults applied. */
export interface PortDefinitionSpec {
  port: number;
  protocol: 'tcp' | 'udp' | 'udp,tcp';
  name?: string;
  labels: Record<string, string>;
}

export interface HealthCheckSpec {
  protocol: HealthProtocol;
  /** COMMAND checks only. */
  command?: { value: string };
  /** HTTP protocols only; `/` unless given. */
  path?: string;
  /** A fixed port, or else `portIndex` into the app's ports (0 unless given, for non-COMMAND checks). */
  port?: number;
  portIndex?: number;
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** 0 = never kill for failing. */
  maxConsecutiveFailures: number;
  delaySeconds: number;
  ignoreHttp1xx: boolean;
  ipProtocol: 'IPv4';
}

export interface ReadinessCheckSpec {
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  path: string;
  portName: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  httpStatusCodesForReady: number[];
  preserveLastResponse: boolean;
}

export interface FetchSpec {
  uri: string;
  extract: boolean;
  executable: boolean;
  cache: boolean;
  destPath?: string;
}

export type CheckSpec = NonNullable<AppDefinitionInput['check']>;

/**
 * An app after parsing: absolute id, Marathon's defaults applied, `uris`
 * folded into `fetch` and `ports` into `portDefinitions`. Exactly one of
 * `cmd` and `args` is set.
 */
export interface App {
  id: string;
  cmd?: string;
  args?: string[];
  user?: string;
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  instances: number;
  /** Plain values only (secrets are refused). */
  env: Record<string, string>;
  labels: Record<string, string>;
  fetch: FetchSpec[];
  constraints: string[][];
  healthChecks: HealthCheckSpec[];
  readinessChecks: ReadinessCheckSpec[];
  check?: CheckSpec;
  portDefinitions: PortDefinitionSpec[];
  requirePorts: boolean;
  upgradeStrategy: { minimumHealthCapacity: number; maximumOverCapacity: number };
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  taskKillGracePeriodSeconds?: number;
  killSelection: 'YOUNGEST_FIRST' | 'OLDEST_FIRST';
  unreachableStrategy: 'disabled' | { inactiveAfterSeconds: number; expungeAfterSeconds: number };
  /** Absolute app ids, resolved against the app's group. */
  dependencies: string[];
  role?: string;
  acceptedResourceRoles?: string[];
}

/** One field's problems, as in Marathon's 422 `details`. */
export interface FieldErrors {
  /** JSON pointer into the body: `/upgradeStrategy/minimumHealthCapacity`, `/` for the whole app. */
  path: string;
  errors: string[];
}

