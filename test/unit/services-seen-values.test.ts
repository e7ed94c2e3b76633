/**
 * SeenValues: a GROUP_BY without a count spreads over the values the
 * framework's offers showed lately (as Marathon learns them), and forgets an
 * agent not offered for SEEN_FOR_MS. hasEnded: TASK_UNKNOWN counts as ended.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SEEN_FOR_MS, SeenValues } from '../../frameworks/services/seen-values';
import { hasEnded } from '../../frameworks/foundation/index';

const offer = (agentId: string, hostname: string, rack?: string) => ({
  id: `o-${agentId}`, agentId, hostname, resources: [],
  attributes: rack ? [{ name: 'rack', text: rack }] : [],
}) as never;

test('GROUP_BY without a count gets the number of values seen; with one value, or a count given, it is left alone', () => {
  let now = 0;
  const seen = new SeenValues(() => now);
  seen.offered([offer('a1', 'h1', 'r1')]);
  assert.deepEqual(seen.withGroupCounts([['rack', 'GROUP_BY']]), [['rack', 'GROUP_BY']], 'one rack: nothing to spread over yet');
  seen.offered([offer('a2', 'h2', 'r1'), offer('a3', 'h3', 'r2'), offer('a4', 'h4')]);
  assert.deepEqual(seen.withGroupCounts([['rack', 'GROUP_BY'], ['hostname', 'group_by'], ['rack', 'GROUP_BY', '5'], ['hostname', 'UNIQUE']]), [
    ['rack', 'GROUP_BY', '2'], ['hostname', 'group_by', '4'], ['rack', 'GROUP_BY', '5'], ['hostname', 'UNIQUE'],
  ]);
  now = SEEN_FOR_MS - 1;
  seen.offered([offer('a1', 'h1', 'r1')]);
  now = SEEN_FOR_MS + 1;
  assert.deepEqual([...seen.values('rack')], ['r1'], 'agents not offered for SEEN_FOR_MS are forgotten');
});

test('hasEnded: terminal states and TASK_UNKNOWN, not the live ones', () => {
  for (const s of ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_GONE', 'TASK_UNKNOWN'] as const) assert.equal(hasEnded(s), true, s);
  for (const s of ['TASK_STAGING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE'] as const) assert.equal(hasEnded(s), false, s);
});
