/**
 * Mutual TLS, at the door: with --tls-* on, the master's gRPC port and an
 * agent's files port answer only a client presenting a certificate from
 * their CA (plaintext, no certificate, or one from another CA: the
 * connection fails before any method runs); an etcd started with TLS
 * refuses anonymous clients the same way; and a half-configured TLS stops a
 * process at start, naming what is missing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { loadTls } from '../../lib/auth';
import { StoreError } from '../../lib/errors';
import { mezzProto } from '../../lib/proto';
import { EtcdStore } from '../../lib/store-etcd';
import { Cluster, ROOT, waitFor, type Proc } from '../harness';
import { requireEtcd, startTestEtcd, type TestEtcd } from '../etcd';
import { testTls, tlsFlags } from '../fixtures/tls';

const tls = testTls();
const pem = (file: string) => readFileSync(file);
const ca = pem(tls.node.tlsCa);

/** The four ways a client may come to a mutual-TLS port, and whether the door opens. */
const clients: { name: string; credentials: () => grpc.ChannelCredentials; admitted: boolean }[] = [
  { name: 'plaintext', credentials: () => grpc.credentials.createInsecure(), admitted: false },
  { name: 'TLS without a client certificate', credentials: () => grpc.credentials.createSsl(ca), admitted: false },
  // It trusts the server (the test CA) but presents a certificate the server's CA never signed.
  { name: 'a client certificate from another CA', credentials: () => grpc.credentials.createSsl(ca, pem(tls.other.tlsKey), pem(tls.other.tlsCert)), admitted: false },
  { name: 'a client certificate from the CA', credentials: () => grpc.credentials.createSsl(ca, pem(tls.node.tlsKey), pem(tls.node.tlsCert)), admitted: true },
];

type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => void;

/** Calls one unary method; resolves with the gRPC status code (0: it answered). */
function statusOf(client: grpc.Client, method: string, req: object): Promise<grpc.status> {
  return new Promise((resolve) => {
    (client as unknown as Record<string, Unary>)[method]!.call(client, req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => resolve(err ? err.code : grpc.status.OK));
  });
}

describe('mutual TLS on the master and the agents', () => {
  const c = new Cluster();
  let master: Proc;
  let agent: Proc;
  before(async () => {
    master = await c.startMaster({ args: tlsFlags(tls.node) });
    agent = await c.startAgent(master.address, { args: tlsFlags(tls.node) });
    // The agent reached the master over mutual TLS (the master logs its registration).
    await waitFor('the agent registered', () => /agent \S+ registered from/.test(master.output()));
  });
  after(() => c.teardown());

  for (const client of clients) {
    test(`the master's port, ${client.name}: ${client.admitted ? 'answered' : 'refused'}`, async () => {
      const operator = new (mezzProto().Operator)(master.address, client.credentials());
      try {
        const code = await statusOf(operator, 'getLeader', {});
        // Refused at the handshake: the call never reaches the master (UNAVAILABLE), whatever the method.
        assert.equal(code, client.admitted ? grpc.status.OK : grpc.status.UNAVAILABLE);
      } finally {
        operator.close();
      }
    });

    test(`an agent's files port, ${client.name}: ${client.admitted ? 'answered' : 'refused'}`, async () => {
      const files = new (mezzProto().AgentFiles)(agent.address, client.credentials());
      try {
        const code = await statusOf(files, 'readFile', { taskId: 'none', path: 'stdout' });
        // Admitted, the call reaches the file service, which wants the master's token: UNAUTHENTICATED, not a transport failure.
        assert.equal(code, client.admitted ? grpc.status.UNAUTHENTICATED : grpc.status.UNAVAILABLE);
      } finally {
        files.close();
      }
    });
  }
});

describe('a half-configured TLS', () => {
  const c = new Cluster();
  after(() => c.teardown());

  for (const [bin, extra] of [['mezz-master.mjs', ['--port', '0']], ['mezz-agent.mjs', ['--master', '127.0.0.1:1', '--work-dir', path.join(c.dir, 'agent')]]] as const) {
    test(`${bin} with only --tls-cert refuses to start, naming the missing flags`, () => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', bin), ...extra, '--tls-cert', tls.node.tlsCert], { encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stderr, /TLS needs --tls-cert, --tls-key and --tls-ca together; missing --tls-key, --tls-ca/);
      assert.doesNotMatch(r.stdout, /listening on/);
    });
  }
});

describe('etcd started with TLS', { skip: requireEtcd() }, () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startTestEtcd({ tls: tls.node });
  });
  after(() => etcd?.dispose());

  /** A plain etcd3 client, each call bounded (etcd3 would otherwise wait on a connection that never comes). */
  const etcdClient = (hosts: string, credentials?: { rootCertificate: Buffer; privateKey?: Buffer; certChain?: Buffer }) =>
    new Etcd3({ hosts, ...(credentials ? { credentials } : {}), defaultCallOptions: () => ({ deadline: Date.now() + 5000 }) });
  const clientsOfEtcd: { name: string; client: () => Etcd3; admitted: boolean }[] = [
    { name: 'plaintext', client: () => etcdClient(etcd.endpoint.replace('https://', 'http://')), admitted: false },
    { name: 'TLS without a client certificate', client: () => etcdClient(etcd.endpoint, { rootCertificate: ca }), admitted: false },
    { name: 'a client certificate from another CA', client: () => etcdClient(etcd.endpoint, { rootCertificate: ca, privateKey: pem(tls.other.tlsKey), certChain: pem(tls.other.tlsCert) }), admitted: false },
    { name: 'a client certificate from the CA', client: () => etcdClient(etcd.endpoint, { rootCertificate: ca, privateKey: pem(tls.node.tlsKey), certChain: pem(tls.node.tlsCert) }), admitted: true },
  ];
  for (const { name, client, admitted } of clientsOfEtcd) {
    test(`${name}: ${admitted ? 'reads and writes' : 'refused'}`, async () => {
      const etcd3 = client();
      try {
        const put = etcd3.put('/mezzanine/tls-test').value('x').exec().then(() => 'written', (err: Error) => `refused: ${err.message}`);
        assert.match(await put, admitted ? /^written$/ : /^refused/);
      } finally {
        etcd3.close();
      }
    });
  }

  test("Mezzanine's etcd client with a certificate from another CA: a StoreError that says it is TLS", async () => {
    await assert.rejects(EtcdStore.open({ endpoints: [etcd.endpoint], tls: loadTls(tls.other), callTimeoutMs: 5000 }),
      (err: Error) => err instanceof StoreError && /refused the TLS connection .*the CA this process was given/.test(err.message));
  });

  test('a plain http request to its client URL gets no answer from etcd', async () => {
    const res = await fetch(`${etcd.endpoint.replace('https://', 'http://')}/v3/kv/range`, { method: 'POST', body: '{"key":"Lw=="}', signal: AbortSignal.timeout(5000) })
      .then((r) => r.status, (err: Error) => err.message);
    assert.notEqual(res, 200);
  });
});
