/**
 * Talking to a worker's runtime (worker/runtime.mjs) over HTTP: wait for it
 * to answer, `/init` it once, `/run` invocations. Keep-alive connections, so
 * a warm call costs one request on an open socket, not a TCP handshake.
 *
 * Every call answers a WorkerAnswer (activation.ts) and never rejects: the
 * HTTP status and body as the runtime sent them, or a failure — `timeout`
 * when the limit passed (the caller recycles the worker), `exited` when the
 * connection broke (the worker died: its task's status says why).
 */
import http from 'node:http';
import type { WorkerAnswer } from './activation';

/** What a run or init answered, with the lines the runtime kept for it (`?logs=1`). */
export interface WorkerReply {
  answer: WorkerAnswer;
  logs: string[];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1000, keepAliveMsecs: 10_000 });

/** Largest answer read from a worker: a 1 MB result plus logs up to 10 MB, with room for JSON's escapes. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The header a worker started with MEZZ_FN_SECRET requires on /init and /run. */
export const SECRET_HEADER = 'x-mezz-fn-secret';

/** POSTs `body` to `http://address/path` (with the worker's secret, when it has one); `timeoutMs` bounds the whole exchange. */
function post(address: string, path: string, body: unknown, timeoutMs: number, secret?: string): Promise<WorkerAnswer> {
  const [host, port] = splitAddress(address);
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: WorkerAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = http.request({ host, port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(secret ? { [SECRET_HEADER]: secret } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > MAX_ANSWER_BYTES) {
          req.destroy();
          done({ failure: 'internal', message: `the worker's answer exceeded ${MAX_ANSWER_BYTES} bytes` });
        } else chunks.push(c);
      });
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        let parsed: unknown = raw;
        try {
          parsed = JSON.parse(raw);
        } catch {
          // not JSON: classified as such (activation.ts)
        }
        done({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', () => done({ failure: 'exited' }));
    });
    const timer = setTimeout(() => {
      done({ failure: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', () => done({ failure: 'exited' }));
    req.end(text);
  });
}

/** POSTs and splits Mezzanine's `{response, logs}` envelope (`?logs=1`) into the contract's answer and the run's lines. */
export async function call(address: string, path: '/init' | '/run', body: unknown, timeoutMs: number, secret?: string): Promise<WorkerReply> {
  const answer = await post(address, `${path}?logs=1`, body, timeoutMs, secret);
  if ('failure' in answer) return { answer, logs: [] };
  const b = answer.body as { response?: unknown; logs?: unknown } | string;
  if (typeof b === 'object' && b !== null && 'response' in b) {
    return { answer: { status: answer.status, body: b.response }, logs: Array.isArray(b.logs) ? b.logs.map(String) : [] };
  }
  return { answer, logs: [] };
}

/**
 * Resolves once the runtime at `address` answers GET /health with 200 and,
 * when `worker` is given, names that worker (`MEZZ_FN_WORKER_ID`): a port
 * can be held by some other process (a worker of another cluster on the
 * host, one that outlived its task), and a worker that failed to bind it
 * must not be taken as up because a stranger answers there. Resolves false
 * when `deadline` (ms since the epoch) or `signal` comes first. Polls every
 * `everyMs`: a refused connection costs well under a millisecond, and a cold
 * start should not wait for a slow poll.
 */
export async function waitHealthy(address: string, deadline: number, signal: AbortSignal, opts: { everyMs?: number; worker?: string } = {}): Promise<boolean> {
  const [host, port] = splitAddress(address);
  while (Date.now() < deadline && !signal.aborted) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host, port, path: '/health', agent, timeout: 1000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 && (opts.worker === undefined || workerOf(body) === opts.worker)));
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 5));
  }
  return false;
}

/** The worker id a /health body names, if any. */
function workerOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { worker?: unknown }).worker;
  } catch {
    return undefined;
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
