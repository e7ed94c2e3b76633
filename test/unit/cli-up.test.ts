/** `mezz up`'s restart backoff (1 s, doubling, capped at 30 s), mezz-services' environment, its credentials files, and the CLI's words for refusals. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Acls, type Action, loadCredentials, readTokenFile } from '../../lib/auth';
import { restartDelayMs, servicesEnv } from '../../cli/commands/up';
import { ADMIN, AGENT, ensureLocalCredentials, localAcls, SERVICES } from '../../cli/commands/up-credentials';
import { CliError, explainRefusal } from '../../cli/errors';

test('restartDelayMs doubles from 1 s and stops at 30 s', () => {
  const cases = [
    { attempt: 0, want: 1_000 },
    { attempt: 1, want: 2_000 },
    { attempt: 4, want: 16_000 },
    { attempt: 5, want: 30_000 }, // 32 s, capped
    { attempt: 1_000, want: 30_000 }, // no overflow to Infinity
  ];
  for (const { attempt, want } of cases) assert.equal(restartDelayMs(attempt), want, `attempt ${attempt}`);
});

test("mezz-services presents its own token file, whatever token, TLS or master the shell of mezz up names", () => {
  const shell = { PATH: '/usr/bin', MEZZ_TOKEN: 'someone-elses-token', MEZZ_TOKEN_FILE: '/home/me/token', MEZZ_TLS_CERT: 'c.pem', MEZZ_TLS_KEY: 'k.pem', MEZZ_TLS_CA: 'ca.pem', MEZZ_MASTER: 'far:5050', MEZZ_LOG_LEVEL: 'debug' };
  assert.deepEqual(servicesEnv('/d/.mezz/services-token', shell), { PATH: '/usr/bin', MEZZ_LOG_LEVEL: 'debug', MEZZ_TOKEN_FILE: '/d/.mezz/services-token' });
});

describe("mezz up's credentials", () => {
  const dirs: string[] = [];
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  const fresh = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'mezz-up-creds-'));
    dirs.push(d);
    return d;
  };
  const mode = (f: string) => statSync(f).mode & 0o777;

  test('the first start writes five files, mode 0600, that agree with each other', async () => {
    const files = await ensureLocalCredentials(fresh());
    for (const f of Object.values(files)) assert.equal(mode(f), 0o600, f);
    const creds = loadCredentials(files.master);
    assert.deepEqual(creds.map((c) => c.principal), [ADMIN, AGENT, SERVICES]);
    assert.equal(readTokenFile(files.token), creds[0]!.secret, 'the token is admin\'s secret');
    assert.deepEqual(loadCredentials(files.agent), [creds[1]]);
    assert.equal(readTokenFile(files.services), creds[2]!.secret, 'mezz-services presents its own secret');
    const acls = Acls.load(files.acls);
    // admin: everything but tasks as root, the services API included; agent: registration only;
    // services: register and run tasks but not as root, nothing on its own API; anyone else: nothing.
    const cases: [string, Action, string, boolean][] = [
      [ADMIN, 'teardown_framework', 'anyone', true], [ADMIN, 'run_task_as', 'nobody', true], [ADMIN, 'run_task_as', 'root', false],
      [ADMIN, 'framework_read', 'services:*', true], [ADMIN, 'framework_write', 'services:/basic-0', true], [ADMIN, 'framework_delete', 'services:/basic-0', true],
      [AGENT, 'register_agent', '*', true], [AGENT, 'view', '*', false], [AGENT, 'framework_read', 'services:*', false],
      [SERVICES, 'register_framework', '*', true], [SERVICES, 'run_task_as', 'nobody', true], [SERVICES, 'run_task_as', 'root', false], [SERVICES, 'run_task_as', '0', false],
      [SERVICES, 'framework_write', 'services:/basic-0', false], [SERVICES, 'view', '*', false], [SERVICES, 'register_agent', '*', false],
      ['someone-else', 'view', '*', false],
    ];
    for (const [who, action, object, allowed] of cases) assert.equal(acls.decide(who, action, object).allowed, allowed, `${who} ${action} ${object}`);
  });

  test('a data dir from before the services framework gets its principal and rules, and nobody else\'s rights change', async () => {
    const dir = fresh();
    const old = [{ principal: ADMIN, secret: 'a'.repeat(20) }, { principal: AGENT, secret: 'b'.repeat(20) }];
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ credentials: old }), { mode: 0o600 });
    const { rules } = localAcls();
    const oldRules = rules.filter((r) => !(r as { principals: string[] }).principals.includes(SERVICES));
    writeFileSync(path.join(dir, 'acls.json'), JSON.stringify({ default: 'deny', rules: oldRules }), { mode: 0o600 });
    const before = Acls.load(path.join(dir, 'acls.json'));

    const files = await ensureLocalCredentials(dir);
    const creds = loadCredentials(files.master);
    assert.deepEqual(creds.slice(0, 2), old, 'admin and agent keep their secrets');
    assert.equal(creds[2]!.principal, SERVICES);
    assert.equal(readTokenFile(files.services), creds[2]!.secret);
    const after = Acls.load(files.acls);
    assert.equal(after.decide(SERVICES, 'register_framework', '*').allowed, true);
    assert.equal(after.decide(SERVICES, 'run_task_as', 'root').allowed, false);
    for (const [who, action, object] of [[ADMIN, 'run_task_as', 'root'], [ADMIN, 'framework_write', 'services:/x'], [AGENT, 'register_agent', '*'], [AGENT, 'view', '*']] as const) {
      assert.equal(after.decide(who, action, object).allowed, before.decide(who, action, object).allowed, `${who} ${action} ${object}`);
    }
    for (const f of Object.values(files)) assert.equal(mode(f), 0o600, f);

    // Done once: the next start changes nothing.
    const written = Object.values(files).map((f) => readFileSync(f, 'utf8'));
    await ensureLocalCredentials(dir);
    assert.deepEqual(Object.values(files).map((f) => readFileSync(f, 'utf8')), written);
  });

  test('rules an operator already wrote for services are kept as they are', async () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ credentials: [{ principal: ADMIN, secret: 'a'.repeat(20) }, { principal: AGENT, secret: 'b'.repeat(20) }] }));
    const own = JSON.stringify({ rules: [{ principals: [SERVICES], actions: ['register_framework'], objects: ['web'] }] });
    writeFileSync(path.join(dir, 'acls.json'), own);
    const files = await ensureLocalCredentials(dir);
    assert.equal(readFileSync(files.acls, 'utf8'), own);
    assert.deepEqual(loadCredentials(files.master).map((c) => c.principal), [ADMIN, AGENT, SERVICES]);
  });

  test('a restart re-uses them; the derived files are rewritten from credentials.json and tightened to 0600', async () => {
    const dir = fresh();
    const first = await ensureLocalCredentials(dir);
    const secrets = readFileSync(first.master, 'utf8');
    writeFileSync(first.acls, '{"rules": []}');
    rmSync(first.token);
    chmodSync(first.agent, 0o644);
    const second = await ensureLocalCredentials(dir);
    assert.equal(readFileSync(second.master, 'utf8'), secrets, 'the same secrets');
    assert.equal(readFileSync(second.acls, 'utf8'), '{"rules": []}', "an operator's ACLs stay as they are");
    assert.equal(readTokenFile(second.token), loadCredentials(second.master)[0]!.secret);
    for (const f of Object.values(second)) assert.equal(mode(f), 0o600, f);
  });

  test('a credentials file without admin or agent is refused, naming what to do', async () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ credentials: [{ principal: 'ops', secret: 'x'.repeat(20) }] }));
    await assert.rejects(ensureLocalCredentials(dir), /has no principal admin or agent.*delete the file/);
  });
});

describe('refusals say what to do', () => {
  const refused = (code: grpc.status, details: string) =>
    new CliError(`${grpc.status[code]}: ${details}`, 1, { cause: Object.assign(new Error(details), { code, details }) });
  const cases = [
    { name: 'no token: where mezz looks', err: refused(grpc.status.UNAUTHENTICATED, 'requires authentication'), source: undefined, want: /found none: pass --token, set MEZZ_TOKEN or MEZZ_TOKEN_FILE.*\.\/\.mezz\/token/ },
    { name: 'a wrong token: which one was sent', err: refused(grpc.status.UNAUTHENTICATED, 'the token presented is not valid'), source: 'MEZZ_TOKEN', want: /not valid; mezz sent the token from MEZZ_TOKEN/ },
    { name: 'a missing permission: where it is granted', err: refused(grpc.status.PERMISSION_DENIED, 'principal ops may not kill_task'), source: '--token', want: /may not kill_task; use the token of a principal that may, or allow it in the master's --acls file/ },
    { name: 'anything else: unchanged', err: refused(grpc.status.NOT_FOUND, 'task t is not known'), source: '--token', want: /^NOT_FOUND: task t is not known$/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const out = explainRefusal(c.err, c.source) as CliError;
      assert.match(out.message, c.want);
      assert.equal(out.message.includes('\n'), false, 'one line');
    });
  }
});
