/**
 * A bench's client of a framework's HTTP API: one JSON request, and one
 * that must answer a given status (else the bench stops, naming the call).
 */

export interface Reply {
  status: number;
  /** The framework's JSON, read field by field. */
  body: any;
}

export async function call(base: string, method: string, url: string, body?: unknown): Promise<Reply> {
  const r = await fetch(`${base}${url}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

export async function expectStatus(base: string, method: string, url: string, want: number, body?: unknown): Promise<Reply> {
  const r = await call(base, method, url, body);
  if (r.status !== want) throw new Error(`${method} ${url}: ${r.status} (wanted ${want}): ${JSON.stringify(r.body).slice(0, 500)}`);
  return r;
}
