/**
 * Fetching through a real master and agent: the test serves a tarball on
 * loopback; a task that names it in `command.uris` finds it unpacked in its
 * sandbox and runs the script inside. A URI that answers 404 fails the task
 * with REASON_FETCHER_FAILED and a message naming the URI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFile, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Cluster, op, task, waitFor, type TestScheduler } from '../harness';
import type { ReadFileResponse__Output } from '../../lib/proto';

describe('fetching URIs into the sandbox', () => {
  const c = new Cluster();
  let fw: TestScheduler;
  let master: { address: string };
  let server: http.Server;
  const sockets = new Set<Socket>();
  let base = '';

  before(async () => {
    const files = join(c.dir, 'served');
    mkdirSync(join(files, 'app'), { recursive: true });
    writeFileSync(join(files, 'app', 'run.sh'), '#!/bin/sh\necho "app says $1 in $MEZZ_TASK_ID"\n', { mode: 0o755 });
    execFileSync('tar', ['-czf', join(files, 'app.tgz'), '-C', files, 'app']);
    server = http.createServer((req, res) => readFile(join(files, req.url!.slice(1)), (err, data) => {
      res.writeHead(err ? 404 : 200);
      res.end(err ? undefined : data);
    }));
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    master = await c.startMaster();
    await c.startAgent(master.address);
    fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'fetch', failoverTimeout: 60 });
    fw.autoAck();
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    server.close();
    await c.teardown();
  });

  async function launch(t: object): Promise<void> {
    const offer = await waitFor('an offer', () => fw.outstanding()[0]);
    for (const o of fw.outstanding().slice(1)) fw.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
    fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [t] } }], filters: { refuseSeconds: 0 } } });
  }

  test('a tarball is downloaded, unpacked, and its script runs', async () => {
    const t = task('unpacked', './app/run.sh hello');
    await launch({ ...t, command: { ...t.command, uris: [{ value: `${base}/app.tgz` }] } });
    const done = await waitFor('unpacked to end', () => fw.updates('unpacked').find((u) => ['TASK_FINISHED', 'TASK_FAILED'].includes(u.state)));
    assert.equal(done.state, 'TASK_FINISHED', JSON.stringify(fw.updates('unpacked')));
    assert.match(fw.updates('unpacked').find((u) => u.state === 'TASK_STARTING')!.message, /; fetched 1 URI\(s\)$/);
    const out = await op<object, ReadFileResponse__Output>(c.operator(master.address), 'readTaskFile', { taskId: 'unpacked', path: 'stdout' });
    assert.equal(out.data.toString(), 'app says hello in unpacked\n');
  });

  test('a URI that answers 404 fails the task with REASON_FETCHER_FAILED, naming the URI', async () => {
    fw.send({ revive: {} });
    const t = task('no-such-file', 'echo never runs');
    const uri = `${base}/missing.tgz`;
    await launch({ ...t, command: { ...t.command, uris: [{ value: `${base}/app.tgz` }, { value: uri }] } });
    const failed = await waitFor('no-such-file FAILED', () => fw.updates('no-such-file').find((u) => u.state === 'TASK_FAILED'));
    assert.equal(failed.reason, 'REASON_FETCHER_FAILED');
    assert.equal(failed.message, `cannot fetch ${uri}: HTTP 404 Not Found`);
    assert.deepEqual([...new Set(fw.updates('no-such-file').filter((u) => u.uuid).map((u) => u.state))], ['TASK_FAILED'], 'the command never started');
  });
});
