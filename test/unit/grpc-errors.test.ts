/**
 * lib/grpc toServiceError: the one mapping of errors to statuses. Details
 * ride an HTTP/2 trailer, and one above the client's header limit is never
 * delivered (the call hung until its deadline, and its connection with it:
 * test/integration/fuzz.test.ts found it), so they are cut.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../lib/errors';
import { ERROR_KIND_KEY, MAX_STATUS_DETAILS, toServiceError } from '../../lib/grpc';

describe('toServiceError', () => {
  test('details of any length are cut to MAX_STATUS_DETAILS, saying how much was cut', () => {
    const e = toServiceError(new InvalidArgumentError(`task ${'x'.repeat(300_000)} is bad`));
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.ok(e.details!.length < MAX_STATUS_DETAILS + 100, `${e.details!.length} characters`);
    assert.match(e.details!, /more characters cut\)$/);
    assert.equal(e.metadata!.get(ERROR_KIND_KEY)[0], 'INVALID');
  });

  test('short details are kept whole; unexpected errors are INTERNAL', () => {
    assert.equal(toServiceError(new InvalidArgumentError('no task id given')).details, 'no task id given');
    const e = toServiceError(new Error('boom'));
    assert.equal(e.code, grpc.status.INTERNAL);
    assert.equal(e.details, 'internal error: boom');
  });
});
