import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorDetail } from '../../frameworks/foundation/index';
import type { FunctionSpec } from '../../frameworks/functions/function-schema';
import { invalidFunctionBody, parseFunction, type ParseFunctionOptions } from '../../frameworks/functions/function-spec';
import { actionJson, nextVersion, parseVersion, semver } from '../../frameworks/functions/versions';

const HELLO = 'function main(params) {\n  return { payload: `Hello, ${params.name || "World"}!` };\n}\n';
const AT = { name: 'hello', namespace: '_' };

function specOf(body: unknown, opts: ParseFunctionOptions = AT): FunctionSpec {
  const r = parseFunction(body, opts);
  assert.ok(r.spec, `expected a spec, got ${JSON.stringify(r.errors)}`);
  return r.spec;
}

function errorsOf(body: unknown, opts: ParseFunctionOptions = AT): ErrorDetail[] {
  const r = parseFunction(body, opts);
  assert.ok(r.errors, `expected errors, got ${JSON.stringify(r.spec)}`);
  return r.errors;
}

function errorAt(body: unknown, path: string, pattern: RegExp, opts: ParseFunctionOptions = AT): void {
  const errors = errorsOf(body, opts);
  const at = errors.find((e) => e.path === path);
  assert.ok(at, `no error at ${path}: ${JSON.stringify(errors)}`);
  assert.ok(at.errors.some((m) => pattern.test(m)), `${path}: ${JSON.stringify(at.errors)} does not match ${pattern}`);
}

const action = (extra: Record<string, unknown> = {}, exec: Record<string, unknown> = {}) => ({ exec: { kind: 'nodejs:20', code: HELLO, ...exec }, ...extra });

describe('parseFunction: OpenWhisk clients\' documents', () => {
  it('reads the hello action as the openwhisk npm client sends it (actions.create({name, action, params}))', () => {
    // lib/actions.js actionBody: exec {kind: options.kind || 'nodejs:default', code}, params as [{key, value}].
    const body = { exec: { kind: 'nodejs:default', code: HELLO }, parameters: [{ key: 'name', value: 'World' }] };
    assert.deepEqual(specOf(body), {
      namespace: '_',
      name: 'hello',
      exec: { kind: 'nodejs:20', code: HELLO, binary: false },
      parameters: [{ key: 'name', value: 'World' }],
      annotations: [],
      limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
      publish: false,
      scaling: { minWarm: 0, maxWorkers: 10, idleTimeout: 600 },
    });
  });

  it('takes code sent as a Buffer (base64, no binary field) as binary, as OpenWhisk infers it', () => {
    const zip = Buffer.from('PK\x03\x04 pretend zip').toString('base64');
    assert.equal(specOf({ exec: { kind: 'nodejs:default', code: zip } }).exec.binary, true);
  });

  it('reads a document GET returned, PUT back unchanged', () => {
    const first = specOf(action({ limits: { timeout: 3000 }, annotations: [{ key: 'maxWorkers', value: 8 }], publish: true }, { main: 'main' }));
    const got = actionJson({ version: 4, spec: first, updated: 1_700_000_000_000 }, { code: true });
    assert.deepEqual(specOf(got), first);
  });

  it('reads a YAML body, kind in any case and spacing', () => {
    assert.equal(specOf('exec:\n  kind: " NodeJS:18 "\n  code: "function main() {}"\n').exec.kind, 'nodejs:18');
  });

  it('takes Mezzanine\'s scaling from annotations and keeps them there', () => {
    const spec = specOf(action({ annotations: [{ key: 'minWarm', value: 2 }, { key: 'maxWorkers', value: 8 }, { key: 'idleTimeout', value: 30 }, { key: 'web-export', value: true }] }));
    assert.deepEqual(spec.scaling, { minWarm: 2, maxWorkers: 8, idleTimeout: 30 });
    assert.equal(spec.annotations.length, 4);
  });

  it('keeps init parameters (exported as environment variables)', () => {
    assert.deepEqual(specOf(action({ parameters: [{ key: 'DB', value: 'x', init: true }] })).parameters, [{ key: 'DB', value: 'x', init: true }]);
  });

  it('accepts command functions with concurrency 1', () => {
    assert.equal(specOf({ exec: { kind: 'command', code: '#!/bin/sh\ncat\n' }, limits: { concurrency: 1 } }).exec.kind, 'command');
  });
});

