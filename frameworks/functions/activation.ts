/**
 * The activation record: what one invocation did, in OpenWhisk's shape so
 * its clients read it unchanged, plus Mezzanine's `cold` (warm, from the
 * stem pool, or from nothing). `classify` turns a worker's answer (or its
 * failure) into the response OpenWhisk would record, row by row from
 * OpenWhisk's `ActivationResponse.processRunResponseContent` and
 * `processInitResponseContent` (see shared/reference/openwhisk-runtime-contract.md,
 * "Response classification"); the messages are OpenWhisk's, word for word,
 * because users search for them.
 */
import { randomBytes } from 'node:crypto';
import type { ColdSource } from './pool';

export type ActivationStatus = 'success' | 'application error' | 'action developer error' | 'whisk internal error';
export type StatusCode = 0 | 1 | 2 | 3;

const CODES: Record<ActivationStatus, StatusCode> = {
  'success': 0,
  'application error': 1,
  'action developer error': 2,
  'whisk internal error': 3,
};

export interface ActivationResponse {
  status: ActivationStatus;
  statusCode: StatusCode;
  success: boolean;
  /** The action's result; `{error: …}` for every status but success. */
  result: unknown;
}

/** What the driver saw of a worker: its HTTP answer (body parsed as JSON, or the raw text when it was not JSON), or a failure. */
export type WorkerAnswer =
  | { status: number; body: unknown }
  | { failure: 'timeout' }
  | { failure: 'memory' }
  | { failure: 'exited' }
  | { failure: 'internal'; message: string };

export interface ClassifyLimits {
  /** The function's time limit, named in the timeout message. */
  timeoutMs: number;
  /** Largest result, in bytes of its JSON text; OpenWhisk's fixed 1 MB by default. */
  resultMaxBytes?: number;
}

export const RESULT_MAX_BYTES = 1024 * 1024;
export const LOGS_MAX_BYTES = 10 * 1024 * 1024;

/**
 * The response of a run (`phase` 'run') or of a failed init ('init'):
 *
 *   200 + object without `error`, 200 + array   success (0), the body as result
 *   200 + object with `error`                   application error (1), {error: <its value>}
 *   other status + object with `error`          action developer error (2), {error: <its value>}
 *   other status + anything else, non-JSON      action developer error (2), not a valid JSON response: <body>
 *   larger than resultMaxBytes                  application error (1) (init: developer error), exceeded the allowed length
 *   timeout / memory / exited                   action developer error (2), OpenWhisk's message for each
 *   internal                                    whisk internal error (3), the message
 *
 * Throws for a 200 answer to init: a successful init is not an activation's outcome.
 */
export function classify(answer: WorkerAnswer, limits: ClassifyLimits, phase: 'run' | 'init' = 'run'): ActivationResponse {
  if ('failure' in answer) return failed(answer, limits, phase);
  if (phase === 'init' && answer.status === 200) throw new Error('classify: a 200 answer to /init is a success, not an outcome');
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body) ?? '';
  const max = limits.resultMaxBytes ?? RESULT_MAX_BYTES;
  const bytes = Buffer.byteLength(text);
  if (bytes > max) {
    const trunk = Buffer.from(text).subarray(0, max).toString();
    // A run's is an application error (the contract's table), an init's a developer error (processInitResponseContent).
    return response(phase === 'run' ? 'application error' : 'action developer error', { error: `The action produced a response that exceeded the allowed length: ${bytes} > ${max} bytes. The truncated response was: ${trunk}` });
  }
  const body = typeof answer.body === 'string' ? undefined : answer.body;
  const object = isObject(body) ? body : undefined;
  if (phase === 'init') return response('action developer error', { error: object && 'error' in object ? object.error : invalid('The action failed during initialization', text) });
  if (answer.status !== 200) return response('action developer error', { error: object && 'error' in object ? object.error : invalidRun(text) });
  if (object && 'error' in object) return response('application error', { error: object.error });
  if (object || Array.isArray(body)) return response('success', body);
  return response('action developer error', { error: invalidRun(text) });
}

