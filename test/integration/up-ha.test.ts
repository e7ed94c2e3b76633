/**
 * `mezz up --ha`: its local etcd holds the registry, so it is not open to
 * anonymous clients. It serves https only and requires a client certificate
 * from the CA `mezz up` made under DATA/tls (keys 0600, the CA's key gone);
 * the masters present theirs and elect a leader, and mezz-services and
 * mezz-batch, each with a certificate of its own, keep their state in the
 * same etcd under their prefixes; the admin token lists mezz-batch's jobs.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { readTokenFile } from '../../lib/auth';
import { freePort } from '../../lib/etcd-process';
import { Cluster, ROOT, waitFor } from '../harness';
import { requireEtcd } from '../etcd';

const MEZZ = path.join(ROOT, 'bin/mezz.mjs');

/** True when nothing listens on 127.0.0.1:`port` (binding it succeeds). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer().once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port P with P, P+1 and P+2 free: `mezz up --ha` puts its three masters there. */
async function threeFreePorts(): Promise<number> {
  return waitFor('three consecutive free ports', async () => {
    const p = await freePort();
    return p < 65533 && (await portFree(p + 1)) && (await portFree(p + 2)) ? p : 0;
  });
}

describe('mezz up --ha', { skip: requireEtcd() }, () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('starts etcd with client-certificate auth: anonymous clients are refused, the masters elect a leader, mezz-services and mezz-batch keep their state there', async () => {
    const port = await threeFreePorts();
    const dataDir = path.join(c.dir, 'up');
    const up = spawn(process.execPath, [MEZZ, 'up', '--ha', '--port', String(port), '--agents', '0', '--services-port', '0', '--batch-port', '0', '--functions-port', '0', '--data-dir', dataDir],
      { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    up.stdout.on('data', (d: Buffer) => (out += d.toString()));
    up.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => up.on('exit', (code) => r(code)));
    const clients: Etcd3[] = [];
    try {
      await waitFor(`mezz up --ha to be ready (output: ${out})`, () => /Ctrl-C stops the cluster/.test(out), 60_000);
      const etcdAddress = /^\s+etcd\s+(\S+)/m.exec(out)?.[1];
      assert.ok(etcdAddress, `the banner names etcd:\n${out}`);

      const tls = path.join(dataDir, 'tls');
      const ca = () => readFileSync(path.join(tls, 'etcd-ca.crt'));
      const client = (hosts: string, credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer }) => {
        const e = new Etcd3({ hosts, ...(credentials ? { credentials } : {}), defaultCallOptions: () => ({ deadline: Date.now() + 5000 }) });
        clients.push(e);
        return e;
      };
      const read = (e: Etcd3) => e.getAll().prefix('/mezzanine/').keys().then((keys) => keys, (err: Error) => `refused: ${err.message}`);

      // Anonymous: plaintext, or TLS (even trusting etcd's CA) without a client certificate.
      assert.match(String(await read(client(`http://${etcdAddress}`))), /^refused/, 'a plaintext etcd client is refused');
      assert.match(String(await read(client(`https://${etcdAddress}`, { rootCertificate: ca() }))), /^refused/);
      const http = await fetch(`http://${etcdAddress}/v3/kv/range`, { method: 'POST', body: '{"key":"Lw==","range_end":"MA=="}', signal: AbortSignal.timeout(5000) })
        .then((r) => r.status, (err: Error) => err.message);
      assert.notEqual(http, 200, 'a plain HTTP request reads nothing');

      for (const key of ['etcd-server.key', 'etcd-client.key', 'etcd-services.key', 'etcd-batch.key', 'etcd-functions.key']) {
        assert.equal(statSync(path.join(tls, key)).mode & 0o777, 0o600, `${key} is readable by its owner only`);
      }
      assert.equal(existsSync(path.join(tls, 'etcd-ca.key')), false, 'the CA key is gone once the certificates are signed');

      // With the masters' certificate the registry is there: the masters campaign on it, and one leads.
      const masters = client(`https://${etcdAddress}`, { rootCertificate: ca(), privateKey: readFileSync(path.join(tls, 'etcd-client.key')), certChain: readFileSync(path.join(tls, 'etcd-client.crt')) });
      const keys = await waitFor('three masters campaigning in etcd', async () => {
        const k = await read(masters);
        return Array.isArray(k) && k.filter((key) => key.startsWith('/mezzanine/mezzanine/leader/')).length === 3 ? k : undefined;
      });
      assert.ok(keys.length >= 3);
      await waitFor('a master elected leader', () => [1, 2, 3].some((i) => /elected leader/.test(readFileSync(path.join(dataDir, 'logs', `master-${i}.log`), 'utf8'))));

      // Each framework: its election and its framework id under its own prefix, nothing in DATA/NAME.
      for (const name of ['services', 'batch', 'functions']) {
        assert.match(out, new RegExp(`^\\s+${name}\\s+http://127\\.0\\.0\\.1:\\d+\\s`, 'm'), `the banner names the ${name} API`);
        const prefix = `/mezzanine/mezzanine/frameworks/${name}/`;
        await waitFor(`${name}' state in etcd under ${prefix}`, async () => {
          const k = await read(masters);
          return Array.isArray(k) && k.some((key) => key.startsWith(`${prefix}leader/`)) && k.some((key) => key.startsWith(prefix) && !key.startsWith(`${prefix}leader/`));
        }, 60_000, 250);
        assert.equal(existsSync(path.join(dataDir, name)), false, `no embedded store for ${name} beside etcd`);
      }

      // mezz-batch answers, and the admin token lists its (no) jobs once it leads.
      const batch = /^\s+batch\s+(\S+)/m.exec(out)![1]!;
      assert.equal((await fetch(`${batch}/health`)).status, 200, 'mezz-batch answers /health');
      const token = readTokenFile(path.join(dataDir, 'token'));
      const jobs = await waitFor('GET /v1/jobs answered', async () => {
        const r = await fetch(`${batch}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
        return r.status === 503 ? undefined : { status: r.status, body: await r.text() };
      }, 60_000, 250);
      assert.deepEqual(jobs, { status: 200, body: '[]' }, 'the admin token lists the jobs');

      process.kill(up.pid!, 'SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      for (const e of clients) e.close();
      try { process.kill(-up.pid!, 'SIGKILL'); } catch { /* exited */ }
    }
  });
});
