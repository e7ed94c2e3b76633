/**
 * Activation records: each row of OpenWhisk's response classification
 * (shared/reference/openwhisk-runtime-contract.md), the failures the
 * platform reports itself, the log cap and activation ids.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  activationRecord, capLogs, classify, isActivationId, logLine, newActivationId,
  type ActivationInput, type WorkerAnswer,
} from '../../frameworks/functions/activation';

const limits = { timeoutMs: 60_000 };
const INVALID = 'The action did not produce a valid JSON or JSON Array response';

const rows: { name: string; answer: WorkerAnswer; want: [string, number, unknown] }[] = [
  { name: '200 + object without error', answer: { status: 200, body: { payload: 'hi' } }, want: ['success', 0, { payload: 'hi' }] },
  { name: '200 + empty object (main returned undefined)', answer: { status: 200, body: {} }, want: ['success', 0, {}] },
  { name: '200 + array', answer: { status: 200, body: [1, 2] }, want: ['success', 0, [1, 2]] },
  { name: '200 + object with error (a rejected promise)', answer: { status: 200, body: { error: { code: 7 } } }, want: ['application error', 1, { error: { code: 7 } }] },
  { name: '200 + {error: {}} (reject with no value)', answer: { status: 200, body: { error: {} } }, want: ['application error', 1, { error: {} }] },
  { name: '502 + object with error (a thrown exception)', answer: { status: 502, body: { error: 'An error has occurred: Error: boom' } },
    want: ['action developer error', 2, { error: 'An error has occurred: Error: boom' }] },
  { name: '500 + object without error', answer: { status: 500, body: { why: 'x' } }, want: ['action developer error', 2, { error: `${INVALID}: {"why":"x"}` }] },
  { name: '200 + not JSON', answer: { status: 200, body: 'hello there' }, want: ['action developer error', 2, { error: `${INVALID}: hello there` }] },
  { name: '200 + a JSON number', answer: { status: 200, body: 42 }, want: ['action developer error', 2, { error: `${INVALID}: 42` }] },
  { name: '200 + empty body', answer: { status: 200, body: '' }, want: ['action developer error', 2, { error: `${INVALID}.` }] },
  { name: 'worker died during the run', answer: { failure: 'exited' },
    want: ['action developer error', 2, { error: 'The action did not produce a valid response and exited unexpectedly.' }] },
  { name: 'memory exhausted', answer: { failure: 'memory' }, want: ['action developer error', 2, { error: 'The action exhausted its memory and was aborted.' }] },
  { name: 'timeout', answer: { failure: 'timeout' }, want: ['action developer error', 2, { error: 'The action exceeded its time limits of 60000 milliseconds.' }] },
  { name: 'the system could not run it', answer: { failure: 'internal', message: 'no worker could be started' },
    want: ['whisk internal error', 3, { error: 'no worker could be started' }] },
];

for (const row of rows) {
  test(`classify: ${row.name}`, () => {
    const r = classify(row.answer, limits);
    assert.deepEqual([r.status, r.statusCode, r.result], row.want);
    assert.equal(r.success, row.want[1] === 0);
  });
}

test('classify: a result over the limit is an application error naming both sizes, with the truncated text', () => {
  // {"s":"xxxxxxxxxx"} is 18 bytes, the limit 10
  const r = classify({ status: 200, body: { s: 'x'.repeat(10) } }, { timeoutMs: 1000, resultMaxBytes: 10 });
  assert.deepEqual([r.status, r.statusCode], ['application error', 1]);
  assert.deepEqual(r.result, { error: 'The action produced a response that exceeded the allowed length: 18 > 10 bytes. The truncated response was: {"s":"xxxx' });
  const big = classify({ status: 200, body: { s: 'x'.repeat(1024 * 1024) } }, limits);
  assert.match((big.result as { error: string }).error, /^The action produced a response that exceeded the allowed length: 1048584 > 1048576 bytes\./);
  assert.equal(classify({ status: 200, body: { s: 'x'.repeat(1024 * 1024 - 8) } }, limits).status, 'success', 'exactly 1 MB fits');
});

test('classify an init: its error, OpenWhisk\'s messages for a timeout or a death during init', () => {
  assert.deepEqual(classify({ status: 502, body: { error: 'Initialization has failed due to: SyntaxError' } }, limits, 'init').result,
    { error: 'Initialization has failed due to: SyntaxError' });
  assert.deepEqual(classify({ status: 502, body: 'oops' }, limits, 'init').result, { error: 'The action failed during initialization: oops' });
  assert.deepEqual(classify({ failure: 'timeout' }, { timeoutMs: 100 }, 'init').result,
    { error: 'The action exceeded its time limits of 100 milliseconds during initialization.' });
  assert.deepEqual(classify({ failure: 'exited' }, limits, 'init').result, { error: 'The action did not initialize and exited unexpectedly.' });
  assert.throws(() => classify({ status: 200, body: { OK: true } }, limits, 'init'), /200 answer to \/init/);
});

const input = (over: Partial<ActivationInput> = {}): ActivationInput => ({
  activationId: 'a'.repeat(32), namespace: 'guest', name: 'hello', version: 3, subject: 'alice',
  kind: 'nodejs', limits: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 },
  start: 1_000, end: 1_250, waitMs: 5, cold: 'warm', answer: { status: 200, body: { ok: true } }, logs: [], ...over,
});

test('the record: OpenWhisk\'s fields and annotations, duration = end − start, cold source', () => {
  const a = activationRecord(input({ initMs: 40, cold: 'pool' }));
  assert.deepEqual([a.version, a.duration, a.cold, a.publish, a.response.status], ['3', 250, 'pool', false, 'success']);
  assert.deepEqual(a.annotations, [
    { key: 'path', value: 'guest/hello' },
    { key: 'waitTime', value: 5 },
    { key: 'kind', value: 'nodejs' },
    { key: 'timeout', value: false },
    { key: 'limits', value: { timeout: 60_000, memory: 256, logs: 10, concurrency: 1 } },
    { key: 'initTime', value: 40 },
  ]);
  assert.ok(!activationRecord(input()).annotations.some((x) => x.key === 'initTime'), 'a warm run has no initTime');
});

test('the record of a timeout: developer error naming the limit, annotation timeout true', () => {
  const a = activationRecord(input({ answer: { failure: 'timeout' }, limits: { timeout: 3000, memory: 256, logs: 10, concurrency: 1 } }));
  assert.deepEqual([a.response.status, a.response.statusCode, a.response.result], ['action developer error', 2, { error: 'The action exceeded its time limits of 3000 milliseconds.' }]);
  assert.deepEqual(a.annotations.find((x) => x.key === 'timeout'), { key: 'timeout', value: true });
});

test('capLogs keeps what fits and ends with OpenWhisk\'s truncation line', () => {
  const lines = ['0123456789', 'abcdefghij', 'ABCDEFGHIJ'];
  assert.deepEqual(capLogs(lines, 30, 0), lines, '30 bytes fit exactly');
  assert.deepEqual(capLogs(lines, 25, 0), ['0123456789', 'abcdefghij',
    '1970-01-01T00:00:00.000Z stderr: Logs were truncated because the total bytes size exceeds the limit of 25 bytes.']);
  assert.equal(logLine(Date.UTC(2026, 10, 28, 17, 0, 0, 5), 'stdout', 'hi'), '2026-11-28T17:00:00.005Z stdout: hi');
});

test('activation ids are 32 hex digits, from the random source given', () => {
  assert.equal(newActivationId(() => new Uint8Array(16).fill(0xab)), 'ab'.repeat(16));
  const id = newActivationId();
  assert.ok(isActivationId(id), id);
  assert.notEqual(newActivationId(), id);
  assert.ok(!isActivationId('AB'.repeat(16)) && !isActivationId('ab'.repeat(15)));
});
