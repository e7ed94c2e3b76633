/**
 * worker-client's waitHealthy against a plain HTTP server on an OS-chosen
 * port: a 200 from a process that does not name the worker (another
 * cluster's worker holding the port) is not the worker being up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitHealthy } from '../../frameworks/functions/worker-client';

describe('waitHealthy', () => {
  let server: http.Server;
  let address: string;
  let body = '';

  before(async () => {
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const signal = new AbortController().signal;

  it('takes any 200 when no worker is named', async () => {
    body = '{"state":"stem","kind":"command","inflight":0}';
    assert.equal(await waitHealthy(address, Date.now() + 1000, signal), true);
  });

  it('takes only the worker named: a stranger answering 200 on the port is not it', async () => {
    body = '{"state":"stem","kind":"command","inflight":0,"worker":"fn-other-1"}';
    assert.equal(await waitHealthy(address, Date.now() + 200, signal, { worker: 'fn-ours-1' }), false);
    body = 'not json';
    assert.equal(await waitHealthy(address, Date.now() + 200, signal, { worker: 'fn-ours-1' }), false);
    body = '{"state":"stem","kind":"nodejs","inflight":0,"worker":"fn-ours-1"}';
    assert.equal(await waitHealthy(address, Date.now() + 1000, signal, { worker: 'fn-ours-1' }), true);
  });
});
