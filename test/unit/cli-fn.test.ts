/**
 * What `mezz fn …` sends and shows, from literal flags, files and /api/v1
 * JSON: the deploy body (kind from the file or --kind, zip and binaries as
 * base64, only the flags given), -p and --param-file parsing as `wsk -p`,
 * the tables, and the line an invocation ends with.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../cli/errors';
import { deployBody, kindOfFile, paramFileParams, paramValue, parseParams } from '../../cli/fn-request';
import {
  type ActionJson, type ActivationJson, actionsText, actionText, activationFailure, activationsText, codeSize, invokeSummary, workersText, versionsOf, versionsText,
} from '../../cli/fn-view';

const text = (s: string) => new TextEncoder().encode(s);
const T0 = Date.parse('2026-11-28T15:00:00Z');

function action(over: Partial<ActionJson> = {}): ActionJson {
  return {
    namespace: 'guest', name: 'hello', version: '0.0.3', exec: { kind: 'nodejs:20', binary: false },
    limits: { timeout: 60000, memory: 256, logs: 10, concurrency: 1 }, parameters: [], annotations: [], updated: T0, ...over,
  };
}

function activation(over: Partial<ActivationJson> = {}): ActivationJson {
  return {
    activationId: 'a1b2c3', name: 'hello', version: '0.0.3', start: T0, end: T0 + 23, duration: 23, cold: 'pool',
    response: { status: 'success', statusCode: 0, success: true, result: { greeting: 'hi' } }, logs: [], annotations: [], ...over,
  };
}

describe('deployBody: OpenWhisk\'s action document from the file and the flags', () => {
  it('a .js file is Node.js code sent as text, with nothing but exec when no flag is given (an update keeps the rest)', () => {
    assert.deepEqual(deployBody({ path: 'hello.js', bytes: text('function main() { return {}; }') }, { params: {} }),
      { exec: { kind: 'nodejs:default', code: 'function main() { return {}; }' } });
  });

  it('the kind follows the extension: .js .mjs .cjs .zip are Node.js, anything else a command; --kind wins', () => {
    assert.deepEqual(['a.js', 'a.MJS', 'a.cjs', 'a.zip', 'a.sh', 'a.py', 'tool'].map(kindOfFile), ['nodejs', 'nodejs', 'nodejs', 'nodejs', 'command', 'command', 'command']);
    assert.equal(deployBody({ path: 'a.sh', bytes: text('#!/bin/sh') }, { params: {} }).exec.kind, 'command');
    assert.equal(deployBody({ path: 'a.txt', bytes: text('x') }, { kind: 'nodejs', params: {} }).exec.kind, 'nodejs:default');
  });

  it('a zip goes as base64 with binary: true, and so does a file with NUL bytes (an executable)', () => {
    const zip = Uint8Array.from([0x50, 0x4b, 3, 4, 0, 1]);
    assert.deepEqual(deployBody({ path: 'pkg.zip', bytes: zip }, { main: 'index.main', params: {} }).exec,
      { kind: 'nodejs:default', code: Buffer.from(zip).toString('base64'), main: 'index.main', binary: true });
    const elf = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0]);
    assert.deepEqual(deployBody({ path: 'tool', bytes: elf }, { params: {} }).exec, { kind: 'command', code: Buffer.from(elf).toString('base64'), binary: true });
  });

  it('limits, parameters and the scaling annotations carry only the flags given, in the API\'s units', () => {
    const body = deployBody({ path: 'h.js', bytes: text('x') }, {
      memoryMb: 512, timeoutMs: 30000, concurrency: 4, minWarm: 1, maxWorkers: 8, idleSeconds: 300, params: { name: 'world', n: 3 },
    });
    assert.deepEqual(body.limits, { timeout: 30000, memory: 512, concurrency: 4 });
    assert.deepEqual(body.parameters, [{ key: 'name', value: 'world' }, { key: 'n', value: 3 }]);
    assert.deepEqual(body.annotations, [{ key: 'minWarm', value: 1 }, { key: 'maxWorkers', value: 8 }, { key: 'idleTimeout', value: 300 }]);
    const some = deployBody({ path: 'h.js', bytes: text('x') }, { memoryMb: 128, maxWorkers: 2, params: {} });
    assert.deepEqual(some.limits, { memory: 128 });
    assert.deepEqual(some.annotations, [{ key: 'maxWorkers', value: 2 }]);
    assert.equal(some.parameters, undefined);
  });
});

describe('-p key=value and --param-file, as wsk -p reads values', () => {
  it('a value is JSON when it parses, else the text as written', () => {
    assert.deepEqual(['3', 'true', 'null', '{"a":1}', '"quoted"', 'world', '1.5x', ''].map(paramValue), [3, true, null, { a: 1 }, 'quoted', 'world', '1.5x', '']);
  });

  it('splits at the first =, a later key wins', () => {
    assert.deepEqual(parseParams(['url=http://h/?a=b', 'n=1', 'n=2']), { url: 'http://h/?a=b', n: 2 });
  });

  it('a pair without a key or = is a usage error that shows the form', () => {
    assert.throws(() => parseParams(['name']), (e: unknown) => e instanceof UsageError && /-p name: a parameter is key=value/.test(e.message));
    assert.throws(() => parseParams(['=x']), UsageError);
  });

  it('--param-file holds one JSON object; anything else is refused naming the file', () => {
    assert.deepEqual(paramFileParams('p.json', '{"name":"world","n":3}'), { name: 'world', n: 3 });
    assert.throws(() => paramFileParams('p.json', '[1]'), /--param-file p.json must hold one JSON object .*not an array/);
    assert.throws(() => paramFileParams('p.json', '{nope'), /--param-file p.json is not JSON/);
  });
});

describe('the functions, one function, its versions', () => {
  it('mezz fn workers: a row per worker with its idle time, or a line saying it scaled to zero', () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    const text = workersText('hello', [
      { id: 'fn-a-3.worker.0.1', state: 'ready', version: '0.0.2', inflight: 0, idleSince: now - 95_000 },
      { id: 'fn-a-4.worker.0.1', state: 'ready', version: '0.0.2', inflight: 3, idleSince: now - 5_000 },
    ], now);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^TASK\s+STATE\s+VERSION\s+IN FLIGHT\s+IDLE$/);
    assert.match(lines[1]!, /^fn-a-3\.worker\.0\.1\s+ready\s+0\.0\.2\s+0\s+1m35s$/);
    assert.match(lines[2]!, /^fn-a-4\.worker\.0\.1\s+ready\s+0\.0\.2\s+3\s+-$/, 'busy: no idle time');
    assert.equal(workersText('hello', [], now), 'no workers for hello: it has scaled to zero (the next call starts one)');
  });

  it('mezz fn list: sorted by name, limits and WARM/MAX from the annotations (defaults 0/10)', () => {
    const out = actionsText([
      action({ name: 'resize', version: '0.0.1', exec: { kind: 'command', binary: false }, limits: { timeout: 1500, memory: 512, concurrency: 1 },
        annotations: [{ key: 'minWarm', value: 2 }, { key: 'maxWorkers', value: 4 }] }),
      action(),
    ]);
    assert.equal(out, [
      'NAME     VERSION   KIND        MEMORY   TIMEOUT   CONCURRENCY   WARM/MAX   UPDATED',
      'hello    0.0.3     nodejs:20   256MB    1m        1             0/10       2026-11-28 15:00:00Z',
      'resize   0.0.1     command     512MB    1500ms    1             2/4        2026-11-28 15:00:00Z',
    ].join('\n'));
    assert.match(actionsText([]), /no functions \(deploy one with 'mezz fn deploy NAME FILE'\)/);
  });

  it('mezz fn show: kind, version, code size (decoded for a zip), limits, scaling, parameters and other annotations', () => {
    const zip = Buffer.alloc(2048, 1).toString('base64');
    const out = actionText(action({
      exec: { kind: 'nodejs:20', binary: true, code: zip, main: 'index.main' }, parameters: [{ key: 'name', value: 'world' }, { key: 'n', value: 3 }],
      annotations: [{ key: 'idleTimeout', value: 90 }, { key: 'owner', value: 'ops' }],
    }));
    assert.equal(out, [
      'function      guest/hello',
      'version       0.0.3',
      'kind          nodejs:20 (zip)',
      'main          index.main',
      'code          2 KB',
      'limits        timeout 1m, memory 256MB, concurrency 1, logs 10MB',
      'scaling       min warm 0, max workers 10, idle 1m30s',
      'parameters    name=world, n=3',
      'annotations   owner=ops',
      'updated       2026-11-28 15:00:00Z',
    ].join('\n'));
    assert.equal(codeSize(action({ exec: { kind: 'command', code: 'échо' } })), Buffer.byteLength('échо'));
    assert.equal(codeSize(action()), undefined);
  });

  it('versionsOf reads a list of actions or {versions: [...]} of actions or strings, newest first', () => {
    const v = (n: number) => action({ version: `0.0.${n}` });
    assert.deepEqual((versionsOf([v(1), v(10), v(2)]) as ActionJson[]).map((a) => a.version), ['0.0.10', '0.0.2', '0.0.1']);
    assert.deepEqual((versionsOf({ versions: [v(2), v(3)] }) as ActionJson[]).map((a) => a.version), ['0.0.3', '0.0.2']);
    assert.deepEqual(versionsOf({ versions: ['0.0.1', '0.0.2'] }), ['0.0.2', '0.0.1']);
    assert.deepEqual(versionsOf({}), []);
  });

  it('mezz fn versions: a row per version', () => {
    assert.equal(versionsText('hello', [action({ exec: { kind: 'nodejs:20', code: 'abc' } }), action({ version: '0.0.2', limits: { memory: 128, timeout: 3000 } })]), [
      'VERSION   KIND        CODE   MEMORY   TIMEOUT   UPDATED',
      '0.0.3     nodejs:20   3 B    256MB    1m        2026-11-28 15:00:00Z',
      '0.0.2     nodejs:20   -      128MB    3s        2026-11-28 15:00:00Z',
    ].join('\n'));
    assert.equal(versionsText('hello', []), 'function hello has no versions');
  });
});

describe('activations and the invoke summary', () => {
  it('mezz fn activations: id, name, version, status, cold source, start, duration', () => {
    const out = activationsText([
      activation(),
      activation({ activationId: 'd4e5f6', cold: 'warm', duration: 4, response: { status: 'application error', success: false, result: { error: 'no' } } }),
      activation({ activationId: 'g7', cold: undefined, annotations: [{ key: 'initTime', value: 80 }], duration: 1200 }),
    ]);
    assert.equal(out, [
      'ID       NAME    VERSION   STATUS              COLD   START                  DURATION',
      'a1b2c3   hello   0.0.3     success             pool   2026-11-28 15:00:00Z   23ms',
      'd4e5f6   hello   0.0.3     application error   warm   2026-11-28 15:00:00Z   4ms',
      'g7       hello   0.0.3     success             cold   2026-11-28 15:00:00Z   1200ms',
    ].join('\n'));
    assert.equal(activationsText([]), 'no activations');
  });

  it('the summary line says the activation, cold or warm and how long it took', () => {
    assert.equal(invokeSummary(activation()), 'activation a1b2c3 (cold: pool, 23 ms)');
    assert.equal(invokeSummary(activation({ cold: 'none', duration: 140 })), 'activation a1b2c3 (cold: none, 140 ms)');
    assert.equal(invokeSummary(activation({ cold: 'warm', duration: 4 })), 'activation a1b2c3 (warm, 4 ms)');
    assert.equal(invokeSummary(activation({ cold: undefined, duration: undefined })), 'activation a1b2c3');
  });

  it('a failed activation is one line with its status and error', () => {
    const timedOut = activation({ response: { status: 'action developer error', statusCode: 2, success: false, result: { error: 'The action exceeded its time limits of 100 milliseconds.' } } });
    assert.equal(activationFailure(timedOut), 'activation a1b2c3 of hello 0.0.3: action developer error: The action exceeded its time limits of 100 milliseconds.');
    assert.equal(activationFailure({ activationId: 'x', response: { status: 'application error', success: false, result: { error: { code: 7 } } } }),
      'activation x: application error: {"code":7}');
  });
});
