/** `mezz up`'s restart backoff: 1 s, doubling, capped at 30 s. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartDelayMs } from '../../cli/commands/up';

test('restartDelayMs doubles from 1 s and stops at 30 s', () => {
  const cases = [
    { attempt: 0, want: 1_000 },
    { attempt: 1, want: 2_000 },
    { attempt: 4, want: 16_000 },
    { attempt: 5, want: 30_000 }, // 32 s, capped
    { attempt: 1_000, want: 30_000 }, // no overflow to Infinity
  ];
  for (const { attempt, want } of cases) assert.equal(restartDelayMs(attempt), want, `attempt ${attempt}`);
});
