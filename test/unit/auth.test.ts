/**
 * lib/auth: credentials files, token checks, ACL rules and decisions, the
 * Authorizer's audit lines, client token discovery, and the Bearer check
 * the frameworks' HTTP APIs will use, through a real node:http server.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Acls, Authenticator, Authorizer, CallerAuth, basicCredentials, bearerToken, generateSecret, isLoopback, loadTls, parseCredentials, resolveClientSecurity,
} from '../../lib/auth';
import { MezzError, PermissionDeniedError } from '../../lib/errors';
import { httpStatusOf } from '../../lib/http-status';

const dir = mkdtempSync(path.join(tmpdir(), 'mezz-auth-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const doc = (entries: unknown[]) => JSON.stringify({ credentials: entries });
const S1 = 'a-secret-of-at-least-16';
const S2 = 'another-secret-0123456';

describe('credentials', () => {
  it('parses principals and secrets; each problem names the file, the entry and the limit, never the secret', () => {
    assert.deepEqual(parseCredentials(doc([{ principal: 'ops', secret: S1 }]), 'f.json'), [{ principal: 'ops', secret: S1 }]);
    const cases: [string, RegExp][] = [
      ['not json', /f\.json is not valid JSON/],
      ['{"creds": []}', /must be \{"credentials"/],
      [doc([{ principal: 'has space', secret: S1 }]), /credentials\[0\]: principal must be 1-128 letters/],
      [doc([{ principal: 'ops', secret: 'short' }]), /credentials\[0\] \(ops\): secret must be 16-1024 characters/],
      [doc([{ principal: 'ops', secret: S1 }, { principal: 'ops', secret: S2 }]), /credentials\[1\]: principal ops is listed twice/],
      [doc([{ principal: 'a', secret: S1 }, { principal: 'b', secret: S1 }]), /credentials\[1\] \(b\): two principals share one secret/],
    ];
    for (const [text, want] of cases) {
      assert.throws(() => parseCredentials(text, 'f.json'), (e: Error) => want.test(e.message) && !e.message.includes(S1), text);
    }
  });

  it('a token names its principal; a wrong, empty or oversized one names none', () => {
    const a = new Authenticator([{ principal: 'ops', secret: S1 }, { principal: 'web', secret: S2 }]);
    assert.equal(a.authenticate(S1), 'ops');
    assert.equal(a.authenticate(S2), 'web');
    for (const t of ['', S1.slice(0, -1), `${S1}x`, 'x'.repeat(5000)]) assert.equal(a.authenticate(t), undefined);
  });

  it('generates distinct secrets long enough for a credentials file', () => {
    const s = new Set(Array.from({ length: 100 }, generateSecret));
    assert.equal(s.size, 100);
    assert.doesNotThrow(() => parseCredentials(doc([...s].map((secret, i) => ({ principal: `p${i}`, secret }))), 'gen'));
  });
});

describe('CallerAuth', () => {
  const auth = new CallerAuth(new Authenticator([{ principal: 'ops', secret: S1 }]), 'this master');
  it('reads Bearer tokens; refuses a missing, malformed or unknown one as UNAUTHENTICATED', () => {
    assert.equal(bearerToken(`Bearer ${S1}`), S1);
    assert.equal(bearerToken(`bearer   ${S1} `), S1);
    assert.equal(bearerToken(`Basic ${S1}`), undefined);
    assert.deepEqual(auth.fromHeader(`Bearer ${S1}`, 'p'), { principal: 'ops', peer: 'p' });
    for (const [h, want] of [[undefined, /requires authentication/], [S1, /must be 'Bearer TOKEN'/], [`Bearer ${S2}`, /not valid for any principal/]] as const) {
      assert.throws(() => auth.fromHeader(h, 'p'), (e: MezzError) => e.kind === 'UNAUTHENTICATED' && want.test(e.message));
    }
  });

  it("reads HTTP Basic as OpenWhisk's clients send it: the principal as user name, its secret as password", () => {
    const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
    assert.deepEqual(basicCredentials(basic(`ops:${S1}`)), { user: 'ops', password: S1 });
    assert.equal(basicCredentials(basic('no colon')), undefined);
    assert.deepEqual(auth.fromHeader(basic(`ops:${S1}`), 'p'), { principal: 'ops', peer: 'p' });
    for (const h of [basic(`ops:${S2}`), basic(`admin:${S1}`), basic(`${S1}:`)]) {
      assert.throws(() => auth.fromHeader(h, 'p'), (e: MezzError) => e.kind === 'UNAUTHENTICATED' && /not a principal and its secret/.test(e.message), h);
    }
  });

  it('off without an authenticator: every caller is anonymous', () => {
    assert.deepEqual(new CallerAuth(undefined, 'x').fromHeader(undefined, 'p'), { peer: 'p' });
  });

  it('guards an HTTP API: 401 without or with a wrong token, the principal with a right one', async () => {
    const server = http.createServer((req, res) => {
      try {
        const caller = auth.fromHeader(req.headers.authorization, req.socket.remoteAddress ?? '');
        res.end(caller.principal);
      } catch (err) {
        res.statusCode = httpStatusOf(err);
        res.end((err as Error).message);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const get = async (authorization?: string) => {
        const r = await fetch(url, { headers: authorization ? { authorization } : {} });
        return [r.status, await r.text()] as const;
      };
      assert.deepEqual(await get(`Bearer ${S1}`), [200, 'ops']);
      assert.equal((await get())[0], 401);
      assert.equal((await get(`Bearer ${S2}`))[0], 401);
      assert.equal(httpStatusOf(new PermissionDeniedError('no')), 403);
      assert.equal(httpStatusOf(new Error('a bug')), 500);
    } finally {
      server.close();
    }
  });
});

describe('ACLs', () => {
  const acls = Acls.parse(JSON.stringify({
    rules: [
      { principals: ['ops'], actions: '*', objects: '*' },
      { principals: ['web'], actions: ['run_task_as'], objects: ['root'], allow: false },
      { principals: ['web'], actions: ['register_framework', 'run_task_as'], objects: ['web', 'web/*', 'svc-*'] },
      { principals: '*', actions: ['read_sandbox'], objects: ['$self'] },
    ],
  }), 'acls.json');

  it('the first matching rule decides; objects match literally, by prefix*, or $self; nothing matching: the default, deny', () => {
    const d = (p: string | undefined, a: Parameters<Acls['decide']>[1], o: string) => acls.decide(p, a, o).allowed;
    assert.equal(d('ops', 'run_task_as', 'root'), true);
    assert.equal(d('web', 'run_task_as', 'root'), false);
    assert.equal(d('web', 'run_task_as', 'svc-api'), true);
    assert.equal(d('web', 'register_framework', 'web/frontend'), true);
    assert.equal(d('web', 'register_framework', 'webby'), false);
    assert.equal(d('batch', 'read_sandbox', 'batch'), true);
    assert.equal(d('batch', 'read_sandbox', 'web'), false);
    assert.equal(d(undefined, 'read_sandbox', 'web'), false);
    assert.match(acls.decide('web', 'run_task_as', 'root').why, /rule 1 of acls\.json denies it/);
    assert.match(acls.decide('batch', 'view', '*').why, /no rule of acls\.json matches; the default is deny/);
    assert.equal(Acls.parse('{"default": "allow", "rules": []}', 'x').decide('anyone', 'view', '*').allowed, true);
  });

  it('grants the shipped frameworks\' actions on FRAMEWORK:ID objects, by literal or prefix*; reads are audited quietly', () => {
    const fw = Acls.parse(JSON.stringify({
      rules: [
        { principals: ['web'], actions: ['framework_read', 'framework_write'], objects: ['services:/web/*'] },
        { principals: ['web'], actions: ['framework_delete'], objects: ['services:/web/scratch'] },
        { principals: ['ci'], actions: ['framework_write'], objects: ['batch:*', 'functions:ci/*'] },
      ],
    }), 'acls.json');
    const d = (p: string, a: Parameters<Acls['decide']>[1], o: string) => fw.decide(p, a, o).allowed;
    assert.equal(d('web', 'framework_write', 'services:/web/api'), true);
    assert.equal(d('web', 'framework_write', 'services:/prod/api'), false);
    assert.equal(d('web', 'framework_read', 'services:*'), false, 'listing every app needs a rule for services:*');
    assert.equal(d('web', 'framework_delete', 'services:/web/scratch'), true);
    assert.equal(d('web', 'framework_delete', 'services:/web/api'), false);
    assert.equal(d('ci', 'framework_write', 'batch:nightly.backup'), true);
    assert.equal(d('ci', 'framework_write', 'functions:ci/lint'), true);
    assert.equal(d('ci', 'framework_read', 'batch:nightly.backup'), false);
    const lines: string[] = [];
    const log = { info: () => lines.push('info'), warn: () => lines.push('warn'), debug: () => lines.push('debug') };
    const authz = new Authorizer(fw, log as never);
    authz.authorize({ principal: 'web', peer: 'p' }, 'framework_read', 'services:/web/api', 'GET /v2/apps/*');
    authz.authorize({ principal: 'web', peer: 'p' }, 'framework_write', 'services:/web/api', 'PUT /v2/apps/*');
    assert.deepEqual(lines, ['debug', 'info']);
  });

  it('refuses a malformed file, naming the rule and the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ rules: {} }, /rules must be a list/],
      [{ default: 'maybe', rules: [] }, /default must be "deny" or "allow"/],
      [{ rules: [{ principals: [], actions: '*' }] }, /rules\[0\]: principals must be "\*" or a non-empty list/],
      [{ rules: [{ principals: '*', actions: ['fly'] }] }, /rules\[0\]: unknown action "fly"; actions: register_agent, /],
      [{ rules: [{ principals: '*', actions: '*', allow: 'yes' }] }, /allow must be true or false/],
      [{ rules: [{ principals: '*', actions: '*', object: ['x'] }] }, /unknown field "object"/],
    ];
    for (const [doc, want] of cases) assert.throws(() => Acls.parse(JSON.stringify(doc), 'a.json'), want);
  });

  it('the Authorizer audits every decision and throws PERMISSION_DENIED naming principal, action, object and rule', () => {
    const lines: [string, string][] = [];
    const log = { info: (m: string) => lines.push(['info', m]), warn: (m: string) => lines.push(['warn', m]), debug: (m: string) => lines.push(['debug', m]) };
    const authz = new Authorizer(acls, log as never);
    authz.authorize({ principal: 'ops', peer: 'ipv4:1.2.3.4:5' }, 'update_weights', 'web', 'Operator.UpdateWeights');
    assert.throws(() => authz.authorize({ principal: 'web', peer: 'p' }, 'run_task_as', 'root', 'ACCEPT of framework f'),
      (e: MezzError) => e.kind === 'PERMISSION_DENIED' && /principal web may not run_task_as on "root" \(ACCEPT of framework f\): rule 1/.test(e.message));
    authz.authorize({ principal: 'ops', peer: 'p' }, 'view', '*', 'Operator.ListTasks');
    assert.deepEqual(lines.map(([level]) => level), ['info', 'warn', 'debug']);
    assert.match(lines[0]![1], /^audit: ops from ipv4:1\.2\.3\.4:5 update_weights on "web" \(Operator\.UpdateWeights\): allowed, rule 0/);
    assert.match(lines[1]![1], /DENIED/);
  });
});

describe('client security', () => {
  it('takes the token from the option, MEZZ_TOKEN, MEZZ_TOKEN_FILE, then ./.mezz/token, in that order', () => {
    const cwd = path.join(dir, 'cwd');
    mkdirSync(path.join(cwd, '.mezz'), { recursive: true });
    writeFileSync(path.join(cwd, '.mezz', 'token'), 'from-the-data-dir\n');
    const file = path.join(dir, 'token-file');
    writeFileSync(file, 'from-the-file\nsecond line ignored\n');
    assert.equal(resolveClientSecurity({ token: 'explicit' }, { MEZZ_TOKEN: 'env' }, cwd).token, 'explicit');
    assert.equal(resolveClientSecurity({}, { MEZZ_TOKEN: 'env', MEZZ_TOKEN_FILE: file }, cwd).token, 'env');
    assert.equal(resolveClientSecurity({}, { MEZZ_TOKEN_FILE: file }, cwd).token, 'from-the-file');
    assert.equal(resolveClientSecurity({}, {}, cwd).token, 'from-the-data-dir');
    assert.equal(resolveClientSecurity({}, {}, dir).token, undefined);
    // The local cluster's token goes to local masters only.
    assert.equal(resolveClientSecurity({ masters: ['127.0.0.1:5050', 'localhost:5051', '[::1]:5052'] }, {}, cwd).token, 'from-the-data-dir');
    assert.equal(resolveClientSecurity({ masters: ['127.0.0.1:5050', 'prod-master:5050'] }, {}, cwd).token, undefined);
    assert.equal(resolveClientSecurity({ masters: ['etcd://10.0.0.5:2379/prod'] }, {}, cwd).token, undefined);
    assert.equal(resolveClientSecurity({ masters: ['prod-master:5050'] }, { MEZZ_TOKEN: 'env' }, cwd).token, 'env');
    writeFileSync(file, '\n');
    assert.throws(() => resolveClientSecurity({}, { MEZZ_TOKEN_FILE: file }, cwd), /token file .* must hold one token/);
  });

  it('TLS needs all three files, and PEM ones', () => {
    assert.equal(loadTls({}), undefined);
    assert.throws(() => loadTls({ tlsCert: 'a.pem' }), /TLS needs --tls-cert, --tls-key and --tls-ca together; missing --tls-key, --tls-ca/);
    const notPem = path.join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    assert.throws(() => loadTls({ tlsCert: notPem, tlsKey: notPem, tlsCa: notPem }), /--tls-cert .*not\.pem: not a PEM file/);
  });
});

describe('isLoopback', () => {
  it('takes a host alone or with a port, IPv6 bracketed or bare', () => {
    for (const a of ['127.0.0.1', '127.0.0.1:5050', 'localhost', 'localhost:80', '::1', '[::1]', '[::1]:5050', 'https://127.0.0.2:8080/v2', 'etcd://[::1]:2379/x']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '10.0.0.1:5050', '0.0.0.0', '::', '[::]:80', 'example.com:443', '::2', 'fe80::1']) assert.equal(isLoopback(a), false, a);
  });
});
