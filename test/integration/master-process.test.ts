/**
 * The master process's own failure modes: a corrupt registry and bad flags
 * stop it with a clear message and a non-zero exit, never a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../harness';

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
  assert.match(d.stderr, /--agent-ping-timeout: bad duration "soon"/);
});