describe('parseFunction: updates merge with the previous version as OpenWhisk does', () => {
  const previous = specOf(action({ parameters: [{ key: 'a', value: 1 }], annotations: [{ key: 'x', value: 1 }, { key: 'maxWorkers', value: 4 }], limits: { timeout: 5000, concurrency: 3 } }));
  const update = (body: unknown) => specOf(body, { ...AT, previous });

  it('keeps exec, parameters and limits the body leaves out (the npm client\'s update with params only)', () => {
    const spec = update({ limits: { memory: 512 } });
    assert.deepEqual(spec.exec, previous.exec);
    assert.deepEqual(spec.parameters, previous.parameters);
    // limits merge field by field: timeout and concurrency kept, memory given.
    assert.deepEqual(spec.limits, { timeout: 5000, memory: 512, logs: 10, concurrency: 3 });
  });

  it('replaces parameters whole, merges annotations by key after delAnnotations', () => {
    const spec = update({ parameters: [{ key: 'b', value: 2 }], annotations: [{ key: 'maxWorkers', value: 6 }, { key: 'y', value: 2 }], delAnnotations: ['x'] });
    assert.deepEqual(spec.parameters, [{ key: 'b', value: 2 }]);
    assert.deepEqual(spec.annotations, [{ key: 'maxWorkers', value: 6 }, { key: 'y', value: 2 }]);
    assert.equal(spec.scaling.maxWorkers, 6);
  });

  it('refuses a change to command while the kept concurrency is above 1, at /exec/kind', () => {
    errorAt({ exec: { kind: 'command', code: 'cat' } }, '/exec/kind', /concurrency 3 is for Node\.js kinds only/, { ...AT, previous });
  });

  it('refuses minWarm above the kept maxWorkers, at the annotation', () => {
    errorAt({ annotations: [{ key: 'minWarm', value: 5 }] }, '/annotations/0/value', /minWarm 5 is above maxWorkers 4/, { ...AT, previous });
  });
});

