/**
 * A standby's HTTP API answers by forwarding to the leader (as Marathon's
 * standbys do): method, path, query, headers (Authorization included) and
 * body go to the leader, its answer streams back unchanged, so a client
 * may talk to any instance. Framework-agnostic: node's IncomingMessage and
 * ServerResponse in, nothing about routes.
 *
 *   client ──▶ standby ──(x-mezz-via: standby)──▶ leader
 *          ◀── status, headers (+ x-mezz-leader), body streamed ◀──
 *
 * Answers of its own, as JSON `{"message": …}`:
 *   503 no leader is known, or the request was already forwarded once (a
 *       standby that forwarded to a former leader: never forward in a loop);
 *   502 the leader could not be reached, or did not answer within `timeoutMs`.
 *
 * Mounting it in fastify: in an `onRequest` hook (before fastify reads the
 * body), `reply.hijack()` then `proxyToLeader(request.raw, reply.raw, …)`.
 * Where the body was already read, pass it as `body`.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';

/** Marks a forwarded request, naming the instance that forwarded it. */
export const VIA_HEADER = 'x-mezz-via';
/** Added to a forwarded answer: the leader that gave it. */
export const LEADER_HEADER = 'x-mezz-leader';
export const DEFAULT_PROXY_TIMEOUT_MS = 30_000;

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), and host (set to the leader). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

export interface ProxyOptions {
  /** This instance's advertised address, put in the via header. */
  self: string;
  /** Mutual TLS to the leader: its API serves https, checked against `ca`, and is shown this certificate. */
  tls?: { cert: Buffer; key: Buffer; ca: Buffer };
  /** How long to wait for the leader's status line and headers (the body may then stream for as long as it lasts). Default 30 s. */
  timeoutMs?: number;
  /** The request body, when the HTTP layer has already read it from `req`; otherwise `req` is streamed. */
  body?: Buffer | string;
}

/**
 * Forwards `req` to `leader` (`host:port`; undefined when none is known)
 * and streams the answer into `res`. Resolves when `res` is finished or the
 * client went away; never rejects (failures become 502/503 answers, or a
 * destroyed response when the failure came mid-body).
 */
export function proxyToLeader(req: IncomingMessage, res: ServerResponse, leader: string | undefined, opts: ProxyOptions): Promise<void> {
  if (!leader) return answer(res, 503, 'no leader is known to this instance; retry in a few seconds');
  if (req.headers[VIA_HEADER]) {
    return answer(res, 503, `this instance is not the leader, and the request was already forwarded by ${String(req.headers[VIA_HEADER])}: the leader changed meanwhile; retry`);
  }
  const url = new URL(`http://${leader}`);
  const headers = forwardHeaders(req, leader, opts);
  const transport = opts.tls ? https : http;
  return new Promise<void>((resolve) => {
    const upstream = transport.request({
      host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, method: req.method, path: req.url ?? '/', headers,
      ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca } : {}),
    });
    const timer = setTimeout(() => upstream.destroy(new Error(`no answer within ${opts.timeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS} ms`)), opts.timeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS);
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) upstream.destroy(); // the client went away: stop the leader's work on it
      resolve();
    });
    upstream.on('response', (reply) => {
      clearTimeout(timer);
      res.writeHead(reply.statusCode ?? 502, { ...answerHeaders(reply.headers), [LEADER_HEADER]: leader });
      // Now, not with the first body chunk: an event stream may send none for a while, and its client waits on the headers.
      res.flushHeaders();
      reply.pipe(res);
      reply.on('error', () => res.destroy());
      reply.on('aborted', () => res.destroy());
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (res.headersSent) res.destroy(); // mid-body: the client sees a cut answer, not a false whole one
      else void answer(res, 502, `the leader at ${leader} did not answer: ${err.message}`).then(resolve);
    });
    if (opts.body !== undefined) upstream.end(opts.body);
    else req.pipe(upstream);
  });
}

/** The client's headers for the leader: end-to-end ones only, the leader as host, and who forwarded it. */
function forwardHeaders(req: IncomingMessage, leader: string, opts: ProxyOptions): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionTokens(req.headers);
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
  }
  out.host = leader;
  out[VIA_HEADER] = opts.self;
  const from = req.socket.remoteAddress;
  if (from) out['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${from}` : from;
  if (opts.body !== undefined) {
    out['content-length'] = Buffer.byteLength(opts.body);
    delete out['transfer-encoding'];
  }
  return out;
}

/** The leader's headers for the client: end-to-end ones only (node re-frames the body). */
function answerHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && name !== 'host' && !HOP_BY_HOP.has(name) && !listed.has(name)) out[name] = value;
  }
  return out;
}

/** The headers a `Connection:` header names as hop-by-hop. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  return new Set(String(headers.connection ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** An answer of the proxy's own, as JSON `{message}`. */
function answer(res: ServerResponse, status: number, message: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      resolve();
      return;
    }
    const body = JSON.stringify({ message });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body, () => resolve());
  });
}
