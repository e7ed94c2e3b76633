/**
 * Who may call a framework's HTTP API, in two steps, both through lib/auth
 * so the frameworks decide as the master does:
 *
 *   onRequest   authentication: `Authorization: Bearer TOKEN` (or `Basic
 *               base64(PRINCIPAL:SECRET)`, lib/auth/caller.ts) → request.caller,
 *               before the body is read (a stranger cannot make us parse 1 MB);
 *               401 with `WWW-Authenticate: Bearer` otherwise
 *   preHandler  authorization: the route's action on its object, after
 *               validation (the object may come from the body); 403 naming
 *               principal, action, object and the deciding rule
 *
 * Every route declares its `authz`: an action and object, or `public`
 * (`GET /health`, `GET /metrics` by default). A route that declares
 * neither is refused when it is added, so none is open by oversight.
 */
import type { FastifyRequest } from 'fastify';
import { type Action, Authorizer, type Caller, CallerAuth } from '../../lib/auth';
import { InternalError } from '../../lib/errors';

/** What a route needs: `public`, or `action` on `FRAMEWORK:object(request)` (`*` when object is absent). */
export type Authz = 'public' | { action: Action; object?: (request: FastifyRequest) => string };

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller (anonymous, `{peer}`, on public routes and with authentication off). */
    caller: Caller;
  }
  interface FastifyContextConfig {
    authz?: Authz;
  }
}

/** `ipv4:127.0.0.1:53422`, as gRPC peers read in audit lines. */
export function peerOf(request: FastifyRequest): string {
  const s = request.raw.socket;
  return `${s.remoteFamily === 'IPv6' ? 'ipv6' : 'ipv4'}:${s.remoteAddress ?? 'unknown'}:${s.remotePort ?? 0}`;
}

export class HttpAuth {
  constructor(
    /** The API's name: the object prefix (`services:/prod/web`) and the WWW-Authenticate realm. */
    readonly service: string,
    readonly callerAuth: CallerAuth,
    readonly authorizer: Authorizer,
  ) {}

  /** A route's declared authz; a route without one is a bug in the framework, refused at start. */
  static declared(method: string | string[], url: string, authz: Authz | undefined): Authz {
    if (authz === undefined) {
      throw new InternalError(`route ${[method].flat().join(',')} ${url} declares no authz: give it { action, object } or 'public'`);
    }
    return authz;
  }

  /** onRequest: sets request.caller or throws UNAUTHENTICATED. */
  authenticate(request: FastifyRequest): void {
    const peer = peerOf(request);
    if (request.routeOptions.config.authz === 'public') {
      request.caller = { peer };
      return;
    }
    request.caller = this.callerAuth.fromHeader(request.headers.authorization, peer);
  }

  /** preHandler: throws PERMISSION_DENIED unless the ACLs let the caller do the route's action on its object. */
  authorize(request: FastifyRequest): void {
    const authz = request.routeOptions.config.authz;
    if (authz === undefined || authz === 'public') return;
    const object = `${this.service}:${authz.object ? authz.object(request) : '*'}`;
    this.authorizer.authorize(request.caller, authz.action, object, `${request.method} ${request.routeOptions.url}`);
  }
}
