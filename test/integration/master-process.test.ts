/**
 * The master process's own failure modes: a corrupt registry and bad flags
 * stop it with a clear message and a non-zero exit, never a stack trace; a
 * malformed record in a readable registry is skipped with a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cluster, op, ROOT, waitFor } from '../harness';
import type { ListFrameworksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListFrameworksResponse';

const master = (args: string[]) =>
  spawnSync(process.execPath, [path.join(ROOT, 'bin/mezz-master.mjs'), ...args], { encoding: 'utf8', timeout: 30_000 });

test('a corrupt registry stops the master with a message naming the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mezz-corrupt-'));
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'registry.json'), 'not json at all');
    const r = master(['--port', '0', '--data-dir', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /registry\.json is unreadable or corrupt/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad flags exit 2 with the flag named', () => {
  const r = master(['--port', 'eighty']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--port/);
  const d = master(['--agent-ping-timeout', 'soon']);
  assert.equal(d.status, 2);
  assert.match(d.stderr, /option '--agent-ping-timeout <duration>' argument 'soon' is invalid\. bad duration "soon"/);
});

test('a registry with a malformed record: the master skips it with one warning and leads, instead of stepping down in a loop', async () => {
  const c = new Cluster();
  try {
    const dataDir = path.join(c.dir, 'master');
    mkdirSync(dataDir, { recursive: true });
    const P = '/mezzanine/mezzanine/registry/frameworks/';
    const entry = (value: unknown, rev: number) => ({ value, version: 1, createRevision: rev, modRevision: rev });
    writeFileSync(path.join(dataDir, 'registry.json'), JSON.stringify({
      format: 'mezzanine-store/1', revision: 2, entries: {
        [`${P}fw-good`]: entry({ id: 'fw-good', info: { name: 'good', roles: ['*'], capabilities: [], failoverTimeout: 3600 }, registeredAt: 1 }, 1),
        [`${P}fw-noinfo`]: entry({ id: 'fw-noinfo', registeredAt: 1 }, 2), // no `info`
      },
    }));
    const m = await c.startMaster({ dataDir });
    const list = await waitFor('ListFrameworks from the elected master', async () =>
      (await op<object, ListFrameworksResponse__Output>(c.operator(m.address), 'listFrameworks', {})).frameworks);
    assert.deepEqual(list.map((f) => f.id), ['fw-good']);
    const warnings = m.output().match(/registry record .*fw-noinfo.* is malformed and was skipped: info is missing/g) ?? [];
    assert.equal(warnings.length, 1, m.output().slice(-2000));
    assert.equal(m.child.exitCode, null);
  } finally {
    await c.teardown();
  }
});
