/**
 * Prometheus metrics of one HTTP API: a registry of its own (never
 * prom-client's global one, so several servers — in a test, or a framework
 * and its standby — do not collide), the process's default metrics, and the
 * requests served, by method, route template and status. Routes are the
 * templates (`/v2/apps/:id`), never the raw URL, and an unmatched URL is
 * `unmatched`, so a client cannot grow the series without bound.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  /** Counts one answered request; `seconds` from its arrival to its reply. */
  observe(method: string, route: string | undefined, status: number, seconds: number): void;
}

/** Buckets from 1 ms to 10 s: API calls are quick, and a slow one should stand out. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const total = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route and status', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds', help: 'Time from a request\'s arrival to its reply, by method, route and status',
    labelNames, buckets: DURATION_BUCKETS, registers: [registry],
  });
  return {
    registry,
    observe(method, route, status, seconds) {
      const labels = { method, route: route ?? 'unmatched', status: String(status) };
      total.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}
