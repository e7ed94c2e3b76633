/**
 * Transport security, the one place that builds gRPC server and channel
 * credentials. Without TLS material everything is plaintext (fine on
 * loopback); with it, mutual TLS: servers present their certificate and
 * require a client certificate signed by the CA, clients verify the server's
 * against the same CA. A token, when given, rides every call's metadata
 * (`authorization: Bearer TOKEN`) through a client interceptor, which works
 * over plaintext too (gRPC's call credentials refuse insecure channels).
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { errorMessage, InvalidArgumentError } from '../errors';
import { CHANNEL_OPTIONS } from '../grpc';
import { AUTHORIZATION_KEY } from './caller';

/** PEM files: the process's own certificate and key, and the CA its peers' certificates must chain to. */
export interface TlsFiles {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  /** The files, for messages and for children that need the same (e.g. an etcd client). */
  files: Required<TlsFiles>;
}

/** What a client needs to reach a Mezzanine server. */
export interface ClientSecurity {
  tls?: TlsMaterial;
  token?: string;
}

function readPem(file: string, flag: string): Buffer {
  try {
    const pem = readFileSync(file);
    if (!pem.toString('latin1').includes('-----BEGIN ')) throw new Error('not a PEM file (no -----BEGIN line)');
    return pem;
  } catch (err) {
    throw new InvalidArgumentError(`${flag} ${file}: ${errorMessage(err)}`);
  }
}

/** The flags the three files come from, for messages. */
const TLS_FLAGS = { cert: '--tls-cert', key: '--tls-key', ca: '--tls-ca' };

/** The three files, all or none (a half-configured TLS is refused, naming what is missing, by `flags`). */
export function loadTls(files: TlsFiles, flags: typeof TLS_FLAGS = TLS_FLAGS): TlsMaterial | undefined {
  const given = [files.tlsCert, files.tlsKey, files.tlsCa].filter(Boolean).length;
  if (given === 0) return undefined;
  if (given < 3) {
    const missing = [[flags.cert, files.tlsCert], [flags.key, files.tlsKey], [flags.ca, files.tlsCa]].filter(([, v]) => !v).map(([f]) => f);
    throw new InvalidArgumentError(`TLS needs ${flags.cert}, ${flags.key} and ${flags.ca} together; missing ${missing.join(', ')}`);
  }
  return {
    cert: readPem(files.tlsCert!, flags.cert), key: readPem(files.tlsKey!, flags.key), ca: readPem(files.tlsCa!, flags.ca),
    files: { tlsCert: files.tlsCert!, tlsKey: files.tlsKey!, tlsCa: files.tlsCa! },
  };
}

/** Server credentials: mutual TLS (client certificates required and checked against the CA), or plaintext. */
export function serverCredentials(tls?: TlsMaterial): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], true);
}

/** Channel credentials: TLS with this process's certificate (verifying the server against the CA), or plaintext. */
export function channelCredentials(tls?: TlsMaterial): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca, tls.key, tls.cert);
}

/** Metadata carrying `authorization: Bearer TOKEN`, for one call. */
export function bearerMetadata(token: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set(AUTHORIZATION_KEY, `Bearer ${token}`);
  return m;
}

/** Adds `authorization: Bearer TOKEN` to every call of a client. */
export function tokenInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set(AUTHORIZATION_KEY, `Bearer ${token}`);
      next(metadata, listener);
    },
  });
}

/** Credentials and options for a client of `security` (CHANNEL_OPTIONS, plus `extra`). */
export function clientChannel(security: ClientSecurity | undefined, extra: grpc.ClientOptions = {}): { credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  const interceptors = [...(extra.interceptors ?? [])];
  if (security?.token) interceptors.push(tokenInterceptor(security.token));
  return {
    credentials: channelCredentials(security?.tls),
    options: { ...CHANNEL_OPTIONS, ...extra, ...(interceptors.length ? { interceptors } : {}) },
  };
}

/** A client of a generated service constructor over `security`. */
export function makeClient<C>(
  Ctor: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C,
  address: string,
  security: ClientSecurity | undefined,
  extra: grpc.ClientOptions = {},
): C {
  const { credentials, options } = clientChannel(security, extra);
  return new Ctor(address, credentials, options);
}
