/**
 * A framework's fenced state on the embedded store (the shared suite in
 * foundation-state-contract.ts; on etcd in test/integration/foundation-ha.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedStore } from '../../lib/store-embedded';
import { frameworkStateContract } from './foundation-state-contract';

frameworkStateContract('embedded store', async (t) => {
  const d = mkdtempSync(path.join(tmpdir(), 'mezz-fw-state-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return new EmbeddedStore(d);
});