describe('parseFunction: refusals name the path and the limit', () => {
  const cases: { name: string; body: unknown; path: string; want: RegExp; opts?: ParseFunctionOptions }[] = [
    { name: 'text that is neither JSON nor YAML', body: '{"exec": [', path: '/', want: /neither JSON nor YAML/ },
    { name: 'an array', body: [], path: '/', want: /JSON object/ },
    { name: 'no exec on create', body: { parameters: [] }, path: '/exec', want: /required to create/ },
    { name: 'exec not an object', body: { exec: 'x' }, path: '/exec', want: /must be an object/ },
    { name: 'an unknown top-level field', body: action({ lmits: {} }), path: '/lmits', want: /unknown field/ },
    { name: 'blackbox', body: action({}, { kind: 'blackbox', image: 'x/y' }), path: '/exec/kind', want: /not supported: Docker images/ },
    { name: 'blackbox\'s image field', body: action({}, { kind: 'blackbox', image: 'x/y' }), path: '/exec/image', want: /belongs to kind blackbox/ },
    { name: 'sequence', body: { exec: { kind: 'sequence', components: ['/_/a'] } }, path: '/exec/kind', want: /not supported: sequences/ },
    { name: 'an unknown kind', body: action({}, { kind: 'python:3' }), path: '/exec/kind', want: /"python:3" is not supported; use one of nodejs:20, nodejs:18, nodejs:default, nodejs, command/ },
    { name: 'no kind', body: { exec: { code: HELLO } }, path: '/exec/kind', want: /is required/ },
    { name: 'no code', body: { exec: { kind: 'nodejs:20' } }, path: '/exec/code', want: /is required/ },
    { name: 'empty code', body: action({}, { code: '  ' }), path: '/exec/code', want: /is empty/ },
    { name: 'code over 48 MB', body: action({}, { code: 'x'.repeat(48 * 1024 * 1024 + 1) }), path: '/exec/code', want: /is 50331649 bytes; the limit is 48 MB \(50331648 bytes\)/ },
    { name: 'main not an identifier', body: action({}, { main: 'a b' }), path: '/exec/main', want: /JavaScript identifier/ },
    { name: 'main for a command', body: { exec: { kind: 'command', code: 'cat', main: 'main' } }, path: '/exec/main', want: /no entry function/ },
    { name: 'binary true on text', body: action({}, { binary: true }), path: '/exec/binary', want: /not base64/ },
    { name: 'timeout below 100 ms', body: action({ limits: { timeout: 99 } }), path: '/limits/timeout', want: /^timeout 99 milliseconds below allowed threshold of 100 milliseconds$/ },
    { name: 'timeout above 5 min', body: action({ limits: { timeout: 300_001 } }), path: '/limits/timeout', want: /^timeout 300001 milliseconds exceeds allowed threshold of 300000 milliseconds$/ },
    { name: 'timeout not whole', body: action({ limits: { timeout: 1.5 } }), path: '/limits/timeout', want: /whole number of milliseconds/ },
    { name: 'memory below 128 MB', body: action({ limits: { memory: 127 } }), path: '/limits/memory', want: /^memory size 127 MB below allowed threshold of 128 MB$/ },
    { name: 'memory above 512 MB', body: action({ limits: { memory: 513 } }), path: '/limits/memory', want: /^memory size 513 MB exceeds allowed threshold of 512 MB$/ },
    { name: 'logs above 10 MB', body: action({ limits: { logs: 11 } }), path: '/limits/logs', want: /^logs size 11 MB exceeds allowed threshold of 10 MB$/ },
    { name: 'concurrency 0', body: action({ limits: { concurrency: 0 } }), path: '/limits/concurrency', want: /^concurrency 0 below allowed threshold of 1$/ },
    { name: 'concurrency above 500', body: action({ limits: { concurrency: 501 } }), path: '/limits/concurrency', want: /^concurrency 501 exceeds allowed threshold of 500$/ },
    { name: 'concurrency > 1 for a command', body: { exec: { kind: 'command', code: 'cat' }, limits: { concurrency: 2 } }, path: '/limits/concurrency', want: /concurrency 2 is for Node\.js kinds only/ },
    { name: 'an unknown limit', body: action({ limits: { cpu: 1 } }), path: '/limits/cpu', want: /unknown field/ },
    { name: 'parameters not an array', body: action({ parameters: { a: 1 } }), path: '/parameters', want: /array of \{key, value\}/ },
    { name: 'a parameter without value', body: action({ parameters: [{ key: 'a' }] }), path: '/parameters/0/value', want: /is required/ },
    { name: 'a parameter key twice', body: action({ parameters: [{ key: 'a', value: 1 }, { key: 'a', value: 2 }] }), path: '/parameters/1/key', want: /given twice/ },
    { name: 'an annotation with init', body: action({ annotations: [{ key: 'a', value: 1, init: true }] }), path: '/annotations/0/init', want: /unknown field/ },
    { name: 'parameters over 1 MB', body: action({ parameters: [{ key: 'a', value: 'x'.repeat(1024 * 1024) }] }), path: '/parameters', want: /are 1048\d+ bytes as JSON; the limit is 1 MB \(1048576 bytes\)/ },
    { name: 'maxWorkers 0', body: action({ annotations: [{ key: 'maxWorkers', value: 0 }] }), path: '/annotations/0/value', want: /maxWorkers must be a whole number from 1 to 100/ },
    { name: 'idleTimeout not a number', body: action({ annotations: [{ key: 'a', value: 1 }, { key: 'idleTimeout', value: '10m' }] }), path: '/annotations/1/value', want: /idleTimeout must be a whole number from 1 to 604800 \(seconds\)/ },
    { name: 'minWarm above maxWorkers', body: action({ annotations: [{ key: 'minWarm', value: 3 }, { key: 'maxWorkers', value: 2 }] }), path: '/annotations/0/value', want: /minWarm 3 is above maxWorkers 2/ },
    { name: 'version not semver', body: action({ version: '1' }), path: '/version', want: /0\.0\.1/ },
    { name: 'publish not boolean', body: action({ publish: 'yes' }), path: '/publish', want: /true or false/ },
    { name: 'a name with a leading space', body: action(), opts: { name: ' hello', namespace: '_' }, path: '/name', want: /entity name rule/ },
    { name: 'a name over 256 characters', body: action(), opts: { name: 'a'.repeat(257), namespace: '_' }, path: '/name', want: /257 characters long; the limit is 256/ },
    { name: 'a namespace with a slash', body: action(), opts: { name: 'hello', namespace: 'a/b' }, path: '/namespace', want: /entity name rule/ },
  ];
  for (const c of cases) it(c.name, () => errorAt(c.body, c.path, c.want, c.opts));

  it('reports every problem at once', () => {
    const paths = errorsOf({ exec: { kind: 'python:3', code: '' }, limits: { timeout: 1, memory: 1 }, bogus: 1 }).map((e) => e.path);
    assert.deepEqual(paths.sort(), ['/bogus', '/exec/code', '/exec/kind', '/limits/memory', '/limits/timeout']);
  });

  it('renders refusals in OpenWhisk\'s error body {error, code}', () => {
    const body = invalidFunctionBody([{ path: '/limits/memory', errors: ['memory size 1 MB below allowed threshold of 128 MB'] }], 'tx-1');
    assert.deepEqual(body, { error: 'The request content was malformed: /limits/memory: memory size 1 MB below allowed threshold of 128 MB', code: 'tx-1' });
  });
});