function failed(answer: Exclude<WorkerAnswer, { status: number }>, limits: ClassifyLimits, phase: 'run' | 'init'): ActivationResponse {
  switch (answer.failure) {
    case 'timeout':
      return developerError(`The action exceeded its time limits of ${limits.timeoutMs} milliseconds${phase === 'init' ? ' during initialization.' : '.'}`);
    case 'memory':
      return developerError('The action exhausted its memory and was aborted.');
    case 'exited':
      return developerError(phase === 'init' ? 'The action did not initialize and exited unexpectedly.' : 'The action did not produce a valid response and exited unexpectedly.');
    case 'internal':
      return response('whisk internal error', { error: answer.message });
  }
}

function response(status: ActivationStatus, result: unknown): ActivationResponse {
  return { status, statusCode: CODES[status], success: status === 'success', result };
}

const developerError = (message: string): ActivationResponse => response('action developer error', { error: message });
const invalidRun = (text: string): string => invalid('The action did not produce a valid JSON or JSON Array response', text);
/** OpenWhisk appends the body after a colon, or ends with a full stop when there is none. */
const invalid = (message: string, text: string): string => (text ? `${message}: ${text}` : `${message}.`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface Annotation {
  key: 'kind' | 'limits' | 'path' | 'waitTime' | 'initTime' | 'timeout';
  value: unknown;
}

/** OpenWhisk's activation record, with Mezzanine's cold source. */
export interface Activation {
  activationId: string;
  namespace: string;
  name: string;
  /** OpenWhisk carries versions as strings. */
  version: string;
  /** Who invoked it. */
  subject: string;
  /** ms since the epoch: init (cold) or run (warm) began. */
  start: number;
  end: number;
  duration: number;
  response: ActivationResponse;
  logs: string[];
  annotations: Annotation[];
  publish: false;
  cold: ColdSource;
}

export interface FunctionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export interface ActivationInput {
  activationId: string;
  namespace: string;
  name: string;
  version: number;
  subject: string;
  kind: string;
  limits: FunctionLimits;
  start: number;
  end: number;
  /** Time queued before a worker took it. */
  waitMs: number;
  /** Time /init took; only for a cold start. */
  initMs?: number;
  cold: ColdSource;
  answer: WorkerAnswer;
  /** A failed init is classified as such. */
  phase?: 'run' | 'init';
  /** Log lines of this invocation only, already capped (`capLogs`). */
  logs: string[];
}

/** The record for one invocation; annotations as OpenWhisk writes them (`timeout` always, `initTime` on a cold start). */
export function activationRecord(input: ActivationInput): Activation {
  const { limits } = input;
  const annotations: Annotation[] = [
    { key: 'path', value: `${input.namespace}/${input.name}` },
    { key: 'waitTime', value: input.waitMs },
    { key: 'kind', value: input.kind },
    { key: 'timeout', value: 'failure' in input.answer && input.answer.failure === 'timeout' },
    { key: 'limits', value: { ...limits } },
  ];
  if (input.initMs !== undefined) annotations.push({ key: 'initTime', value: input.initMs });
  return {
    activationId: input.activationId,
    namespace: input.namespace,
    name: input.name,
    version: String(input.version),
    subject: input.subject,
    start: input.start,
    end: input.end,
    duration: input.end - input.start,
    response: classify(input.answer, { timeoutMs: limits.timeout }, input.phase),
    logs: input.logs,
    annotations,
    publish: false,
    cold: input.cold,
  };
}

/** One log line as OpenWhisk shows it: `TIMESTAMP STREAM: LINE`. */
export function logLine(at: number, stream: 'stdout' | 'stderr', text: string): string {
  return `${new Date(at).toISOString()} ${stream}: ${text}`;
}

/**
 * The lines that fit in `maxBytes` (UTF-8, the lines' text), then, if any
 * were dropped, OpenWhisk's warning as a last stderr line stamped `at`.
 */
export function capLogs(lines: readonly string[], maxBytes: number, at: number): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    bytes += Buffer.byteLength(line);
    if (bytes > maxBytes) {
      kept.push(logLine(at, 'stderr', `Logs were truncated because the total bytes size exceeds the limit of ${maxBytes} bytes.`));
      return kept;
    }
    kept.push(line);
  }
  return kept;
}

/** A new activation id: 32 lower-case hex digits, as OpenWhisk's (a UUID without dashes). */
export function newActivationId(random: (n: number) => Uint8Array = randomBytes): string {
  return Buffer.from(random(16)).toString('hex');
}

export function isActivationId(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}
