import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusUpdateQueue } from '../../agent/status-updates';
import type { TaskStatus } from '../../lib/proto';

function harness(retryMs = 1000) {
  let now = 0;
  let up = false;
  const sent: string[] = [];
  const q = new StatusUpdateQueue((s) => (up ? (sent.push(s.uuid!), true) : false), retryMs, () => now);
  return {
    q, sent,
    connect: () => { up = true; },
    disconnect: () => { up = false; },
    advance: (ms: number) => { now += ms; },
  };
}
const st = (taskId: string, uuid: string, state = 'TASK_RUNNING'): TaskStatus => ({ taskId, uuid, state: state as TaskStatus['state'] });

describe('StatusUpdateQueue', () => {
  it('backs off exponentially between unanswered resends, and starts over after a re-registration', () => {
    const h = harness(1000);
    h.connect();
    h.q.add('k1', st('t1', 'u1'));
    // Sent at 0; resends due at 1 s, then 2 s later, then 4 s later: at 1, 3 and 7 s.
    const resendsAt: number[] = [];
    for (let t = 0; t < 8000; t += 100) {
      h.advance(100);
      const before = h.sent.length;
      h.q.retry();
      if (h.sent.length > before) resendsAt.push(t + 100);
    }
    assert.deepEqual(resendsAt, [1000, 3000, 7000]);
    h.q.resendAll();
    const n = h.sent.length;
    h.advance(1000);
    h.q.retry();
    assert.equal(h.sent.length, n + 1, 'one interval after a re-registration');
  });

  it('sends at once when connected and keeps the update until acknowledged', () => {
    const h = harness();
    h.connect();
    h.q.add('k1', st('t1', 'u1'));
    assert.deepEqual(h.sent, ['u1']);
    assert.equal(h.q.pending().length, 1);
    assert.equal(h.q.acknowledge('t1', 'u1'), 'k1');
    assert.deepEqual(h.q.pending(), []);
    assert.equal(h.q.acknowledge('t1', 'u1'), undefined, 'a duplicate acknowledgement is unknown');
  });

  it('keeps updates made while disconnected and resends them all, per task in order', () => {
    const h = harness();
    h.q.add('k1', st('t1', 'a1', 'TASK_STARTING'));
    h.q.add('k2', st('t2', 'b1', 'TASK_STARTING'));
    h.q.add('k1', st('t1', 'a2'));
    assert.deepEqual(h.sent, []);
    h.connect();
    h.q.resendAll();
    assert.deepEqual(h.sent, ['a1', 'a2', 'b1']);
  });

  it('retries only updates unanswered for a full interval', () => {
    const h = harness(1000);
    h.connect();
    h.q.add('k1', st('t1', 'old'));
    h.advance(600);
    h.q.add('k1', st('t1', 'new'));
    h.advance(400); // old: 1000 ms unanswered, new: 400 ms
    h.q.retry();
    assert.deepEqual(h.sent, ['old', 'new', 'old']);
    h.q.acknowledge('t1', 'old');
    h.advance(1000);
    h.q.retry();
    assert.deepEqual(h.sent, ['old', 'new', 'old', 'new']);
  });

  it('acknowledgement must match the task as well as the uuid', () => {
    const h = harness();
    h.q.add('k1', st('t1', 'u1'));
    assert.equal(h.q.acknowledge('t2', 'u1'), undefined);
    assert.equal(h.q.pending('k1').length, 1);
  });

  it('stops resending when the stream goes down mid-way', () => {
    const h = harness();
    h.q.add('k1', st('t1', 'u1'));
    h.q.resendAll();
    assert.deepEqual(h.sent, []);
    assert.equal(h.q.pending().length, 1, 'still queued');
  });
});
