/** TCP health check: a connection to 127.0.0.1:PORT that opens is healthy; it is closed at once. */
import net from 'node:net';
import { describeNetError, type Probe } from './health-check-probe';

export function tcpProbe(port: number, host = '127.0.0.1'): Probe {
  const where = `TCP connect to ${host}:${port}`;
  return (signal) => new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (r: Awaited<ReturnType<Probe>>) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => done({ ok: false, reason: `${where}: ${describeNetError(undefined, signal)}` });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ ok: true, detail: `${where} succeeded` }));
    socket.once('error', (err) => done({ ok: false, reason: `${where}: ${describeNetError(err, signal)}` }));
  });
}
