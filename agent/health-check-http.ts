/**
 * HTTP health check: GET http://127.0.0.1:PORT/PATH; any 2xx or 3xx answer
 * is healthy (redirects are not followed), as in Mesos and Marathon. A
 * fresh connection per check (no keep-alive pool), so a task that stops
 * accepting connections is noticed at once.
 */
import http from 'node:http';
import { describeNetError, type Probe } from './health-check-probe';

export function httpProbe(port: number, path: string, host = '127.0.0.1'): Probe {
  const url = `http://${host}:${port}${path}`;
  return (signal) => new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.get({ host, port, path, agent: false, signal, headers: { 'user-agent': 'mezz-agent-health-check', connection: 'close' } }, (res) => {
        const code = res.statusCode ?? 0;
        // The body is of no interest; drop it and the connection.
        res.resume();
        res.destroy();
        resolve(code >= 200 && code < 400
          ? { ok: true, detail: `GET ${url} answered ${code}` }
          : { ok: false, reason: `GET ${url} answered ${code} ${res.statusMessage ?? ''}`.trimEnd() + ' (2xx or 3xx is healthy)' });
      });
    } catch (err) {
      resolve({ ok: false, reason: `GET ${url}: ${describeNetError(err, signal)}` });
      return;
    }
    req.on('error', (err) => resolve({ ok: false, reason: `GET ${url}: ${describeNetError(err, signal)}` }));
  });
}
