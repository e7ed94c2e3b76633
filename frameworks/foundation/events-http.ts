/**
 * `GET /v2/events` (Marathon's event stream) on a framework's API: the
 * EventBus's frames as `text/event-stream`, one response a subscriber.
 *
 *   GET /v2/events?event_type=a&event_type=b   Accept: text/event-stream (or none)
 *     ─ authenticate, authorize framework_read on NAME:*   (as every route: 401 / 403)
 *     ─ Accept without event-stream → 406; a malformed event_type → 400, naming it
 *     ─ bus.subscribe (full → 429) ─ 200 and headers at once ─ frames as published
 *     ─ `: heartbeat` every heartbeatMs ─ client gone → unsubscribed in the same turn
 *
 * Headers are flushed before any event, so a client (or a standby's proxy,
 * which waits at most 30 s for them) knows at once that it is subscribed.
 * With the API's TLS the stream is https like every route.
 */
import type { ServerResponse } from 'node:http';
import { Counter, Gauge } from 'prom-client';
import { Type } from 'typebox';
import type { Api } from './http';
import type { ErrorBody } from './errors';
import { EVENT_TYPE_PATTERN, EVENT_TYPE_RULE, type EventBus, type EventSink } from './events';

/** Jetty's EventSourceServlet's heartbeat period, which Marathon's stream had. */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** `event_type` parameters one request may give. */
export const MAX_EVENT_TYPE_FILTERS = 32;
/** How long a stream ended by the server may take to flush before its connection is cut (a client that stopped reading). */
const END_GRACE_MS = 10_000;

export interface EventRouteOptions {
  /** Default `/v2/events` (Marathon's). */
  url?: string;
  /** A comment line to every subscriber this often. Default DEFAULT_HEARTBEAT_MS. */
  heartbeatMs?: number;
}

const EventsQuery = Type.Object({ event_type: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
const Any = Type.Any();

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-store',
  // nginx and its kin buffer answers unless told not to.
  'x-accel-buffering': 'no',
};

/**
 * Routes the event stream of `bus` on `api`, and `event_stream_subscribers`
 * and `event_stream_slow_disconnects_total` on its /metrics. Closing the API
 * ends every stream first (an open stream would hold the server's close).
 */
export function addEventRoutes(api: Api, bus: EventBus, opts: EventRouteOptions = {}): void {
  const url = opts.url ?? '/v2/events';
  api.route({
    method: 'GET', url, schema: { querystring: EventsQuery, response: { 200: Any, 400: Any, 406: Any } },
    authz: { action: 'framework_read' },
    handler: async (request, reply) => {
      if (!acceptsEventStream(request.headers.accept)) {
        return reply.code(406).send({
          message: `GET ${url} answers only text/event-stream (server-sent events), which Accept: ${JSON.stringify(request.headers.accept)} does not allow; send Accept: text/event-stream`,
        });
      }
      const filter = eventTypes(request.query.event_type);
      if ('error' in filter) return reply.code(400).send(filter.error);
      const res = reply.raw;
      let started = false;
      // The response starts with the first frame (the attached event), or right after subscribing: a full bus throws before it.
      const start = () => {
        if (started) return;
        started = true;
        void reply.hijack();
        res.writeHead(200, SSE_HEADERS);
        res.flushHeaders();
      };
      const sub = bus.subscribe(responseSink(res, start), { types: filter.types, remoteAddress: request.raw.socket.remoteAddress ?? 'unknown' });
      start();
      res.on('close', () => sub.unsubscribe());
      if (res.destroyed) sub.unsubscribe(); // gone before we listened
      return undefined;
    },
  });

  const heartbeat = setInterval(() => bus.heartbeat(), opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();
  api.server.addHook('preClose', async () => {
    clearInterval(heartbeat);
    bus.closeAll(`${api.name} is shutting down; reconnect to another instance`);
  });
  new Gauge({
    name: 'event_stream_subscribers', help: `Clients subscribed to ${url}`, registers: [api.metrics],
    collect() {
      this.set(bus.size);
    },
  });
  new Counter({
    name: 'event_stream_slow_disconnects_total', help: `Subscribers of ${url} disconnected for reading too slowly`, registers: [api.metrics],
    collect() {
      this.reset();
      this.inc(bus.slowDisconnects);
    },
  });
}

/** An HTTP response as a bus subscriber's sink; ended streams that do not drain within END_GRACE_MS are cut. */
function responseSink(res: ServerResponse, start: () => void): EventSink {
  return {
    get pending() {
      return res.writableLength;
    },
    write(frame) {
      start();
      res.write(frame);
    },
    end(lastFrame) {
      start();
      const cut = setTimeout(() => res.destroy(), END_GRACE_MS);
      cut.unref();
      res.on('close', () => clearTimeout(cut));
      res.end(lastFrame);
    },
  };
}

/**
 * Whether an Accept header lets text/event-stream through: none at all,
 * `text/event-stream`, `text/*` or `*\/*` — unless event-stream itself is
 * given with q=0.
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (!accept?.trim()) return true;
  const ranges = accept.split(',').map((part) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return { range, refused: q !== undefined && Number(q.slice(2)) === 0 };
  });
  if (ranges.some((r) => r.range === 'text/event-stream' && r.refused)) return false;
  return ranges.some((r) => !r.refused && ['text/event-stream', 'text/*', '*/*'].includes(r.range));
}

/** The `event_type` filter of a query, or the 400 naming what is wrong with it. */
function eventTypes(given: string | string[] | undefined): { types: ReadonlySet<string> } | { error: ErrorBody } {
  const list = given === undefined ? [] : [given].flat();
  const errors = list.filter((t) => !EVENT_TYPE_PATTERN.test(t)).slice(0, 5).map((t) => {
    const several = t.includes(',') ? '; give each type its own event_type parameter' : '';
    return `${JSON.stringify(t.slice(0, 80))} is not an event type: ${EVENT_TYPE_RULE}${several}`;
  });
  if (list.length > MAX_EVENT_TYPE_FILTERS) errors.push(`${list.length} event types given; at most ${MAX_EVENT_TYPE_FILTERS}`);
  if (errors.length) return { error: { message: 'Query string is not valid', details: [{ path: '/event_type', errors }] } };
  return { types: new Set(list) };
}
