/**
 * A private certificate authority and the certificates it signs, made with
 * the `openssl` binary: for `mezz up --ha`'s etcd and for the tests' mutual
 * TLS. Node can make keys but not sign X.509 certificates, and a dependency
 * that can (node-forge) would be heavier than a binary every Debian host has.
 *
 *   createCa(dir, name)           ──▶ NAME-ca.crt, NAME-ca.key (0600)
 *   issueCertificate(ca, dir, …)  ──▶ NAME.crt, NAME.key (0600), signed by the CA
 *
 * Keys are EC P-256 (fast to make, accepted by grpc-js and etcd). Every
 * certificate is good for both ends of a connection (extendedKeyUsage
 * serverAuth and clientAuth), so one file pair serves a process as the
 * server it is and the client it is of others (a master is both).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MezzError, errorMessage } from './errors';
import type { TlsFiles } from './auth/transport';

/** The `openssl` binary is not installed (or not on PATH). */
export class OpensslMissingError extends MezzError {
  override name = 'OpensslMissingError';
  constructor(bin: string) {
    super(
      `cannot make TLS certificates: the openssl binary "${bin}" was not found. `
        + 'Install it with `apt-get install openssl` (Debian/Ubuntu), or set OPENSSL_BIN to it',
      'FAILED_PRECONDITION',
    );
  }
}

/** A CA's certificate and key files. */
export interface CaFiles {
  cert: string;
  key: string;
}

/** Who a certificate is for: its subject's common name and the names it is valid for. */
export interface CertificateSubject {
  commonName: string;
  /** IP addresses in subjectAltName; default `['127.0.0.1']`. */
  ips?: string[];
  /** DNS names in subjectAltName; default `['localhost']`. */
  dnsNames?: string[];
  /** Validity; default 825 days (the longest clients such as macOS accept). */
  days?: number;
}

/** The CA's extensions and a leaf's; `[dn]` stays empty: the subject comes from -subj. */
function config(subject?: CertificateSubject): string {
  const alt = subject
    ? [...(subject.ips ?? ['127.0.0.1']).map((ip) => `IP:${ip}`), ...(subject.dnsNames ?? ['localhost']).map((d) => `DNS:${d}`)].join(',')
    : '';
  return [
    '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]',
    '[ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
    '[leaf]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage = serverAuth,clientAuth', 'authorityKeyIdentifier = keyid', ...(alt ? [`subjectAltName = ${alt}`] : []),
    '',
  ].join('\n');
}

function openssl(args: string[]): void {
  const bin = process.env.OPENSSL_BIN || 'openssl';
  try {
    execFileSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new OpensslMissingError(bin);
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().slice(-1000);
    throw new MezzError(`openssl ${args[0]} failed: ${stderr || errorMessage(err)}`, 'INTERNAL', { cause: err });
  }
}

/** A subject for -subj: the common name with `/` and `=` escaped. */
const subj = (commonName: string) => `/CN=${commonName.replace(/[/=\\]/g, (ch) => `\\${ch}`)}`;
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Creates `file` empty with mode 0600 before openssl writes a key into it
 * (openssl keeps an existing file's mode), so the key is never readable by others.
 */
function privateFile(file: string): void {
  writeFileSync(file, '', { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode through writeFileSync
}

/** Writes the openssl config for one command, next to what it makes. */
function writeConfig(dir: string, name: string, subject?: CertificateSubject): string {
  const file = path.join(dir, `${name}.cnf`);
  writeFileSync(file, config(subject));
  return file;
}

/**
 * Makes a self-signed CA in `dir` (created if missing): `NAME-ca.crt` and
 * `NAME-ca.key` (mode 0600), valid ten years. Overwrites what is there.
 * Throws OpensslMissingError without openssl, MezzError when it fails.
 */
export function createCa(dir: string, name: string, commonName = `${name} CA`): CaFiles {
  mkdirSync(dir, { recursive: true });
  const files = { cert: path.join(dir, `${name}-ca.crt`), key: path.join(dir, `${name}-ca.key`) };
  const cnf = writeConfig(dir, `${name}-ca`);
  privateFile(files.key);
  try {
    openssl(['req', '-x509', '-new', '-config', cnf, '-extensions', 'ca', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-days', '3650', '-subj', subj(commonName)]);
  } finally {
    rmSync(cnf, { force: true });
  }
  return files;
}

/**
 * Makes a key and a certificate signed by `ca` in `dir`: `NAME.key` (mode
 * 0600) and `NAME.crt`, for `subject`'s addresses, usable as server and
 * client. Returns the three files a process is given (`--tls-cert`,
 * `--tls-key`, `--tls-ca`). Throws as `createCa`.
 */
export function issueCertificate(ca: CaFiles, dir: string, name: string, subject: CertificateSubject): Required<TlsFiles> {
  mkdirSync(dir, { recursive: true });
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  const csr = path.join(dir, `${name}.csr`);
  const cnf = writeConfig(dir, name, subject);
  try {
    privateFile(key);
    openssl(['req', '-new', '-config', cnf, ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subj(subject.commonName)]);
    openssl([
      'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-days', String(subject.days ?? 825), '-extfile', cnf, '-extensions', 'leaf', '-out', cert,
    ]);
  } finally {
    rmSync(cnf, { force: true });
    rmSync(csr, { force: true });
  }
  return { tlsCert: cert, tlsKey: key, tlsCa: ca.cert };
}