describe('OpenWhisk entity names', () => {
  const table: { name: string; ok: boolean }[] = [
    { name: 'hello', ok: true },
    { name: 'a', ok: true },
    { name: '_', ok: true },
    { name: 'my action', ok: true },
    { name: 'me@example.com', ok: true },
    { name: 'a&b-c.d', ok: true },
    { name: 'a'.repeat(256), ok: true },
    { name: '', ok: false },
    { name: '-a', ok: false },
    { name: 'a ', ok: false },
    { name: 'ä', ok: false },
    { name: 'a/b', ok: false },
  ];
  for (const { name, ok } of table) {
    it(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}…(${name.length})` : name)} is ${ok ? 'allowed' : 'refused'}`, () => {
      assert.equal(parseFunction(action(), { name, namespace: '_' }).spec !== undefined, ok);
    });
  }
});

describe('versions', () => {
  it('numbers versions 1, 2, 3 and shows them as OpenWhisk does, 0.0.N', () => {
    assert.equal(nextVersion(), 1);
    assert.equal(nextVersion(1), 2);
    assert.equal(semver(nextVersion(2)), '0.0.3');
  });

  it('reads a pinned version as N or 0.0.N, and nothing else', () => {
    assert.equal(parseVersion('3'), 3);
    assert.equal(parseVersion('0.0.12'), 12);
    for (const bad of ['0', '0.0.0', '1.2.3', 'latest', '-1', '03', '']) assert.equal(parseVersion(bad), undefined, bad);
  });

  it('renders the action JSON OpenWhisk\'s GET returns, code only when asked', () => {
    const spec = specOf(action({ parameters: [{ key: 'name', value: 'W' }] }));
    const stored = { version: 2, spec, updated: 1_700_000_000_000 };
    assert.deepEqual(actionJson(stored, { code: false }), {
      namespace: '_',
      name: 'hello',
      version: '0.0.2',
      exec: { kind: 'nodejs:20', binary: false },
      parameters: [{ key: 'name', value: 'W' }],
      annotations: [],
      limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
      publish: false,
      updated: 1_700_000_000_000,
    });
    assert.equal(actionJson(stored, { code: true }).exec.code, HELLO);
  });
});
