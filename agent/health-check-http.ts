/**
 * HTTP and HTTPS health checks: GET http(s)://127.0.0.1:PORT/PATH; any 2xx
 * or 3xx answer is healthy (redirects are not followed), as in Mesos and
 * Marathon. A fresh connection per check (no keep-alive pool), so a task
 * that stops accepting connections is noticed at once.
 *
 * HTTPS does not verify the task's certificate: tasks serve self-signed
 * ones (nothing issues them a certificate 127.0.0.1 could match), and the
 * check asks whether the service answers, not who it is. Mesos does the same.
 */
import http from 'node:http';
import https from 'node:https';
import { describeNetError, type Probe } from './health-check-probe';

export function httpProbe(port: number, path: string, scheme: 'http' | 'https' = 'http', host = '127.0.0.1'): Probe {
  const url = `${scheme}://${host}:${port}${path}`;
  return (signal) => new Promise((resolve) => {
    const onResponse = (res: http.IncomingMessage) => {
      const code = res.statusCode ?? 0;
      // The body is of no interest; drop it and the connection.
      res.resume();
      res.destroy();
      resolve(code >= 200 && code < 400
        ? { ok: true, detail: `GET ${url} answered ${code}`, statusCode: code }
        : { ok: false, reason: `GET ${url} answered ${code} ${res.statusMessage ?? ''}`.trimEnd() + ' (2xx or 3xx is healthy)', statusCode: code });
    };
    const options: http.RequestOptions = { host, port, path, agent: false, signal, headers: { 'user-agent': 'mezz-agent-health-check', connection: 'close' } };
    let req: http.ClientRequest;
    try {
      req = scheme === 'https' ? https.get({ ...options, rejectUnauthorized: false }, onResponse) : http.get(options, onResponse);
    } catch (err) {
      resolve({ ok: false, reason: `GET ${url}: ${describeNetError(err, signal)}` });
      return;
    }
    req.on('error', (err) => resolve({ ok: false, reason: `GET ${url}: ${describeNetError(err, signal)}` }));
  });
}
