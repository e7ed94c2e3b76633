/**
 * What `mezz fn deploy` and `mezz fn invoke` send to mezz-functions, built
 * from their flags and files: OpenWhisk's action document (the body of
 * `PUT …/actions/NAME`) and an invocation's parameters. Pure (the file comes
 * in as bytes), so every body is unit-tested without a server.
 */
import { extname } from 'node:path';
import { UsageError } from './errors';

/** The kinds `--kind` names; `nodejs` is sent as OpenWhisk's `nodejs:default`. */
export const FN_KINDS = ['nodejs', 'command'] as const;
export type FnKind = (typeof FN_KINDS)[number];

/** Extensions that mean Node.js code; a `.zip` is a Node.js package. Anything else runs as a command. */
const NODE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/** `mezz fn deploy`'s flags, parsed (durations in the unit the API takes). Each left out keeps what the function had (OpenWhisk's update merges). */
export interface DeployFlags {
  kind?: FnKind;
  main?: string;
  memoryMb?: number;
  timeoutMs?: number;
  concurrency?: number;
  minWarm?: number;
  maxWorkers?: number;
  idleSeconds?: number;
  params: Record<string, unknown>;
}

export interface KeyValue {
  key: string;
  value: unknown;
}

/** OpenWhisk's action document, as much of it as the flags set. */
export interface ActionBody {
  exec: { kind: 'nodejs:default' | 'command'; code: string; main?: string; binary?: boolean };
  limits?: { timeout?: number; memory?: number; concurrency?: number };
  parameters?: KeyValue[];
  annotations?: KeyValue[];
}

/** The kind of a file when `--kind` names none: Node.js by its extension (a zip is a Node.js package), else a command. */
export function kindOfFile(path: string): FnKind {
  const ext = extname(path).toLowerCase();
  return ext === '.zip' || NODE_EXTENSIONS.has(ext) ? 'nodejs' : 'command';
}

/** Whether the file must travel as base64 (`binary: true`): a zip, or anything with a NUL byte (an executable), which UTF-8 text would mangle. */
function isBinaryFile(path: string, bytes: Uint8Array): boolean {
  return extname(path).toLowerCase() === '.zip' || bytes.includes(0);
}

/** Drops the fields left undefined, so that an update sends only what was asked. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The body of `PUT …/actions/NAME?overwrite=true` for `file` (its path and content) and the flags. */
export function deployBody(file: { path: string; bytes: Uint8Array }, flags: DeployFlags): ActionBody {
  const kind = flags.kind ?? kindOfFile(file.path);
  const binary = isBinaryFile(file.path, file.bytes);
  const buffer = Buffer.from(file.bytes);
  const body: ActionBody = {
    exec: {
      kind: kind === 'nodejs' ? 'nodejs:default' : 'command',
      code: binary ? buffer.toString('base64') : buffer.toString('utf8'),
      ...(flags.main !== undefined && { main: flags.main }),
      ...(binary && { binary: true }),
    },
  };
  const limits = defined({ timeout: flags.timeoutMs, memory: flags.memoryMb, concurrency: flags.concurrency });
  if (Object.keys(limits).length) body.limits = limits;
  const params = Object.entries(flags.params);
  if (params.length) body.parameters = params.map(([key, value]) => ({ key, value }));
  const scaling = defined({ minWarm: flags.minWarm, maxWorkers: flags.maxWorkers, idleTimeout: flags.idleSeconds });
  if (Object.keys(scaling).length) body.annotations = Object.entries(scaling).map(([key, value]) => ({ key, value }));
  return body;
}

/** A `-p` value as `wsk -p` reads it: JSON when it parses (`3`, `true`, `{"a":1}`, `"quoted"`), else the text as it is. */
export function paramValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `-p key=value`, each in turn (a later key wins); UsageError naming the one without a key or `=`. */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`-p ${pair.slice(0, 60)}: a parameter is key=value (e.g. -p name=world, -p n=3)`);
    params[pair.slice(0, eq)] = paramValue(pair.slice(eq + 1));
  }
  return params;
}

/** A `--param-file`'s text: one JSON object, its fields the parameters; UsageError naming the file otherwise. */
export function paramFileParams(file: string, text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--param-file ${file} is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`--param-file ${file} must hold one JSON object ({"name": "world"}), not ${Array.isArray(doc) ? 'an array' : typeof doc}`);
  return doc as Record<string, unknown>;
}
