/**
 * How a process chooses http or https for etcd, and the certificates the
 * tests and `mezz up --ha` make: pure rules, no etcd needed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadTls } from '../../lib/auth';
import { StoreError } from '../../lib/errors';
import { etcdSpec } from '../../lib/master-locator';
import { connectEtcd, etcdEndpoint } from '../../lib/store-etcd';
import { createCa, issueCertificate, OpensslMissingError } from '../../lib/tls-certificates';
import { testTls } from '../fixtures/tls';

describe('etcd endpoints', () => {
  const tls = loadTls(testTls().node);
  const cases: { name: string; endpoint: string; tls: boolean; want: string }[] = [
    { name: 'bare, no TLS material: http', endpoint: '127.0.0.1:2379', tls: false, want: 'http://127.0.0.1:2379' },
    { name: 'bare, with TLS material: https', endpoint: '127.0.0.1:2379', tls: true, want: 'https://127.0.0.1:2379' },
    { name: 'an explicit http is kept, TLS material or not', endpoint: 'http://e:2379', tls: true, want: 'http://e:2379' },
    { name: 'an explicit https is kept', endpoint: 'https://e:2379', tls: false, want: 'https://e:2379' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(etcdEndpoint(c.endpoint, c.tls ? tls : undefined), c.want));
  }

  test('etcd:// discovery reads etcd over https when the client has TLS material', () => {
    assert.deepEqual(etcdSpec('etcd://a:2379,b:2379/prod', true), { endpoints: ['https://a:2379', 'https://b:2379'], cluster: 'prod' });
    assert.deepEqual(etcdSpec('etcd://a:2379').endpoints, ['http://a:2379']);
  });

  test('a list mixing http and https is refused, naming both', () => {
    assert.throws(() => connectEtcd({ endpoints: ['http://a:2379', 'https://b:2379'], tls }),
      (err: Error) => err instanceof StoreError && /mix http and https/.test(err.message) && err.message.includes('http://a:2379'));
  });
});

describe('TLS flags', () => {
  test('a half-given set is refused under the names of the flags it came from', () => {
    assert.throws(() => loadTls({ tlsCert: testTls().node.tlsCert }, { cert: '--etcd-cert', key: '--etcd-key', ca: '--etcd-ca' }),
      /TLS needs --etcd-cert, --etcd-key and --etcd-ca together; missing --etcd-key, --etcd-ca/);
  });
});

describe('certificates', () => {
  test('a CA and a certificate for 127.0.0.1 and localhost, server and client, keys 0600', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mezz-certs-'));
    try {
      const ca = createCa(dir, 'unit');
      const files = issueCertificate(ca, dir, 'node', { commonName: 'node' });
      assert.equal(statSync(ca.key).mode & 0o777, 0o600);
      assert.equal(statSync(files.tlsKey).mode & 0o777, 0o600);
      assert.equal(files.tlsCa, ca.cert);
      execFileSync('openssl', ['verify', '-CAfile', ca.cert, files.tlsCert]);
      const text = execFileSync('openssl', ['x509', '-in', files.tlsCert, '-noout', '-text'], { encoding: 'utf8' });
      assert.match(text, /IP Address:127\.0\.0\.1, DNS:localhost/);
      assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without openssl: an error that says how to install it', () => {
    const before = process.env.OPENSSL_BIN;
    process.env.OPENSSL_BIN = '/nonexistent/openssl';
    const dir = mkdtempSync(path.join(tmpdir(), 'mezz-certs-'));
    try {
      assert.throws(() => createCa(dir, 'unit'), (err: Error) => err instanceof OpensslMissingError && /apt-get install openssl/.test(err.message));
    } finally {
      if (before === undefined) delete process.env.OPENSSL_BIN;
      else process.env.OPENSSL_BIN = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
