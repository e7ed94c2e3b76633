/**
 * Who is calling: the principal a request authenticated as, and where it
 * came from. Extracted once per call (a unary call) or stream (at its
 * opening), in the gRPC glue or an HTTP hook, and passed to every decision.
 *
 * Tokens travel as `authorization: Bearer TOKEN`, in gRPC metadata and in
 * HTTP headers alike. HTTP Basic is accepted too, for clients that send
 * nothing else (OpenWhisk's `wsk` and npm client send their key `uuid:key`
 * as `Basic base64(uuid:key)`): the user name must be the principal and the
 * password its secret, so such a key is a credentials entry
 * `{principal: uuid, secret: key}`.
 */
import * as grpc from '@grpc/grpc-js';
import { errorMessage, UnauthenticatedError } from '../errors';
import { toServiceError } from '../grpc';
import type { Authenticator } from './credentials';

export interface Caller {
  /** The authenticated principal; undefined when authentication is off. */
  principal?: string;
  /** Where the call came from (`ipv4:127.0.0.1:53422`), for audit lines. */
  peer: string;
}

export const AUTHORIZATION_KEY = 'authorization';

/** The token of an `Authorization: Bearer TOKEN` value, or undefined. */
export function bearerToken(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** The user name and password of an `Authorization: Basic base64(user:password)` value, or undefined. */
export function basicCredentials(header: unknown): { user: string; password: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** `ops` or `anonymous`, for messages and audit lines. */
export function who(caller: Caller): string {
  return caller.principal ?? 'anonymous';
}

/**
 * Authentication of incoming calls. Without an Authenticator (no
 * `--credentials`) every caller is anonymous and let through; with one, a
 * call without a token, or with a token no principal holds, is refused
 * (UNAUTHENTICATED) with a message that says which.
 */
export class CallerAuth {
  constructor(readonly authenticator: Authenticator | undefined, private readonly service: string) {}

  get enabled(): boolean {
    return !!this.authenticator;
  }

  /** The caller of a call whose `authorization` value is `header`. */
  fromHeader(header: unknown, peer: string): Caller {
    if (!this.authenticator) return { peer };
    if (header === undefined || header === '') {
      throw new UnauthenticatedError(`${this.service} requires authentication: send 'authorization: Bearer TOKEN' (mezz: --token or MEZZ_TOKEN; SDK: the token option)`);
    }
    const token = bearerToken(header);
    if (token) {
      const principal = this.authenticator.authenticate(token);
      if (!principal) throw new UnauthenticatedError(`${this.service}: the token presented is not valid for any principal`);
      return { principal, peer };
    }
    const basic = basicCredentials(header);
    if (!basic) throw new UnauthenticatedError(`${this.service}: the authorization value must be 'Bearer TOKEN' or 'Basic base64(PRINCIPAL:SECRET)'`);
    // The secret decides; the user name must then be its principal's, so a secret sent under another name is refused too.
    if (this.authenticator.authenticate(basic.password) !== basic.user) {
      throw new UnauthenticatedError(`${this.service}: the user name and password presented are not a principal and its secret`);
    }
    return { principal: basic.user, peer };
  }

  /** The caller of a gRPC call or stream. */
  fromGrpc(call: { metadata: grpc.Metadata; getPeer(): string }): Caller {
    const values = call.metadata.get(AUTHORIZATION_KEY);
    return this.fromHeader(values.length ? String(values[0]) : undefined, call.getPeer());
  }
}

/** `/mezzanine.v1.Operator/ListTasks` → `Operator.ListTasks`, for audit lines. */
export function methodName(path: string): string {
  const m = /^\/(?:[\w.]+\.)?(\w+)\/(\w+)$/.exec(path);
  return m ? `${m[1]}.${m[2]}` : path.slice(0, 100);
}

/**
 * A server interceptor that refuses a call without valid credentials as
 * soon as its metadata arrives, before its message is read or decoded (an
 * unauthenticated caller cannot make the server parse 16 MB), with an audit
 * line. The handlers still extract the Caller themselves for decisions.
 */
export function authInterceptor(auth: CallerAuth, log: { warn(message: string): unknown }): grpc.ServerInterceptor {
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start(next) {
      next({
        onReceiveMetadata(metadata, pass) {
          try {
            auth.fromGrpc({ metadata, getPeer: () => call.getPeer() });
          } catch (err) {
            log.warn(`audit: unauthenticated ${methodName(method.path)} from ${call.getPeer()} refused: ${errorMessage(err)}`);
            call.sendStatus(toServiceError(err) as Parameters<typeof call.sendStatus>[0]);
            return;
          }
          pass(metadata);
        },
      });
    },
  });
}
