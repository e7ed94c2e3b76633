/**
 * The shipped frameworks' shared flags (frameworks/foundation/flags.ts) and
 * the backend they choose (backend.ts; the etcd one is exercised by
 * test/integration/foundation-ha.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { addFrameworkFlags, advertisedAddress, openBackend, type FrameworkFlags } from '../../frameworks/foundation';

/** Parses `args` as a binary that added one flag of its own would. */
function parse(args: string[]): FrameworkFlags & { maxApps?: string } {
  const program = addFrameworkFlags(new Command('mezz-test'), { name: 'services', port: 8080 }).option('--max-apps <n>').exitOverride().configureOutput({ writeErr: () => undefined });
  return program.parse(args, { from: 'user' }).opts<FrameworkFlags & { maxApps?: string }>();
}

test('defaults: embedded state under .mezz/<name>, HTTP on 0.0.0.0 and the binary\'s port, role *, lease 2 s', () => {
  const f = parse([]);
  assert.deepEqual(
    { name: f.name, role: f.role, dataDir: f.dataDir, cluster: f.cluster, leaseTtl: f.leaseTtl, host: f.host, port: f.port, master: f.master, etcd: f.etcd },
    { name: 'services', role: '*', dataDir: path.join('.mezz', 'services'), cluster: 'mezzanine', leaseTtl: 2, host: '0.0.0.0', port: 8080, master: undefined, etcd: undefined },
  );
});

test('every flag parses, and the binary\'s own flags sit beside them', () => {
  const f = parse([
    '--master', 'm1:5050,m2:5050', '--name', 'web-2', '--role', 'prod', '--etcd', 'http://e:2379', '--cluster', 'c1', '--lease-ttl', '5',
    '--etcd-cert', 'ec', '--etcd-key', 'ek', '--etcd-ca', 'ea', '--tls-cert', 'tc', '--tls-key', 'tk', '--tls-ca', 'ta',
    '--credentials', 'cr.json', '--acls', 'acls.json', '--host', '127.0.0.1', '--port', '0', '--advertise', 'svc:80', '--token', 't0k', '--max-apps', '7',
  ]);
  assert.equal(f.master, 'm1:5050,m2:5050');
  assert.deepEqual([f.name, f.role, f.etcd, f.cluster, f.leaseTtl], ['web-2', 'prod', 'http://e:2379', 'c1', 5]);
  assert.deepEqual([f.etcdCert, f.etcdKey, f.etcdCa, f.tlsCert, f.tlsKey, f.tlsCa], ['ec', 'ek', 'ea', 'tc', 'tk', 'ta']);
  assert.deepEqual([f.credentials, f.acls, f.host, f.port, f.advertise, f.token, f.maxApps], ['cr.json', 'acls.json', '127.0.0.1', 0, 'svc:80', 't0k', '7']);
});

test('bad values are refused naming the flag and the limit', () => {
  for (const [args, want] of [
    [['--port', '70000'], /--port must be 0-65535/],
    [['--lease-ttl', '0.5'], /--lease-ttl must be a whole number of seconds, at least 1/],
    [['--name', 'a/b'], /--name must be 1-64 letters, digits/],
    [['--cluster', ''], /--cluster must be 1-64 letters, digits/],
  ] as const) {
    assert.throws(() => parse([...args]), want, args.join(' '));
  }
});

test('the advertised address: --advertise, else the host (the hostname for a wildcard) and the bound port', () => {
  assert.equal(advertisedAddress({ advertise: 'svc:80', host: '0.0.0.0' }, 1234), 'svc:80');
  assert.equal(advertisedAddress({ host: '127.0.0.1' }, 1234), '127.0.0.1:1234');
  assert.equal(advertisedAddress({ host: '0.0.0.0' }, 1234), `${os.hostname()}:1234`);
  assert.equal(advertisedAddress({ host: '::1' }, 1234), '[::1]:1234');
});

test('without --etcd the backend is the embedded store under --data-dir, whose election leads at once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mezz-backend-'));
  try {
    const backend = await openBackend({ ...parse([]), dataDir: dir });
    assert.equal(backend.where, `state in ${dir}`);
    const leadership = await backend.election.campaign('me:1');
    assert.deepEqual(leadership.fence, []);
    await backend.store.put('/k', 1);
    await backend.close();
    await backend.close(); // idempotent
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('half the etcd TLS files are refused naming what is missing', async () => {
  await assert.rejects(openBackend({ ...parse(['--etcd', 'e:2379', '--etcd-cert', 'c.pem']) }), /--etcd-cert, --etcd-key and --etcd-ca together; missing --etcd-key, --etcd-ca/);
});
