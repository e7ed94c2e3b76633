/**
 * MasterNode: elected but unable to load its registry, a master steps down
 * and campaigns again after a growing delay, not in a tight loop (a loop
 * once stepped down and re-elected ~1,200 times a second).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EmbeddedElection } from '../../lib/election-embedded';
import { createLogger } from '../../lib/log';
import { EmbeddedStore } from '../../lib/store-embedded';
import type { KeyValue } from '../../lib/store';
import { MasterNode } from '../../master/node';
import { waitFor } from '../harness';

test('a registry that cannot be loaded costs a campaign every few seconds, not a tight loop', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mezz-node-'));
  class UnreadableStore extends EmbeddedStore {
    override list<T>(): Promise<KeyValue<T>[]> {
      return Promise.reject(new Error('simulated read failure'));
    }
  }
  let campaigns = 0;
  class CountingElection extends EmbeddedElection {
    override campaign(value: string) {
      campaigns++;
      return super.campaign(value);
    }
  }
  const logger = createLogger('master');
  logger.silent = true;
  const node = new MasterNode({
    store: new UnreadableStore(dir), election: new CountingElection(), host: '127.0.0.1', port: 0, logger, cluster: 't',
    agentPingTimeout: 3, agentPingInterval: 0.5, agentRemovalTimeout: 600, agentReregisterTimeout: 10, heartbeatInterval: 5,
    offerTimeout: 0, allocationInterval: 1, allocationBatchMs: 1,
  });
  try {
    await node.start();
    const t0 = Date.now();
    await waitFor('3 s of campaigning', () => Date.now() - t0 >= 3000, 10_000, 100);
    // Delays 0.5 s, 1 s, 2 s: at most 4 campaigns in 3 s (a tight loop made thousands).
    assert.ok(campaigns >= 2 && campaigns <= 4, `${campaigns} campaigns in 3 s`);
    assert.equal(node.leading(), undefined);
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
