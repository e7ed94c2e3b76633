/**
 * Who is calling: the principal a request authenticated as, and where it
 * came from. Extracted once per call (a unary call) or stream (at its
 * opening), in the gRPC glue or an HTTP hook, and passed to every decision.
 *
 * Tokens travel as `authorization: Bearer TOKEN`, in gRPC metadata and in
 * HTTP headers alike.
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
    if (!token) throw new UnauthenticatedError(`${this.service}: the authorization value must be 'Bearer TOKEN'`);
    const principal = this.authenticator.authenticate(token);
    if (!principal) throw new UnauthenticatedError(`${this.service}: the token presented is not valid for any principal`);
    return { principal, peer };
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
